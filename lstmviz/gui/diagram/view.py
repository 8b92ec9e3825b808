"""The cell diagram view: draws the Document's cell at its current step.

It subscribes to the Document (step, trace, model, selection, unit) and writes to it only
through `set_selection` / `set_unit` when the learner clicks. The numbers it paints come
from `lstmviz.core.explain.step_vectors` and the colors from `lstmviz.core.colormap`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QToolTip

from lstmviz.components import COMPONENTS, shapes_summary, to_html
from lstmviz.core.colormap import color_indices, format_cell, gradient_stops
from lstmviz.core.explain import format_vector, step_arrays, step_preactivations
from lstmviz.gui import style
from lstmviz.gui.binding import bind, weak_method
from lstmviz.gui.diagram import geometry as geo
from lstmviz.gui.diagram.items import (
    BoxItem,
    ColumnItem,
    DiagramItem,
    LabelItem,
    LegendItem,
    NodeItem,
    ProjectionItem,
    StaticText,
    WireItem,
)

TOOLTIP_VALUES = 8  # at most this many numbers of a vector in a tooltip


def whatif_banner(interventions) -> tuple[str, str]:
    """(the whole banner, its summary when the whole does not fit): the summary names each
    intervention by what it does, without its units and steps ("f = 1; h = c = 0")."""
    what = "; ".join(iv.describe() for iv in interventions)
    whole = f"What-if on: {what}. The values shown are the rerun's."
    tags = "; ".join(iv.describe().split(" (")[0] for iv in interventions)
    count = len(interventions)
    lead = "What-if on" if count == 1 else f"What-if on, {count} interventions"
    return whole, f"{lead}: {tags}. Values are the rerun's (hover for details)."


class DiagramScene(QGraphicsScene):
    """Tooltips are built when asked for (not on every step)."""

    def __init__(self, tooltip, parent=None):
        super().__init__(parent)
        self._tooltip = tooltip

    def helpEvent(self, event) -> None:
        for item in self.items(event.scenePos()):
            if isinstance(item, DiagramItem):
                unit = item.unit_at(item.mapFromScene(event.scenePos()))
                QToolTip.showText(
                    event.screenPos(), self._tooltip(item.component, unit) or "", event.widget()
                )
                event.accept()
                return
            if item.toolTip():
                QToolTip.showText(event.screenPos(), item.toolTip(), event.widget())
                event.accept()
                return
        QToolTip.hideText()
        event.ignore()


class CellDiagram(QGraphicsView):
    """The LSTM cell in the classic layout, alive at the Document's current step."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.setObjectName("cellDiagram")
        self.setScene(DiagramScene(weak_method(self.tooltip_for), self))
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(style.BACKGROUND)
        # One rectangle around everything a step changes (the columns, the title), not the
        # region of their rects: a painter clipped to a many-rect region draws each column's
        # scaled image through a slow path (0.2 ms instead of 0.02 ms per column); the static
        # parts inside the rectangle are blitted from their caches (items.STATIC_CACHE).
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumSize(360, 240)
        self.setToolTip("")
        self.setWhatsThis(
            "The LSTM cell at the current step. Hover any box, circle or wire for its formula and "
            "the shapes of its terms; click it to work through its arithmetic in the Inspector; "
            "click a colored cell to pick that unit."
        )
        self._items: dict[str, list[DiagramItem]] = {}
        self._columns: dict[str, ColumnItem] = {}
        self._shape: tuple | None = None
        self._rebuild()
        doc = document
        bind(self, doc.step_changed, self._on_step)
        bind(self, doc.trace_changed, self._on_trace)
        bind(self, doc.selection_changed, self._on_selection)
        bind(self, doc.unit_changed, self._on_unit)
        bind(self, doc.source_changed, self._on_source)
        bind(self, doc.interventions_changed, self._on_interventions)
        from lstmviz.gui.rerun import StaleStep

        self._stale_step = StaleStep(self, doc, self._on_stale_changed)

    # -- building ----------------------------------------------------------------------------
    def _rebuild(self) -> None:
        doc = self.document
        n, m = doc.n, doc.m
        p = doc.params.h_size if doc.params.projected else None
        self._shape = self._shape_of(doc)
        scene = self.scene()
        scene.clear()
        self._items = {}
        self._columns = {}
        g = geo.layout(n, m, p)
        self._geometry = g
        scene.setSceneRect(QRectF(0, 0, g.width, g.height))

        bx, by, bw, bh = g.cell_body
        path = QPainterPath()
        path.addRoundedRect(QRectF(bx, by, bw, bh), 22, 22)
        cell = scene.addPath(path, QPen(style.CELL_BORDER, 2.5), style.CELL_FILL)
        cell.setZValue(0)
        cell.setToolTip("The LSTM cell: one step of the recurrence (PyTorch notation).")

        pick = weak_method(self._pick)
        for wire in g.wires:
            self._add(WireItem(wire.component, pick, wire))
        for gate, (center, symbol, caption) in g.boxes.items():
            if gate == "f" and doc.params.input_forget:  # ONNX input_forget: f is not a layer
                symbol = "1−i"
            self._add(BoxItem(gate, pick, center, symbol, caption))
        for op, (center, symbol) in g.nodes.items():
            self._add(NodeItem(op, pick, center, symbol))
        if g.projection is not None:
            self._add(ProjectionItem(pick, *g.projection))
        for column in g.columns:
            item = ColumnItem(column.component, pick, column, COMPONENTS[column.component].symbol)
            self._columns[column.component] = item
            self._add(item)
        for cid, text, anchor, align, size in g.labels:
            self._add(LabelItem(cid, pick, text, anchor, align, size))
        # (each ends before the rising h_t wire: a longer text is summarised, whole in its tooltip)
        self._title = StaticText(g.title_pos, max_width=g.title_width)
        scene.addItem(self._title)
        self._whatif_note = StaticText((g.title_pos[0], g.title_pos[1] + 24), size=14,
                                       color=style.WHATIF, bold=True, max_width=g.title_width)
        scene.addItem(self._whatif_note)
        # (what-if never runs in steps: the two notes never show at once)
        self._stale_note = StaticText((g.title_pos[0], g.title_pos[1] + 24), size=14,
                                      color=style.STALE, bold=True, max_width=g.title_width)
        scene.addItem(self._stale_note)
        scene.addItem(LegendItem(*g.legend_pos, gradient_stops()))

        self._refresh_values()
        self._on_interventions()
        self._on_selection(doc.selection)
        self.fit()

    @staticmethod
    def _shape_of(doc) -> tuple:
        return (doc.n, doc.m, (doc.params.h_size if doc.params.projected else None),
                bool(doc.params.input_forget))

    def _vectors(self) -> dict[str, np.ndarray]:
        """The diagram's vectors at this step; a projected cell's mul_o is r_t (n values)."""
        doc = self.document
        vectors = step_arrays(doc.trace, doc.step, doc.params.cell_activation)
        if doc.trace.r is not None:
            vectors["mul_o"] = np.array(doc.trace.r[doc.step], dtype=np.float64)
        return vectors

    def _add(self, item: DiagramItem) -> None:
        self.scene().addItem(item)
        self._items.setdefault(item.component, []).append(item)

    # -- Document events -----------------------------------------------------------------------
    def _on_step(self, step: int) -> None:
        self._refresh_values()

    def _on_stale_changed(self) -> None:
        # the row of this step has just been computed for the edited cell (or has become stale)
        self._refresh_values()

    @property
    def stale_note(self) -> str:
        return self._stale_note._text

    def _on_trace(self, trace) -> None:
        # (params_changed comes before the new trace: everything is redrawn from here)
        caught_up = self._stale_step.caught_up(trace)
        if self._shape_of(self.document) != self._shape:
            self._rebuild()
        elif not caught_up:  # (the end of a rerun in steps changes nothing at this step)
            self._refresh_values()

    def _on_interventions(self, *_args) -> None:
        """Mark what an active what-if intervention changes: the values drawn are the rerun's."""
        doc = self.document
        marked = {}
        if doc.interventions:  # (what-if only: its module is not needed for the first paint)
            from lstmviz.gui.analysis.interventions import marks

            marked = marks(doc.interventions)
        for cid, items in self._items.items():
            for item in items:
                setter = getattr(item, "set_whatif", None)
                if setter is not None:
                    setter("; ".join(marked.get(cid, ())))
        if doc.interventions:
            self._whatif_note.set_text(*whatif_banner(doc.interventions))
        else:
            self._whatif_note.set_text("")

    def whatif_marks(self) -> dict[str, str]:
        """{component id: its what-if tag} for every marked part (for tests and tools)."""
        out = {}
        for cid, items in self._items.items():
            for item in items:
                if getattr(item, "whatif", ""):
                    out[cid] = item.whatif
        return out

    @property
    def whatif_note(self) -> str:
        return self._whatif_note._text

    def _on_source(self) -> None:
        self._refresh_title()

    def _on_selection(self, component: str) -> None:
        unit = self.document.unit
        for cid, items in self._items.items():
            for item in items:
                item.set_selected_component(cid == component)
        for cid, column in self._columns.items():
            column.set_unit(unit if cid == component else None)

    def _on_unit(self, unit: int) -> None:
        self._on_selection(self.document.selection)

    def _refresh_values(self) -> None:
        vectors = self._vectors()
        for cid, column in self._columns.items():
            values = vectors[cid]
            texts = [format_cell(v) for v in values] if column.show_numbers else None
            column.set_values(values, color_indices(values), texts)
        self._refresh_title()

    def _refresh_title(self) -> None:
        doc = self.document
        self._stale_note.set_text(
            f"Rerunning the edited cell: step {doc.step} is not reached yet; "
            "the values shown are from before the edit."
            if doc.stale() else "")
        title = doc.title or doc.params.name or "LSTM cell"
        self._title.set_text(
            f"t = {doc.step}  (of 0…{doc.T - 1})   ·   {title}   ·   n = {doc.n}, m = {doc.m}"
            + (f", p = {doc.params.h_size} (projected)" if doc.params.projected else "")
        )

    # -- clicks and tooltips -------------------------------------------------------------------
    def _pick(self, component: str, unit: int | None) -> None:
        doc = self.document
        if unit is not None and component != "x" and unit < doc.n:
            doc.set_unit(unit)
        doc.set_selection(component)

    def tooltip_for(self, component: str, unit: int | None = None) -> str:
        doc = self.document
        comp = COMPONENTS[component]
        n, m = doc.n, doc.m
        p = doc.params.h_size if doc.params.projected else None
        shapes = shapes_summary(component, n, m, doc.params.has_peepholes, p)
        formula = comp.formula
        if p is not None and component == "h":
            formula = f"h_t = W_hr·r_t  (the projection, W_hr {p}×{n}), r_t = o_t ⊙ tanh(c_t)"
        elif p is not None and component == "mul_o":
            formula = f"r_t = o_t ⊙ tanh(c_t)  ({n} values; h_t = W_hr·r_t has {p})"
        lines = [
            f"<b>{to_html(comp.name)}</b>",
            to_html(formula),
            f"<span style='color:{style.HTML_MUTED}'>{to_html(shapes)}</span>",
        ]
        vectors = {cid: tuple(float(v) for v in a) for cid, a in self._vectors().items()}
        t = doc.step
        if comp.is_gate:
            z = step_preactivations(doc.trace, t)[component]
            lines.append(
                f"at t = {t}: z<sub>{component}</sub> = {_short(z)} → "
                f"{to_html(comp.symbol)} = {_short(vectors[component])}"
            )
        elif component in vectors:
            lines.append(f"at t = {t}: {to_html(comp.symbol)} = {_short(vectors[component])}")
        if unit is not None and component in vectors and unit < len(vectors[component]):
            from lstmviz.core.explain import format_number

            lines.append(
                f"<b>{to_html(comp.symbol)}[{unit}] = {format_number(vectors[component][unit], 6)}</b>"
            )
        marked = self.whatif_marks().get(component)
        if marked:
            lines.append(f"<b style='color:{style.HTML_WHATIF}'>What-if: {marked}</b> "
                         "(the values are the rerun's)")
        lines.append(f"<i style='color:{style.HTML_MUTED}'>{to_html(comp.description)}</i>")
        lines.append("<i>Click to work through it in the Inspector.</i>")
        return "<br>".join(lines)

    # -- geometry ------------------------------------------------------------------------------
    def fit(self) -> None:
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fit()

    # -- for tests and other code ---------------------------------------------------------------
    def component_ids(self) -> list[str]:
        return list(self._items)

    def items_for(self, component: str) -> list[DiagramItem]:
        return list(self._items.get(component, []))

    def column(self, component: str) -> ColumnItem:
        return self._columns[component]

    def view_point(self, component: str, unit: int | None = None) -> QPoint:
        """Where to click (in viewport coordinates) to pick a component (and a unit)."""
        if unit is not None:
            rect = self._columns[component].cell_rect(unit)
            return self.mapFromScene(rect.center())
        item = self._items[component][0]
        if isinstance(item, WireItem):
            points = item.wire.points
            (x0, y0), (x1, y1) = points[0], points[1]
            return self.mapFromScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
        if isinstance(item, ColumnItem):
            return self.mapFromScene(item.cell_rect(0).center())
        return self.mapFromScene(item.shape().boundingRect().center())


def _short(values) -> str:
    values = tuple(values)
    if len(values) > TOOLTIP_VALUES:
        return format_vector(values[:TOOLTIP_VALUES], 3)[:-1] + ", …)"
    return format_vector(values, 3)

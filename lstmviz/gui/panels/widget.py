"""TracePanels: the stack of time plots under the diagram, one linked time axis.

It only listens to the Document and calls its setters (set_step, set_units, set_option).
Speed, at 100 000 steps: a step moves one thin cursor item per plot (cursor.py) over layers
that are cached as pixmaps (layers.py), so it repaints a few pixel columns; lines are drawn
from a per-pixel envelope; many units become one uint8 heatmap per quantity.
"""

from __future__ import annotations

import math
import time

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from lstmviz.colors import hex_color, input_color, unit_color
from lstmviz.document import DEFAULT_OPTIONS
from lstmviz.gui.binding import bind
from lstmviz.gui.panels.data import (
    QUANTITIES,
    color_scale,
    data_range,
    fixed_range,
    quantize,
    shown_quantities,
    trace_rows,
    trace_rows_between,
)
from lstmviz.gui.panels.layers import ensure_pixmap_cache
from lstmviz.gui.panels.plot import (
    BACKGROUND,
    BAR_WIDTH,
    NO_BAR_WIDTH,
    AlignedPlot,
    QuantityPlot,
    TimeViewBox,
)
from lstmviz.gui.panels.toolbar import PanelsToolbar
from lstmviz.gui.panels.units import UnitSelector

# The Document options the panels read: their one definition (types, defaults, what they
# mean) is lstmviz.document.state.ViewOptions.
PANEL_OPTIONS = {key: getattr(DEFAULT_OPTIONS, key) for key in DEFAULT_OPTIONS.keys()
                 if key.startswith("trace_")}
LINES_MAX = 12  # auto: more selected units than this draw as a heatmap
INPUT_LINES_MAX = 8  # auto: x_t as lines when m is at most this
INPUT_LINES_CAP = 16  # lines mode never draws more inputs than this
UNIT_LINES_CAP = 64  # ... nor more units than this (a heatmap shows them all)
PLOT_MIN_HEIGHT = 84
# During a rerun in steps the lines and the shade are redrawn this often (rows copied then).
PROGRESS_REDRAW_S = 0.2
# From this many steps a new trace of the same shape is copied into the plots one per frame.
RELOAD_IN_TURNS_FROM_T = 20_000
# Catching up, a frame copies at most this many values (rows x lines) into the plots: the last
# rows of a short rerun go into every plot in one frame (~2 ms of copying for five plots at
# T = 10 000); a 100 000-step plot of 8 lines takes two frames (one took ~13 ms of copying
# and the repaint of the whole plot).
CATCH_UP_VALUES = 1 << 19
FIGURE_WIDTH = 1100  # "Export picture" of the traces: at least this wide ...
FIGURE_PLOT_HEIGHT = 170  # ... and this tall per plot, whatever the dock shows on screen


class TracePanels(QtWidgets.QWidget):
    """c, h, i, f, g, o (and on request x and the pre-activations) over time."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        ensure_pixmap_cache(192)
        self._plots: dict[str, QuantityPlot] = {}
        self._shown: tuple[str, ...] = ()
        self._T = -1
        # a rerun in steps (lstmviz.gui.rerun): a plot's lines hold the cell's rows up to here
        self._plot_fresh: dict[str, int] = {}
        self._last_redraw = 0.0
        self._caught_up = None  # the trace whose trace_changed needs no reload
        self._highlight: str | None = None

        self.toolbar = PanelsToolbar()
        self.units = UnitSelector()
        self.view = _layout_widget()
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.view.ci.setSpacing(3)
        # items paint inside their bounding rects: no 2-px margin around every dirty rect
        # (which would also repaint each plot's axes whenever its view changes)
        flag = QtWidgets.QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
        self.view.setOptimizationFlag(flag, True)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.view)

        # The time axis under the stack: it stays visible while the plots scroll, and its
        # (invisible) ViewBox is the one every plot links its time range to.
        self.footer = _layout_widget()
        self.footer.ci.setContentsMargins(2, 0, 2, 0)
        self.footer.setFixedHeight(30)
        self.footer.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.time_vb = TimeViewBox(enableMenu=False, defaultPadding=0.0)
        self.time_item = AlignedPlot(self.time_vb, bottom_axis=True)
        self.time_item.left.setStyle(showValues=False)
        self.time_item.left.setPen(pg.mkPen(None))
        self.time_vb.setMouseEnabled(x=True, y=False)
        self.time_vb.disableAutoRange()
        self.time_vb.setMaximumHeight(0)
        self._right_width = -1
        self.footer.addItem(self.time_item)
        self._footer_box = QtWidgets.QHBoxLayout()
        self._footer_box.setContentsMargins(0, 0, 0, 0)
        self._footer_box.addWidget(self.footer)

        plots_box = QtWidgets.QVBoxLayout()
        plots_box.setContentsMargins(0, 0, 0, 0)
        plots_box.setSpacing(0)
        plots_box.addWidget(self.scroll, 1)
        plots_box.addLayout(self._footer_box)
        body = QtWidgets.QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)
        body.addWidget(self.units)
        body.addLayout(plots_box, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.setSpacing(3)
        layout.addWidget(self.toolbar)
        layout.addLayout(body, 1)
        self.setMinimumHeight(180)

        self.toolbar.optionEdited.connect(self.document.set_option)
        self.toolbar.fitRequested.connect(self.fit)
        self.units.unitsEdited.connect(self.document.set_units)
        self.scroll.verticalScrollBar().rangeChanged.connect(self._align_footer)
        self._hover_proxy = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=30, slot=self._on_hover)
        self._hovering = False
        self.view.viewport().installEventFilter(self)

        for signal, slot in (
            (document.trace_changed, self._on_trace_changed),
            (document.trace_progress, self._on_trace_progress),
            (document.step_changed, self._on_step_changed),
            (document.units_changed, self._on_units_changed),
            (document.unit_changed, self._on_unit_changed),
            (document.selection_changed, self._on_selection_changed),
            (document.option_changed, self._on_option_changed),
        ):
            bind(self, signal, slot)

        self.toolbar.sync(self.options())
        self.units.set_n(document.n)
        self.units.set_units(document.units)
        self.units.set_focus(document.unit)
        self._rebuild_stack()
        self._load_trace()
        self._on_selection_changed(document.selection)

    # -- public, for the window and the tests ---------------------------------------------------
    def plot(self, name: str) -> QuantityPlot:
        """The plot of one quantity ('c', 'h', 'i', 'f', 'g', 'o', 'x', 'zi', ...)."""
        return self._plots[name]

    @property
    def shown(self) -> tuple[str, ...]:
        return self._shown

    @property
    def highlighted(self) -> str | None:
        return self._highlight

    def option(self, key: str):
        value = self.document.option(key)
        return PANEL_OPTIONS[key] if value is None else value

    def options(self) -> dict:
        return {key: self.option(key) for key in PANEL_OPTIONS}

    def time_range(self) -> tuple[float, float]:
        lo, hi = self.time_vb.viewRange()[0]
        return float(lo), float(hi)

    def set_time_range(self, lo: float, hi: float) -> None:
        views = [self._plots[name].vb for name in self._shown]
        if self._lined_up(views):
            # Every plot spans the same screen columns as the time axis, so pyqtgraph's link
            # (which maps the range through both views' screen geometry, twice per plot)
            # would give each the same range: set it directly, links held meanwhile.
            views.append(self.time_vb)
            for vb in views:
                vb.blockLink(True)
            try:
                for vb in views:
                    vb.setXRange(lo, hi, padding=0)
            finally:
                for vb in views:
                    vb.blockLink(False)
        else:
            self.time_vb.setXRange(lo, hi, padding=0)
        # pyqtgraph applies a new range at paint time, and the items that follow the view
        # then ask for a second paint: apply it now, so one paint pass draws the frame
        self.time_vb.updateMatrix()
        for name in self._shown:
            self._plots[name].vb.updateMatrix()

    def _lined_up(self, views) -> bool:
        """Whether every plot's ViewBox has the time axis's width and left edge (the layout
        keeps them so; not while a scroll bar appears, or a resize is half applied)."""
        time_vb = self.time_vb
        width, left = time_vb.width(), time_vb.scenePos().x()
        view_x = self.view.mapTo(self, QtCore.QPoint(0, 0)).x()
        if view_x != self.footer.mapTo(self, QtCore.QPoint(0, 0)).x():
            return False
        return all(vb.width() == width and vb.scenePos().x() == left for vb in views)

    # -- the exported figure ------------------------------------------------------------------------
    def figure_size(self) -> QtCore.QSize:
        """The size "Export picture" draws the traces at: every plot shown, each tall enough to
        read, with the time axis under them; not the dock's scrolled viewport and controls."""
        width = max(self.view.width(), FIGURE_WIDTH)
        return QtCore.QSize(width, len(self._shown) * FIGURE_PLOT_HEIGHT + self.footer.height())

    def render_figure(self, painter) -> None:
        """Draw the figure (figure_size) with `painter`: the plot stack laid out at figure size
        for the duration of the drawing, then put back as it was."""
        size = self.figure_size()
        view, footer = self.view, self.footer
        old_view, old_footer = view.size(), footer.size()
        highlighted = self._plots[self._highlight] if self._highlight in self._shown else None
        scroll_value = self.scroll.verticalScrollBar().value()
        # a resizable scroll area sizes its widget back to the viewport at once
        self.scroll.setWidgetResizable(False)
        try:
            if highlighted is not None:
                highlighted.set_highlight(False)  # a figure has no selection frame
            view.resize(size.width(), size.height() - footer.height())
            footer.resize(size.width(), footer.height())
            for widget in (view, footer):
                widget.ci.layout.activate()
                widget.scene().prepareForPaint()
            QtWidgets.QWidget.render(view, painter, QtCore.QPoint(0, 0))
            QtWidgets.QWidget.render(footer, painter, QtCore.QPoint(0, size.height() - footer.height()))
        finally:
            view.resize(old_view)
            footer.resize(old_footer)
            self.scroll.setWidgetResizable(True)
            self.scroll.verticalScrollBar().setValue(scroll_value)
            if highlighted is not None:
                highlighted.set_highlight(True)

    def fit(self) -> None:
        T = self.document.T
        self.set_time_range(-0.5, max(T - 0.5, 0.5))

    # -- building -----------------------------------------------------------------------------
    def _rebuild_stack(self) -> None:
        """Lay out the plots the options ask for; the time range stays as it is."""
        shown = shown_quantities(self.option("trace_show_x"), self.option("trace_show_z"))
        if shown == self._shown:
            return
        layout = self.view.ci
        for name in self._shown:
            layout.removeItem(self._plots[name].item)
        added = [name for name in shown if name not in self._shown]
        for row, name in enumerate(shown):
            plot = self._plots.get(name) or self._make_plot(name)
            layout.addItem(plot.item, row=row, col=0)
        self._shown = shown
        self.view.setMinimumHeight(len(shown) * PLOT_MIN_HEIGHT)
        if self._T >= 0:  # plots that were hidden may hold an old trace
            for name in added:
                self._plots[name].set_time_extent(self._T)
                self._load_plot(self._plots[name])
            self._apply_animation()
            self._update_right_column()
        if self._highlight in self._shown:
            self._plots[self._highlight].set_highlight(True)

    def _make_plot(self, name: str) -> QuantityPlot:
        plot = QuantityPlot(QUANTITIES[name])
        plot.vb.setXLink(self.time_vb)
        plot.vb.sigTimeClicked.connect(self._scrub)
        plot.cursor.sigDragged.connect(self._scrub)
        self._plots[name] = plot
        return plot

    def _fit_y_ranges(self) -> None:
        params = self.document.params
        for name in self._shown:
            plot = self._plots[name]
            fixed = (fixed_range(name, params.recurrent_activation, params.cell_activation)
                     if plot.quantity.per_unit else None)
            lo, hi = fixed or data_range(plot.lines.rows)
            pad = 0.06 * (hi - lo)
            plot.vb.setYRange(lo - pad, hi + pad, padding=0)

    def _load_trace(self) -> None:
        self._load_trace_now()
        self._plot_fresh = {name: self.document.computed_steps for name in self._shown}
        for name in self._shown:
            self._shade(name)

    @property
    def catching_up(self) -> bool:
        """True while some plot does not hold the whole current trace yet (a rerun in steps
        streams in, or its last rows are still being copied, CATCH_UP_VALUES a frame)."""
        T = self.document.T
        return self.document.rerunning or any(self._plot_fresh.get(name, 0) < T for name in self._shown)

    def _shade(self, name: str) -> None:
        """Shade the steps plot `name` still shows from the run before an edit: from the
        rows it holds of the new run on (each plot's lines are copied in their own turn,
        and a heatmap only at the end of the rerun)."""
        fresh = self._plot_fresh.get(name, 0)
        self._plots[name].set_stale_from(None if fresh >= self.document.T else fresh)

    def _load_trace_now(self) -> None:
        doc = self.document
        T = doc.T
        new_extent = T != self._T
        self._T = T
        for name in self._shown:
            plot = self._plots[name]
            if new_extent:
                plot.set_time_extent(T)
            self._load_plot(plot)
        if new_extent:
            self.time_vb.setLimits(xMin=-0.5, xMax=max(T - 0.5, 0.5))
            if self.option("trace_follow"):
                self._follow(doc.step)
            else:
                self.fit()
        self._apply_animation()
        self._update_right_column()

    def _update_right_column(self) -> None:
        """Room for color bars only when some plot is a heatmap; the same in every plot."""
        heat = any(self._plots[name].mode == "heatmap" for name in self._shown)
        width = BAR_WIDTH if heat else NO_BAR_WIDTH
        if width != self._right_width:
            self._right_width = width
            for plot in self._plots.values():
                plot.set_right_width(width)
            self.time_item.set_right_width(width)

    def _mode(self, name: str) -> str:
        display = self.option("trace_display")
        if display in ("lines", "heatmap"):
            return display
        if name == "x":
            return "lines" if self.document.m <= INPUT_LINES_MAX else "heatmap"
        return "lines" if 1 <= len(self.document.units) <= LINES_MAX else "heatmap"

    def _load_plot(self, plot: QuantityPlot) -> None:
        doc = self.document
        trace, params, name = doc.trace, doc.params, plot.name
        per_unit = plot.quantity.per_unit
        fixed = fixed_range(name, params.recurrent_activation, params.cell_activation) if per_unit else None
        if self._mode(name) == "lines":
            labels = self._labels(name, trace)
            colors = [(unit_color if per_unit else input_color)(k) for k in labels]
            rows = trace_rows(trace, name, labels)
            plot.show_lines(rows, labels, colors, fixed or data_range(rows))
            if per_unit:
                plot.lines.set_emphasis(doc.unit)
                drawn = set(labels)
                if not doc.units and labels == (doc.unit,):
                    extra = f"unit {doc.unit} (the inspector's); select more units on the left"
                elif len(drawn & set(doc.units)) < len(doc.units):
                    extra = f"{len(labels)} of {len(doc.units)} selected units"
                else:
                    extra = ""
                plot.set_title_extra(extra)
            else:
                plot.set_title_extra(self._input_legend(labels))
        else:
            values = trace.quantity(name)
            scale = color_scale(name, values, fixed)
            plot.show_heatmap(quantize(values, scale.lo, scale.hi), values, scale)
            k, T = values.shape[1], values.shape[0]
            rows = ("input" if not per_unit else "unit") + ("s" if k != 1 else "")
            plot.set_title_extra(f"{k} {rows} \u00d7 {T:,} step{'s' if T != 1 else ''}".replace(",", " "))

    def _input_legend(self, labels) -> str:
        names = self.document.input_names
        parts = []
        for j in labels:
            text = names[j] if j < len(names) else f"x{j}"
            parts.append(f"<span style='color:{hex_color(input_color(j))}'>{text}</span>")
        more = self.document.m - len(labels)
        if more > 0:
            parts.append(f"(+{more} not drawn)")
        return " ".join(parts)

    # -- animation ----------------------------------------------------------------------------
    def _apply_animation(self) -> None:
        grow = self.option("trace_animation") == "grow"
        step = self.document.step
        for name in self._shown:
            plot = self._plots[name]
            plot.set_grow(grow, step)
            plot.cursor.set_step(step)

    def _follow(self, step: int) -> None:
        T = self.document.T
        width = max(10, int(self.option("trace_window")))
        if width >= T:
            lo, hi = -0.5, T - 0.5
        else:
            lo = step - 0.75 * width
            lo = min(max(lo, -0.5), T - 0.5 - width)
            hi = lo + width
        cur_lo, cur_hi = self.time_range()
        if not (math.isclose(lo, cur_lo, abs_tol=1e-6) and math.isclose(hi, cur_hi, abs_tol=1e-6)):
            self.set_time_range(lo, hi)

    # -- Document events ----------------------------------------------------------------------
    def _on_trace_changed(self, trace) -> None:
        caught_up, self._caught_up = self._caught_up, None
        if trace is caught_up:  # the end of a rerun in steps: the lines are catching up already
            return
        # a new model may change n (and with it the Document's units) without other events
        doc = self.document
        self.units.set_n(doc.n)
        self.units.set_units(doc.units)
        self.units.set_focus(doc.unit)
        if not self._reload_in_turns(trace):
            self._load_trace()

    def _reload_in_turns(self, trace) -> bool:
        """A whole new trace of the same shape on a long sequence (what-if turned on or off,
        an edit computed in the background): copy it into the lines one plot per frame, as
        at the end of a rerun, each plot shaded until its turn, instead of one frame that
        reloads every plot (~70 ms at T = 100 000). False (reload at once) otherwise."""
        doc = self.document
        if doc.rerunning or doc.T < RELOAD_IN_TURNS_FROM_T or doc.T != self._T:
            return False
        for name in self._shown:
            plot = self._plots[name]
            if plot.mode != "lines" or self._mode(name) != "lines" or plot.lines.rows.shape[1] != doc.T:
                return False
            if plot.lines.labels != self._labels(name, trace):
                return False
        for name in self._shown:
            self._plot_fresh[name] = 0
            self._shade(name)
        self._catch_up_next()
        return True

    def _labels(self, name: str, trace) -> tuple[int, ...]:
        """The units (inputs, for x) plot `name` draws as lines."""
        doc = self.document
        if not self._plots[name].quantity.per_unit:
            return tuple(range(min(doc.m, INPUT_LINES_CAP)))
        labels = plotted_units(doc.units, doc.unit, doc.n)
        width = trace.quantity(name).shape[1]
        if width < doc.n:  # h of a projected (LSTMP) cell has p < n entries
            labels = tuple(k for k in labels if k < width) or (min(doc.unit, width - 1),)
        return labels

    def _on_trace_progress(self, computed: int) -> None:
        """A rerun in steps: copy the rows it has computed into the lines, one plot per frame
        a few times a second (a redraw of every plot at once would be a frame of ~40 ms at
        T = 100 000), so the end of the rerun needs no reload; each plot shades the steps it
        does not hold yet. Heatmaps are reloaded once, at the end."""
        doc = self.document
        for name in self._shown:
            if self._plot_fresh.get(name, 0) > computed:  # a (re)start: stale from here again
                self._plot_fresh[name] = computed
                self._shade(name)
        now = time.perf_counter()
        lines = [name for name in self._shown if self._plots[name].mode == "lines"
                 and self._plots[name].lines.rows.shape[1] == doc.T]
        if not doc.rerunning:  # done: the rest catch up one plot per frame, then no reload
            if len(lines) == len(self._shown):
                self._caught_up = doc.trace
            self._catch_up_next()
            return
        # a rerun that ends before the next redraw would be due is shown whole at its end
        # (copying and repainting rows on the way would only make it end later)
        left = doc.rerun_seconds_left
        ending = left is not None and left < PROGRESS_REDRAW_S
        if lines and not ending and now - self._last_redraw >= PROGRESS_REDRAW_S / len(lines):
            self._last_redraw = now
            self._copy_rows(min(lines, key=lambda name: self._plot_fresh.get(name, 0)), computed)

    def _copy_rows(self, name: str, computed: int) -> None:
        plot, lo = self._plots[name], self._plot_fresh.get(name, 0)
        labels = plot.lines.labels
        if labels and max(labels) >= self.document.trace.quantity(name).shape[1]:
            # a rerun ended by a model of another size: its trace_changed reloads every plot
            return
        if computed > lo:
            block = trace_rows_between(self.document.trace, name, plot.lines.labels, lo, computed)
            plot.lines.update_columns(lo, block)
        self._plot_fresh[name] = computed
        self._shade(name)

    def _catch_up_next(self) -> None:
        doc = self.document
        if doc.rerunning:
            return
        copied = 0
        for name in self._shown:
            plot = self._plots[name]
            lo = self._plot_fresh.get(name, 0)
            if plot.mode == "lines" and plot.lines.rows.shape[1] == doc.T and lo < doc.T:
                lines = max(1, len(plot.lines.labels))
                if copied and copied + (doc.T - lo) * lines > CATCH_UP_VALUES:
                    break  # whole plots per frame; only a plot too big for one goes in parts
                hi = min(doc.T, lo + max(1, CATCH_UP_VALUES // lines))  # (100 000 x 8: two frames)
                self._copy_rows(name, hi)
                copied += (hi - lo) * lines
                if hi < doc.T:
                    break
        else:
            self._fit_y_ranges()
            return
        QtCore.QTimer.singleShot(0, self, self._catch_up_next)  # (not after self is deleted)

    def _on_step_changed(self, step: int) -> None:
        grow = self.option("trace_animation") == "grow"
        for name in self._shown:
            self._plots[name].set_step(step, grow)
        if self.option("trace_follow"):
            self._follow(step)

    def _on_units_changed(self, units) -> None:
        self.units.set_units(units)
        for name in self._shown:
            plot = self._plots[name]
            if plot.quantity.per_unit:
                # a heatmap shows every unit: it only needs reloading when the mode flips
                if plot.mode == "lines" or self._mode(name) == "lines":
                    self._load_plot(plot)
        self._update_right_column()

    def _on_unit_changed(self, unit: int) -> None:
        self.units.set_focus(unit)
        doc = self.document
        wanted = plotted_units(doc.units, unit, doc.n)
        for name in self._shown:
            plot = self._plots[name]
            if plot.quantity.per_unit and plot.mode == "lines":
                if plot.lines.labels != wanted:  # the inspector's unit is always drawn
                    self._load_plot(plot)
                else:
                    plot.lines.set_emphasis(unit)

    def _on_selection_changed(self, component: str) -> None:
        name = _quantity_for(component)
        if name == self._highlight:
            return
        if self._highlight in self._plots:
            self._plots[self._highlight].set_highlight(False)
        self._highlight = name
        if name in self._shown:
            plot = self._plots[name]
            plot.set_highlight(True)
            self._bring_forward(plot)

    def _on_option_changed(self, key: str, value) -> None:
        if key not in PANEL_OPTIONS:
            return
        self.toolbar.sync(self.options())
        if key in ("trace_show_x", "trace_show_z"):
            self._rebuild_stack()
        elif key == "trace_display":
            for name in self._shown:
                self._load_plot(self._plots[name])
            self._update_right_column()
        elif key == "trace_animation":
            self._apply_animation()
        elif key in ("trace_follow", "trace_window"):
            self._apply_animation()
            if self.option("trace_follow"):
                self._follow(self.document.step)

    # -- view helpers -------------------------------------------------------------------------
    def _scrub(self, x: float) -> None:
        self.document.set_step(int(round(x)))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # The layout has its geometry only now: show the selected plot.
        QtCore.QTimer.singleShot(0, self, self._bring_highlight_forward)

    def _bring_highlight_forward(self) -> None:
        if self._highlight in self._shown:
            self._bring_forward(self._plots[self._highlight])

    def _bring_forward(self, plot: QuantityPlot) -> None:
        rect = self.view.mapFromScene(plot.item.sceneBoundingRect()).boundingRect()
        if rect.height() <= 0:
            return
        self.scroll.ensureVisible(0, rect.center().y(), 0, rect.height() // 2 + 2)

    def plot_visible(self, name: str) -> bool:
        """Whether the plot is (at least mostly) inside the scroll area's viewport."""
        plot = self._plots.get(name)
        if plot is None or name not in self._shown:
            return False
        rect = self.view.mapFromScene(plot.item.sceneBoundingRect()).boundingRect()
        top = self.scroll.verticalScrollBar().value()
        bottom = top + self.scroll.viewport().height()
        return rect.top() >= top - 2 and rect.bottom() <= bottom + 2

    def _align_footer(self, lo: int, hi: int) -> None:
        # When the plots need a vertical scroll bar, the time axis must be as narrow as they are.
        bar = self.scroll.verticalScrollBar()
        right = bar.sizeHint().width() if hi > lo else 0
        self._footer_box.setContentsMargins(0, 0, right, 0)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QtCore.QEvent.Type.Enter:
            self._hovering = True
        elif kind == QtCore.QEvent.Type.Leave:
            self._hovering = False
            self.toolbar.set_readout("")
        return False

    def _on_hover(self, args) -> None:
        if not self._hovering:
            return
        pos = args[0]
        for name in self._shown:
            plot = self._plots[name]
            if plot.contains_scene_pos(pos):
                hit = plot.value_at_scene_pos(pos)
                if hit is None:
                    break
                t, row, value = hit
                if plot.quantity.per_unit:
                    color = hex_color(unit_color(row))
                    who = f"<span style='color:{color}'>unit {row}</span>"
                else:
                    names = self.document.input_names
                    label = names[row] if row < len(names) else f"x{row}"
                    who = f"<span style='color:{hex_color(input_color(row))}'>{label}</span>"
                self.toolbar.set_readout(
                    f"t = <b>{t}</b> &nbsp;{who}&nbsp; {plot.quantity.symbol} = <b>{value:.4g}</b>"
                )
                return
        self.toolbar.set_readout("")


def plotted_units(units, unit: int, n: int) -> tuple[int, ...]:
    """The units drawn as lines: the selected ones and the unit the inspector works through
    (so the unit you are reading about is always on the plot), at most UNIT_LINES_CAP."""
    chosen = sorted({int(k) for k in units if 0 <= int(k) < n})
    if 0 <= unit < n:
        others = [k for k in chosen if k != unit][: UNIT_LINES_CAP - 1]
        return tuple(sorted(others + [unit]))
    return tuple(chosen[:UNIT_LINES_CAP])


def _quantity_for(component: str) -> str | None:
    """The plot a diagram component id brings forward ("f" -> the forget gate's plot)."""
    if component in QUANTITIES:
        return component
    try:
        from lstmviz.components import quantity_for
    except ImportError:  # pragma: no cover - the component table is optional here
        return None
    try:
        name = quantity_for(component)
    except Exception:  # pragma: no cover - an id the table does not know
        return None
    return name if name in QUANTITIES else None


def _layout_widget() -> pg.GraphicsLayoutWidget:
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground(BACKGROUND)
    return widget

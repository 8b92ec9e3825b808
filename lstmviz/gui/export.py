"""Export from the window: gate traces (CSV, .npz) and pictures of the diagram and panels.

Traces are written by the same writer as `lstmviz trace` (so the CSV is byte-identical for
the same document), in a background Job: a progress dialog with Cancel appears when it takes
longer than half a second. Pictures are rendered on the GUI thread — PNG through QImage,
SVG through QSvgGenerator + QPainter (pyqtgraph 0.14.0's SVG exporter is broken) — and
written like everything else: a temporary file, then a rename. An unwritable folder or a
full disk gives one clear message; the document and any earlier file at that path are
untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QGraphicsView,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lstmviz.edits import compute_trace
from lstmviz.errors import LstmvizError
from lstmviz.gui import settings as prefs
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.workers import Job, describe_error
from lstmviz.io.atomic import atomic_write

TRACE_FORMATS = {"csv": "CSV (.csv)", "npz": "NumPy (.npz)"}
IMAGE_FORMATS = {".png": "PNG image", ".svg": "SVG drawing"}


# -- options -----------------------------------------------------------------------------------
def parse_units(text: str, n: int) -> list[int]:
    """'0-3, 7' -> [0, 1, 2, 3, 7]; an error names the field and the bad part."""
    units: list[int] = []
    raw = text.strip()
    if not raw:
        raise LstmvizError("units: empty; type unit numbers such as 0-3, 7")
    for part in re.split(r"[,\s]+", raw):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:\s*[-–]\s*(\d+))?", part)
        if match is None:
            raise LstmvizError(f"units: {part!r} is not a unit number or a range like 0-3")
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) is not None else lo
        if hi < lo:
            raise LstmvizError(f"units: the range {part!r} runs backwards")
        for k in (lo, hi):
            if not 0 <= k < n:
                raise LstmvizError(f"units: {k} is not a unit of this cell (0..{n - 1})")
        units.extend(range(lo, hi + 1))
    return sorted(set(units))


@dataclass
class TraceExportOptions:
    path: str
    format: str = "csv"  # csv | npz
    layout: str = "wide"
    preactivations: bool = False
    units: list[int] | None = None  # None: all
    steps: tuple[int, int] | None = None  # [start, stop), None: all


def write_trace_export(trace, options: TraceExportOptions, progress=None) -> None:
    """Qt-free: the CLI's writer for CSV, the trace .npz writer for npz."""
    if options.format == "npz":
        from lstmviz.io.trace_npz import write_trace_npz

        write_trace_npz(trace, options.path, preactivations=options.preactivations, units=options.units,
                        steps=options.steps, progress=progress)
    else:
        from lstmviz.io.csv import write_trace_csv

        write_trace_csv(trace, options.path, layout=options.layout, preactivations=options.preactivations,
                        units=options.units, steps=options.steps, progress=progress)


# -- pictures ----------------------------------------------------------------------------------
class _NoViewCache:
    """Render QGraphicsViews without their cached (bitmap) background, and the cell diagram's
    items without their pixmap caches, so SVG stays vector."""

    def __init__(self, widget: QWidget):
        views = widget.findChildren(QGraphicsView)
        if isinstance(widget, QGraphicsView):
            views.append(widget)
        self.views = [(v, v.cacheMode()) for v in views]
        # (the trace panels' layers stay cached: their pixmaps are what they draw, see layers.py)
        none = QGraphicsItem.CacheMode.NoCache
        self.items = [(item, item.cacheMode()) for view, _mode in self.views
                      if view.objectName() == "cellDiagram" and view.scene() is not None
                      for item in view.scene().items() if item.cacheMode() != none]

    def __enter__(self):
        for view, _mode in self.views:
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
            view.resetCachedContent()
        for item, _mode in self.items:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        return self

    def __exit__(self, *exc):
        for view, mode in self.views:
            view.setCacheMode(mode)
        for item, mode in self.items:
            item.setCacheMode(mode)


def _render(widget: QWidget, painter: QPainter) -> None:
    """QWidget.render as such (pyqtgraph's views override render() with QGraphicsView's
    signature), after letting pyqtgraph scenes bring their items up to date."""
    views = widget.findChildren(QGraphicsView) + ([widget] if isinstance(widget, QGraphicsView) else [])
    for view in views:
        prepare = getattr(view.scene(), "prepareForPaint", None)
        if callable(prepare):
            prepare()
    QWidget.render(widget, painter, QPoint())


def _figure(widget: QWidget):
    """(size, draw(painter)) of what a picture of `widget` shows: a view that has a figure of
    its own (the trace panels: every plot at a readable size, without the controls) draws
    that; anything else is drawn as it is on screen."""
    draw = getattr(widget, "render_figure", None)
    if callable(draw) and callable(getattr(widget, "figure_size", None)):
        return widget.figure_size(), draw
    return widget.size(), lambda painter: _render(widget, painter)


def render_png(widget: QWidget, scale: float = 2.0) -> bytes:
    size, draw = _figure(widget)
    image = QImage(QSize(max(1, int(size.width() * scale)), max(1, int(size.height() * scale))),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(scale)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        draw(painter)
    finally:
        painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise LstmvizError("could not encode the PNG image")
    return bytes(buffer.data())


def render_svg(widget: QWidget, title: str = "lstmviz") -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    size, draw = _figure(widget)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setTitle(title)
    generator.setDescription("exported by lstmviz")
    with _NoViewCache(widget):
        painter = QPainter(generator)
        try:
            draw(painter)
        finally:
            painter.end()
    return bytes(buffer.data())


def render_image(widget: QWidget, path, scale: float = 2.0, title: str = "lstmviz") -> bytes:
    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        return render_svg(widget, title)
    if suffix == ".png":
        return render_png(widget, scale)
    raise LstmvizError(f"unknown image format {suffix or '(no extension)'!r} (use .png or .svg)",
                       source=str(path))


def write_bytes(data: bytes, path, progress=None) -> None:
    """Atomically: a temporary file beside `path`, then a rename."""
    with atomic_write(path, "wb") as handle:
        step = 1 << 20
        for lo in range(0, len(data), step):
            handle.write(data[lo : lo + step])
            if progress is not None and progress((lo + step) / max(len(data), 1)) is False:
                from lstmviz.io.csv import ExportCancelled

                raise ExportCancelled()


def image_targets(window: QWidget) -> list[tuple[str, QWidget]]:
    """What can be pictured: the central widget (the diagram), each visible dock, the window."""
    targets: list[tuple[str, QWidget]] = []
    if isinstance(window, QMainWindow):
        central = window.centralWidget()
        if central is not None:
            title = central.windowTitle() or central.accessibleName() or "Cell diagram"
            targets.append((title, central))
        for dock in window.findChildren(QDockWidget):
            if dock.isVisible() and dock.widget() is not None and dock.parent() is window:
                targets.append((dock.windowTitle() or dock.objectName() or "panel", dock.widget()))
    targets.append(("Whole window", window))
    return targets


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "lstmviz"


# -- dialogs -----------------------------------------------------------------------------------
class TraceExportDialog(QDialog):
    """Format, layout, units, steps and file for a trace export."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.setObjectName("lstmviz-trace-export-dialog")
        self.setWindowTitle("Export gate traces")
        self.document = document
        T, n = document.T, document.n

        fmt_box = QGroupBox("Format", self)
        fmt = QHBoxLayout(fmt_box)
        self.format_group = QButtonGroup(self)
        self.format_buttons = {}
        for key, text in TRACE_FORMATS.items():
            radio = QRadioButton(text, fmt_box)
            radio.setObjectName(f"format-{key}")
            self.format_group.addButton(radio)
            self.format_buttons[key] = radio
            fmt.addWidget(radio)
        fmt.addStretch(1)

        layout_box = QGroupBox("Columns", self)
        lay = QVBoxLayout(layout_box)
        self.wide = QRadioButton("wide: one row per step (t, x_*, i_*, f_*, g_*, o_*, c_*, h_*)", layout_box)
        self.long = QRadioButton("long: one row per step and unit (t, unit, i, f, g, o, c, h)", layout_box)
        self.wide.setObjectName("layout-wide")
        self.long.setObjectName("layout-long")
        self.preactivations = QCheckBox("also the pre-activations zi, zf, zg, zo", layout_box)
        self.preactivations.setObjectName("preactivations")
        for w in (self.wide, self.long, self.preactivations):
            lay.addWidget(w)

        units_box = QGroupBox("Units", self)
        units = QVBoxLayout(units_box)
        self.all_units = QRadioButton(f"all {n} units", units_box)
        shown = ", ".join(map(str, document.units)) or "none"
        self.shown_units = QRadioButton(f"the units shown in the panels ({shown})", units_box)
        self.shown_units.setEnabled(bool(document.units))
        row = QHBoxLayout()
        self.some_units = QRadioButton("these:", units_box)
        self.units_text = QLineEdit(units_box)
        self.units_text.setObjectName("units")
        self.units_text.setPlaceholderText("e.g. 0-3, 7")
        self.units_text.textEdited.connect(lambda _t: self.some_units.setChecked(True))
        row.addWidget(self.some_units)
        row.addWidget(self.units_text, 1)
        self.all_units.setChecked(True)
        units.addWidget(self.all_units)
        units.addWidget(self.shown_units)
        units.addLayout(row)

        steps_box = QGroupBox("Steps", self)
        steps = QHBoxLayout(steps_box)
        self.all_steps = QRadioButton(f"all {T:,} steps".replace(",", " "), steps_box)
        self.step_range = QRadioButton("from", steps_box)
        self.step_from = QSpinBox(steps_box)
        self.step_to = QSpinBox(steps_box)
        self.step_from.setObjectName("step-from")
        self.step_to.setObjectName("step-to")
        for spin in (self.step_from, self.step_to):
            spin.setRange(0, T - 1)
            spin.setGroupSeparatorShown(True)
            spin.valueChanged.connect(lambda _v: self.step_range.setChecked(True))
        self.step_to.setValue(T - 1)
        self.all_steps.setChecked(True)
        steps.addWidget(self.all_steps)
        steps.addSpacing(12)
        steps.addWidget(self.step_range)
        steps.addWidget(self.step_from)
        steps.addWidget(QLabel("to", steps_box))
        steps.addWidget(self.step_to)
        steps.addWidget(QLabel("(inclusive)", steps_box))
        steps.addStretch(1)

        file_row = QHBoxLayout()
        self.path = QLineEdit(self)
        self.path.setObjectName("path")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("File:", file_row)

        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)

        main = QVBoxLayout(self)
        main.setContentsMargins(14, 14, 14, 14)
        main.setSpacing(8)
        for w in (fmt_box, layout_box, units_box, steps_box):
            main.addWidget(w)
        main.addLayout(form)
        main.addWidget(self.error)
        main.addWidget(buttons)

        fmt_key = str(prefs.get("export/format"))
        self.format_buttons.get(fmt_key, self.format_buttons["csv"]).setChecked(True)
        (self.long if prefs.get("export/layout") == "long" else self.wide).setChecked(True)
        self.preactivations.setChecked(bool(prefs.get("export/preactivations")))
        self.format_group.buttonToggled.connect(self._format_changed)
        self.path.setText(str(Path(prefs.last_dir()) / f"{self._stem()}-trace.{self.format}"))
        self._format_changed()
        self.resize(600, self.sizeHint().height())

    def _stem(self) -> str:
        doc_path = self.document.document_path
        if doc_path:
            return Path(doc_path).stem
        return _slug(self.document.title or "lstmviz")

    @property
    def format(self) -> str:
        return "npz" if self.format_buttons["npz"].isChecked() else "csv"

    def _format_changed(self, *_args) -> None:
        csv = self.format == "csv"
        self.wide.setEnabled(csv)
        self.long.setEnabled(csv)
        text = self.path.text()
        if text:
            self.path.setText(str(Path(text).with_suffix(f".{self.format}")))

    def _browse(self) -> None:
        pattern = "CSV files (*.csv)" if self.format == "csv" else "NumPy archives (*.npz)"
        path, _ = QFileDialog.getSaveFileName(self, "Export gate traces", self.path.text(), pattern)
        if path:
            self.path.setText(path)

    def options(self) -> TraceExportOptions:
        """The choices, checked; an LstmvizError names the field."""
        path = self.path.text().strip()
        if not path:
            raise LstmvizError("file: choose where to write the traces")
        if Path(path).suffix.lower() != f".{self.format}":
            suffix = f".{self.format}"
            path = str(Path(path).with_suffix(suffix)) if Path(path).suffix else f"{path}{suffix}"
        units = None
        if self.shown_units.isChecked():
            units = list(self.document.units)
        elif self.some_units.isChecked():
            units = parse_units(self.units_text.text(), self.document.n)
        steps = None
        if self.step_range.isChecked():
            lo, hi = self.step_from.value(), self.step_to.value()
            if hi < lo:
                raise LstmvizError(f"steps: from {lo} to {hi} runs backwards")
            steps = (lo, hi + 1)
        layout = "long" if self.long.isChecked() else "wide"
        return TraceExportOptions(path=path, format=self.format, layout=layout,
                                  preactivations=self.preactivations.isChecked(), units=units, steps=steps)

    def _accept(self) -> None:
        try:
            self.options()
        except LstmvizError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        prefs.put("export/format", self.format)
        prefs.put("export/layout", "long" if self.long.isChecked() else "wide")
        prefs.put("export/preactivations", self.preactivations.isChecked())
        self.accept()


class ImageExportDialog(QDialog):
    """Which part of the window, which file (.png or .svg), and the PNG scale."""

    def __init__(self, window: QWidget, parent=None, default_name: str = "lstmviz"):
        super().__init__(parent or window)
        self.setObjectName("lstmviz-image-export-dialog")
        self.setWindowTitle("Export a picture")
        self.targets = image_targets(window)
        self.target = QComboBox(self)
        self.target.setObjectName("target")
        for label, _widget in self.targets:
            self.target.addItem(label)
        self.format = QComboBox(self)
        self.format.setObjectName("format")
        for suffix, text in IMAGE_FORMATS.items():
            self.format.addItem(f"{text} ({suffix})", suffix)
        self.scale = QSpinBox(self)
        self.scale.setObjectName("scale")
        self.scale.setRange(1, 4)
        self.scale.setSuffix("×")
        self.scale.setValue(int(prefs.get("export/image_scale")))
        self.path = QLineEdit(self)
        self.path.setObjectName("path")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Picture of:", self.target)
        form.addRow("Format:", self.format)
        form.addRow("PNG scale:", self.scale)
        form.addRow("File:", file_row)
        note = QLabel("SVG keeps lines and text as vectors; PNG is a bitmap at the chosen scale.", self)
        note.setStyleSheet("color: #555555;")
        note.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        ok = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._default_name = default_name
        self.target.currentIndexChanged.connect(self._update_path)
        self.format.currentIndexChanged.connect(self._update_path)
        self._update_path()
        self.resize(520, self.sizeHint().height())

    def _update_path(self, *_args) -> None:
        suffix = self.format.currentData()
        self.scale.setEnabled(suffix == ".png")
        label = self.targets[self.target.currentIndex()][0]
        current = self.path.text().strip()
        folder = Path(current).parent if current else Path(prefs.last_dir())
        self.path.setText(str(folder / f"{_slug(self._default_name)}-{_slug(label)}{suffix}"))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export a picture", self.path.text(),
                                              "PNG images (*.png);;SVG drawings (*.svg)")
        if path:
            self.path.setText(path)
            suffix = Path(path).suffix.lower()
            index = self.format.findData(suffix)
            if index >= 0:
                self.format.blockSignals(True)
                self.format.setCurrentIndex(index)
                self.format.blockSignals(False)

    def choice(self) -> tuple[QWidget, str, float]:
        path = self.path.text().strip()
        if not path:
            raise LstmvizError("file: choose where to write the picture")
        if Path(path).suffix.lower() not in IMAGE_FORMATS:
            raise LstmvizError(f"file: {Path(path).name!r} does not end in .png or .svg")
        return self.targets[self.target.currentIndex()][1], path, float(self.scale.value())

    def _accept(self) -> None:
        try:
            self.choice()
        except LstmvizError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        prefs.put("export/image_scale", self.scale.value())
        self.accept()


# -- the exporter: dialogs -> background writes -> messages ---------------------------------------
class Exporter(QObject):
    """Runs exports in a background Job with progress and Cancel; reports the outcome."""

    finished = Signal(str)  # the path written
    failed = Signal(str)  # the message shown

    def __init__(self, document, window: QWidget, parent: QObject | None = None):
        super().__init__(parent or window)
        self.document, self.window = document, window
        self.job = Job(self, "export")

    def _error(self, error: BaseException) -> None:
        message = describe_error(error)
        self.failed.emit(message)
        show_error(self.window, message)

    def _done(self, path: str) -> None:
        prefs.remember_dir(path)
        self.finished.emit(path)
        status = getattr(self.window, "statusBar", None)
        if callable(status):
            status().showMessage(f"Wrote {path}", 8000)

    def export_traces(self, options: TraceExportOptions, synchronous: bool = False) -> int:
        doc = self.document
        if doc.rerunning:
            # Finishing the rerun here would hold the GUI thread (0.8 s at T = 100 000): the
            # worker runs the cell itself (the same bits, lstmviz.core.kernels) and writes that.
            cell, trace, release = doc.cell, None, lambda: None
        else:
            # held: no later edit rewrites it in place while the thread writes it
            cell, trace, release = None, doc.trace, doc.hold_trace()

        def work(progress):
            try:
                if trace is None:
                    whole = compute_trace(cell, lambda fraction: progress(fraction / 2))
                    write_trace_export(whole, options, lambda fraction: progress(0.5 + fraction / 2))
                else:
                    write_trace_export(trace, options, progress)
            finally:
                release()
            return options.path

        steps = doc.T if options.steps is None else options.steps[1] - options.steps[0]
        label = f"Writing {steps:,} steps to {Path(options.path).name}…".replace(",", " ")
        return self.job.start(work, self._done, self._error, label=label, parent=self.window,
                              synchronous=synchronous)

    def export_image(self, widget: QWidget, path, scale: float = 2.0,
                     synchronous: bool = False) -> int | None:
        try:
            data = render_image(widget, path, scale, title=self.document.title or "lstmviz")
        except LstmvizError as error:
            self._error(error)
            return None

        def work(progress):
            write_bytes(data, path, progress)
            return str(path)

        return self.job.start(work, self._done, self._error, label=f"Writing {Path(path).name}…",
                              parent=self.window, synchronous=synchronous)

    # -- menu entry points ----------------------------------------------------------------------
    def ask_traces(self) -> TraceExportDialog:
        dialog = TraceExportDialog(self.document, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.export_traces(dialog.options()))
        dialog.open()
        return dialog

    def ask_image(self) -> ImageExportDialog:
        name = Path(self.document.document_path).stem if self.document.document_path \
            else (self.document.title or "lstmviz")
        dialog = ImageExportDialog(self.window, default_name=name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            widget, path, scale = dialog.choice()
            self.export_image(widget, path, scale)

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Export from the window: the CLI's CSV byte for byte, .npz, pictures, progress, failures."""

import errno
import os

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QProgressBar, QToolButton, QWidget

from lstmviz.cli import main as cli_main
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.edits import SetInputValue, SetWeight, set_initial_state
from lstmviz.gui.export import (
    ImageExportDialog,
    TraceExportDialog,
    TraceExportOptions,
    parse_units,
    render_svg,
)
from tests.gui.editing_fixtures import (  # noqa: F401
    assert_unchanged,
    doc,
    last_message,
    open_window,
    snapshot_state,
    user_dirs,
    window,
)


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("preactivations", [False, True])
@pytest.mark.parametrize("whatif", [False, True])
def test_window_csv_is_byte_identical_to_the_cli(window, tmp_path, layout, preactivations, whatif):
    session = window.session
    doc = session.document
    session.undo.submit(SetWeight(doc, "U_f", (1, 0), -0.123456789))
    session.undo.submit(SetInputValue(doc, 4, 0, 1 / 3))
    session.undo.submit(set_initial_state(doc, h0=[0.25, -0.5], c0=[1e-3, 2.0]))
    if whatif:  # interventions are saved in the document and applied by `lstmviz trace`
        from lstmviz.core.analysis.whatif import BiasOffset, ClampGate

        before = doc.trace.c.copy()
        doc.set_interventions((ClampGate("f", 0.0, units=(1,), steps=(12, 18)), BiasOffset("o", -0.4)))
        assert not np.array_equal(doc.trace.c, before)
    saved = tmp_path / "doc.lstmviz"
    session.save_to(saved, synchronous=True)
    ours = tmp_path / "window.csv"
    session.exporter.export_traces(TraceExportOptions(str(ours), "csv", layout, preactivations),
                                   synchronous=True)
    theirs = tmp_path / "cli.csv"
    args = ["trace", "--document", str(saved), "--out", str(theirs), "--layout", layout]
    assert cli_main(args + (["--preactivations"] if preactivations else [])) == 0
    assert ours.read_bytes() == theirs.read_bytes()


def test_units_and_step_range_csv_and_npz(window, tmp_path):
    session = window.session
    doc = session.document
    csv = tmp_path / "part.csv"
    session.exporter.export_traces(TraceExportOptions(str(csv), "csv", "long", False, [1], (5, 9)),
                                   synchronous=True)
    lines = csv.read_text().splitlines()
    assert lines[0] == "t,unit,i,f,g,o,c,h" and len(lines) == 1 + 4
    assert [line.split(",")[:2] for line in lines[1:]] == [[str(t), "1"] for t in range(5, 9)]
    npz = tmp_path / "part.npz"
    session.exporter.export_traces(TraceExportOptions(str(npz), "npz", preactivations=True, units=[0],
                                                      steps=(2, 30)), synchronous=True)
    with np.load(npz) as data:
        np.testing.assert_array_equal(data["t"], np.arange(2, 30))
        np.testing.assert_array_equal(data["h"], doc.trace.h[2:30, [0]])
        np.testing.assert_array_equal(data["zf"], doc.trace.zf[2:30, [0]])
        np.testing.assert_array_equal(data["x"], doc.trace.x[2:30])
        assert data["units"].tolist() == [0]


def test_the_trace_dialog(qtbot, doc, user_dirs):
    dialog = TraceExportDialog(doc)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.path.setText(str(user_dirs / "out"))
    options = dialog.options()
    assert options.path.endswith("out.csv") and options.units is None and options.steps is None
    dialog.format_buttons["npz"].setChecked(True)
    assert not dialog.long.isEnabled() and dialog.path.text().endswith("out.npz")
    dialog.format_buttons["csv"].setChecked(True)
    dialog.long.setChecked(True)
    dialog.some_units.setChecked(True)
    dialog.units_text.setText("1, 0-1")
    dialog.step_from.setValue(3)
    dialog.step_to.setValue(7)
    options = dialog.options()
    assert (options.layout, options.units, options.steps) == ("long", [0, 1], (3, 8))
    dialog.shown_units.setChecked(True)
    assert dialog.options().units == list(doc.units)


@pytest.mark.parametrize("text, message", [
    ("abc", "units: 'abc' is not a unit number"),
    ("0, 5", "units: 5 is not a unit of this cell .0..1."),
    ("", "units: empty"),
    ("1-0", "runs backwards"),
])
def test_text_in_the_units_field_names_it(qtbot, doc, user_dirs, text, message):
    with pytest.raises(Exception, match=message):
        parse_units(text, 2)
    dialog = TraceExportDialog(doc)
    qtbot.addWidget(dialog)
    dialog.some_units.setChecked(True)
    dialog.units_text.setText(text)
    dialog._accept()
    assert dialog.error.isVisible() is False or message.split(":")[0] in dialog.error.text()
    assert "units:" in dialog.error.text() and dialog.result() == 0


@pytest.fixture
def plot_window(qtbot, doc, user_dirs):
    plot = pg.PlotWidget(background="w")
    plot.plot(np.sin(np.arange(200) / 9), pen=pg.mkPen("r", width=2))
    plot.setWindowTitle("Cell diagram")
    window, session = open_window(qtbot, doc, central=plot)
    yield window
    session.shutdown()


def test_pictures_png_and_svg(qtbot, plot_window, tmp_path):
    session = plot_window.session
    central = plot_window.centralWidget()
    png = tmp_path / "diagram.png"
    session.exporter.export_image(central, png, scale=2, synchronous=True)
    image = QImage(str(png))
    assert image.width() == 2 * central.width() and image.height() == 2 * central.height()
    svg = tmp_path / "diagram.svg"
    session.exporter.export_image(central, svg, synchronous=True)
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "<polyline" in text or "<path" in text  # vector curves, not a bitmap
    assert "<image" not in text
    assert QSvgRenderer(str(svg)).isValid()
    dock_widget = session.weight_editor
    assert render_svg(dock_widget).count(b"<text") > 5


def test_the_picture_dialog_lists_the_diagram_and_panels(qtbot, plot_window, tmp_path):
    dialog = ImageExportDialog(plot_window)
    qtbot.addWidget(dialog)
    labels = [label for label, _w in dialog.targets]
    assert labels[0] == "Cell diagram" and "Whole window" in labels
    assert "Input" in labels or "Weights" in labels
    dialog.format.setCurrentIndex(dialog.format.findData(".svg"))
    assert dialog.path.text().endswith("-cell-diagram.svg") and not dialog.scale.isEnabled()
    dialog.path.setText(str(tmp_path / "x.gif"))
    dialog._accept()
    assert "does not end in .png or .svg" in dialog.error.text()


def test_unwritable_destination_loses_nothing(window, tmp_path):
    session = window.session
    before = snapshot_state(session.document)
    missing = tmp_path / "no-such-folder" / "t.csv"
    session.exporter.export_traces(TraceExportOptions(str(missing)), synchronous=True)
    assert last_message() == f"{missing}: the folder {missing.parent} does not exist"
    assert not missing.parent.exists()
    folder = tmp_path / "a-folder.csv"
    folder.mkdir()
    session.exporter.export_traces(TraceExportOptions(str(folder)), synchronous=True)
    assert last_message() == f"{folder}: is a folder, not a file"
    assert_unchanged(session.document, before)


def test_a_full_disk_keeps_the_earlier_file(window, tmp_path, monkeypatch):
    session = window.session
    target = tmp_path / "trace.csv"
    target.write_text("an earlier export\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("lstmviz.io.atomic.os.fsync", full)
    session.undo.submit(SetWeight(session.document, "W_o", (0, 0), 0.5))
    before = snapshot_state(session.document)
    session.exporter.export_traces(TraceExportOptions(str(target)), synchronous=True)
    assert last_message() == f"{target}: the disk is full"
    assert target.read_text() == "an earlier export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.csv"]  # no temporary left
    # Saving the document hits the same full disk: message, document still unsaved.
    doc_path = tmp_path / "work.lstmviz"
    session.save_to(doc_path, synchronous=True)
    assert last_message() == f"{doc_path}: the disk is full"
    assert not doc_path.exists() and session.document.dirty
    assert_unchanged(session.document, before)
    png = tmp_path / "p.png"
    png.write_bytes(b"old picture")
    session.exporter.export_image(window.centralWidget(), png, synchronous=True)
    assert png.read_bytes() == b"old picture" and last_message() == f"{png}: the disk is full"


def test_a_slow_export_shows_progress_and_cancels(qtbot, user_dirs, tmp_path):
    big = Document(LSTMParams.random(16, 4, seed=0), np.random.default_rng(0).normal(size=(30_000, 4)))
    window, session = open_window(qtbot, big)
    try:
        session.exporter.job.show_after_ms = 0
        target = tmp_path / "big.csv"
        target.write_text("keep me\n")
        session.exporter.export_traces(TraceExportOptions(str(target), "csv", "long", True))
        # in the status line, not a dialog: the window stays usable while the file is written
        bar = window.findChild(QProgressBar, "exportProgressBar")
        qtbot.waitUntil(lambda: bar.isVisible(), timeout=5000)
        assert session.exporter.job.dialog is None and QApplication.activeModalWidget() is None
        label = window.findChild(QWidget, "exportProgress").label
        assert "Writing 30 000 steps to big.csv" in label.toolTip()
        big.set_step(77)  # the window works meanwhile
        assert big.step == 77
        cancel = window.findChild(QToolButton, "exportProgressCancel")
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
        assert not session.exporter.job.busy
        qtbot.wait(300)
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(20_000)
        assert target.read_text() == "keep me\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]
    finally:
        session.shutdown()


def test_the_traces_picture_is_a_figure_of_every_panel(qtbot, make_window, tmp_path):
    """Export picture of the Traces dock draws every plot at figure size with the time axis,
    not a grab of the dock's scrolled viewport with its toolbar and unit list (issue 10)."""
    from lstmviz.gui.export import image_targets, render_png
    from lstmviz.gui.panels.plot import HIGHLIGHT
    from lstmviz.gui.panels.widget import FIGURE_PLOT_HEIGHT, FIGURE_WIDTH

    window = make_window("random-sine")
    panels = window.traces
    doc = window.document
    doc.set_selection("f")  # the f plot is highlighted on screen, not in the figure
    targets = dict(image_targets(window))
    assert targets["Traces"] is panels
    assert panels.height() < len(panels.shown) * FIGURE_PLOT_HEIGHT  # the dock scrolls
    before = (panels.view.size(), panels.scroll.verticalScrollBar().value())
    image = QImage.fromData(render_png(panels, scale=1.0))
    size = panels.figure_size()
    assert (image.width(), image.height()) == (size.width(), size.height())
    assert image.width() >= FIGURE_WIDTH and image.height() >= len(panels.shown) * FIGURE_PLOT_HEIGHT
    # every plot is drawn in its band: the unit colors of its curves appear there
    from lstmviz.colors import unit_color

    colors = {unit_color(k) for k in doc.units}
    for row, name in enumerate(panels.shown):
        found = set()
        for y in range(row * FIGURE_PLOT_HEIGHT + 20, (row + 1) * FIGURE_PLOT_HEIGHT - 10, 3):
            for x in range(80, image.width() - 40, 7):
                c = image.pixelColor(x, y)
                found.add((c.red(), c.green(), c.blue()))
        assert colors & found, f"plot {name} is missing from the figure"
    # no selection frame around the f plot: no row of the band is orange from end to end
    # (the curves of unit 1 are orange too, but no curve is a straight full-width line)
    f_row = panels.shown.index("f")
    xs = range(120, image.width() - 20, 4)
    framed_rows = [
        y
        for y in range(f_row * FIGURE_PLOT_HEIGHT, (f_row + 1) * FIGURE_PLOT_HEIGHT)
        if sum(_near(image.pixelColor(x, y), HIGHLIGHT) for x in xs) > 0.8 * len(xs)
    ]
    assert framed_rows == []
    assert (panels.view.size(), panels.scroll.verticalScrollBar().value()) == before
    assert panels.plot("f").highlighted


def _near(color, rgb, tol=25) -> bool:
    return all(abs(a - b) <= tol for a, b in zip((color.red(), color.green(), color.blue()), rgb))

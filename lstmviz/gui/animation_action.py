"""File > Export animation…: the current document stepped through in the window, saved as a GIF,
an MP4 or a folder of PNGs (lstmviz.gui.animation), with a progress dialog and Cancel.

Self-contained: the main window wires it with one line,

    from lstmviz.gui.animation_action import install_export_animation; install_export_animation(self)

The frames are rendered from a copy of the Document (same model, input, initial state,
what-if interventions, selection, units and view options), so exporting never moves the step
the user is looking at.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from lstmviz.errors import LstmvizError
from lstmviz.gui.animation import VIEWS, AnimationCancelled, animation_frames, save_animation

SIZES = ("1280x720", "1920x1080", "960x540", "640x360")


def copy_document(document):
    """A Document showing what `document` shows, for rendering frames off to the side."""
    from lstmviz.document import Document

    copy = Document(document.cell)  # the same frozen cell state: model, input, h0/c0, sources
    if document.interventions:
        copy.set_interventions(document.interventions)
    copy.set_view(document.view)  # step, selection, units and the typed view options
    return copy


class ExportAnimationDialog(QtWidgets.QDialog):
    """Where to (GIF, MP4 or a folder), which steps, frames per second, size and what to show."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.document = document
        T = document.T
        form = QtWidgets.QFormLayout(self)
        row = QtWidgets.QHBoxLayout()
        self.path_edit = QtWidgets.QLineEdit("animation.gif")
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("file (.gif, .mp4) or folder/", row)
        self.first = QtWidgets.QSpinBox()
        self.first.setRange(0, T - 1)
        self.last = QtWidgets.QSpinBox()
        self.last.setRange(0, T - 1)
        self.last.setValue(T - 1)
        steps = QtWidgets.QHBoxLayout()
        steps.addWidget(self.first)
        steps.addWidget(QtWidgets.QLabel("to"))
        steps.addWidget(self.last)
        form.addRow(f"steps (0..{T - 1})", steps)
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(0.1, 120)
        self.fps.setValue(8)
        form.addRow("frames per second", self.fps)
        self.size_box = QtWidgets.QComboBox()
        self.size_box.addItems(SIZES)
        form.addRow("size", self.size_box)
        self.view_box = QtWidgets.QComboBox()
        self.view_box.addItems(VIEWS)
        form.addRow("show", self.view_box)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export animation", self.path_edit.text(), "GIF (*.gif);;MP4 video (*.mp4);;PNG folder (*)")
        if path and chosen.startswith("PNG") and not path.endswith("/"):
            path += "/"
        if path:
            self.path_edit.setText(path)

    def options(self) -> dict:
        width, height = (int(v) for v in self.size_box.currentText().split("x"))
        first, last = self.first.value(), self.last.value()
        if last < first:
            raise LstmvizError(f"steps: the last step {last} comes before the first {first}")
        return {"path": self.path_edit.text().strip(), "steps": range(first, last + 1),
                "fps": self.fps.value(), "size": (width, height), "view": self.view_box.currentText()}


def export_animation(window, path: str, steps: range, fps: float = 8.0, size=(1280, 720),
                     view: str = "window") -> int:
    """Render and save with a progress dialog (Cancel leaves nothing behind); returns the number
    of frames written (0 when cancelled). Errors are raised as LstmvizError."""
    release = window.document.hold_trace()  # the frames read it while the window runs on
    try:
        frames = animation_frames(copy_document(window.document), steps, size=size, view=view)
        return save_with_progress(window, frames, len(steps), path, fps)
    finally:
        release()


def save_with_progress(parent, frames, count: int, path: str, fps: float) -> int:
    """save_animation under a window-modal progress dialog with Cancel; 0 when cancelled."""
    progress = QtWidgets.QProgressDialog("Rendering frames…", "Cancel", 0, count, parent)
    progress.setWindowTitle("Export animation")
    progress.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(300)

    def report(done: int, total: int) -> bool:
        progress.setValue(done)
        QtWidgets.QApplication.processEvents()
        return not progress.wasCanceled()

    try:
        return save_animation(frames, path, fps=fps, count=count, progress=report)
    except AnimationCancelled:
        return 0
    finally:
        progress.close()
        progress.deleteLater()


def install_export_animation(window) -> QtWidgets.QWidget:
    """Add File > Export animation… (before Quit) to a main window; returns the action."""
    from PySide6.QtGui import QAction

    action = QAction("Export &animation…", window)
    action.setObjectName("actionExportAnimation")
    action.setStatusTip("Step through the sequence in the window and save it as a GIF, an MP4 or PNGs")

    def run() -> None:
        from lstmviz.gui.editors.messages import show_error, show_info

        dialog = ExportAnimationDialog(window.document, window)
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return
        try:
            options = dialog.options()
            written = export_animation(window, **options)
        except LstmvizError as error:
            show_error(window, str(error))
            return
        if written:
            show_info(window, f"wrote {options['path']} ({written} frames)")

    action.triggered.connect(run)
    menu = getattr(window, "menus", {}).get("file")
    if menu is not None:
        quit_action = next((a for a in menu.actions() if a.objectName() == "actionQuit"), None)
        if quit_action is not None:
            menu.insertAction(quit_action, action)
        else:
            menu.addAction(action)
    window.addAction(action)
    return action

"""lstmviz.Viewer: the main window, driven from Python (scripts, notebooks, tests).

    import lstmviz
    viewer = lstmviz.Viewer()                      # the window on the memory-cell demo
    viewer.open("model.pt", layer="l1", input="walk.csv", confirm=False)
    viewer.set_step(12)
    viewer.screenshot("step12.png")
    viewer.undo()                                  # back to the demo
    viewer.close()

Every call goes through the same WindowController as the menus (lstmviz.gui.controller):
`open` is File > Open, `apply_preset` is the Presets menu, `undo` / `redo` are the Edit
menu's. Each waits until the change has landed (files are read in the background) and
raises LstmvizError, naming the file, when it was refused; the Document is unchanged then.
"""

from __future__ import annotations

from lstmviz.errors import LstmvizError


class Viewer:
    """The lstmviz window as an object. show=False builds it without showing it (offscreen
    scripts and tests); `window` is the QMainWindow, `document` the live Document."""

    def __init__(self, show: bool = True, preset: str | None = None, document=None):
        from lstmviz.document import Document
        from lstmviz.gui.app import ensure_app
        from lstmviz.gui.main_window import MainWindow
        from lstmviz.presets import DEFAULT_PRESET, load_preset

        self._app = ensure_app()
        if document is None:
            document = Document.from_preset(load_preset(preset or DEFAULT_PRESET))
        self.window = MainWindow(document)
        self.window.install_editors()
        if show:
            from lstmviz.gui import errors_dialog

            errors_dialog.install()  # as the app does: a view's exception is shown, not lost
            self.window.show()
        self._process()

    # -- what it shows ---------------------------------------------------------------------
    @property
    def document(self):
        return self.window.document

    @property
    def controller(self):
        return self.window.controller

    # -- changes (each like the menu entry of the same name) ---------------------------------
    def open(self, path, layer: str | None = None, input=None, confirm: bool = True):
        """File > Open on `path` (a .lstmviz document, a model or a sequence); returns the
        Document. `layer` picks the LSTM layer of a model file; `input` a sequence file to
        run the model on. confirm=True asks what the window would ask (unsaved work, which
        layer, a size mismatch); confirm=False asks nothing: unsaved work is replaced (it
        stays on the undo stack), the first layer is taken unless `layer` is given, and a
        size mismatch gets `input` when given, else a zero input for a model (a random cell
        for a sequence)."""
        self._run(lambda: self.controller.open(path, layer=layer, input=input, confirm=confirm), confirm)
        return self.document

    def apply_preset(self, name: str, confirm: bool = False):
        """Presets > name (confirm=True asks before unsaved work is replaced)."""
        self._run(lambda: self.controller.apply_preset(name, confirm=confirm), confirm)
        return self.document

    def undo(self) -> bool:
        done = self.window.session.undo.undo()
        self._wait()
        return done

    def redo(self) -> bool:
        done = self.window.session.undo.redo()
        self._wait()
        return done

    def set_step(self, t: int) -> None:
        self.document.set_step(t)
        self._process()

    def screenshot(self, path) -> str:
        """The window as a PNG, as it is now (rendered offscreen when it is not shown)."""
        self._process()
        image = self.window.grab()
        if not image.save(str(path)):
            raise LstmvizError("could not write the picture", source=str(path))
        return str(path)

    def close(self) -> None:
        """Close the window without asking about unsaved work (the autosave is removed)."""
        session = self.window.session
        session.prompt = False
        self.window.close()
        self.window.deleteLater()
        self._process()

    # -- plumbing ----------------------------------------------------------------------------
    def _run(self, action, confirm: bool) -> None:
        controller = self.controller
        failures: list[str] = []
        controller.failed.connect(failures.append)
        controller.dialogs = confirm  # a script gets the error raised, not a dialog
        try:
            action()
            self._wait()
        finally:
            controller.dialogs = True
            controller.failed.disconnect(failures.append)
        if failures:
            raise LstmvizError(failures[0])

    def _wait(self) -> None:
        self.window.session.wait()
        self._process()

    def _process(self) -> None:
        self._app.processEvents()

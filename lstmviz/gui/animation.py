"""Animations for teaching: the real window rendered offscreen step by step, saved as a GIF, an
MP4 or a folder of PNGs.

    frames = animation_frames(document, steps=range(0, 40), size=(1280, 720), view="diagram")
    save_animation(frames, "run.gif", fps=8, count=40)

The frames are the window's own widgets (lstmviz.gui.main_window.MainWindow), moved one step at
a time through Document.set_step, exactly as the user steps them: `view` picks the whole window,
the cell diagram alone (the docks hidden) or the trace panels. Every frame is scaled to exactly
the requested size.

Every output is atomic: a GIF or MP4 is written to a temporary file beside the destination and
renamed over it when complete; a PNG folder is written into a temporary folder beside the
destination, which then replaces it (an earlier folder of that name is removed only after the
new one is complete). A failure or a cancel leaves nothing behind.

GIF needs Pillow and MP4 imageio-ffmpeg (`pip install 'lstmviz[video]'`); PNG folders need Qt
alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from lstmviz.errors import LstmvizError

VIEWS = ("diagram", "window", "traces")
FORMATS = ("gif", "mp4", "folder")

Progress = Callable[[int, int], object]  # (frames done, frames in all) -> False to cancel


class AnimationCancelled(Exception):
    """The progress callback returned False; nothing was written."""


def output_format(path) -> str:
    """'gif', 'mp4' or 'folder' (a trailing slash, an existing folder, or no suffix)."""
    text = str(path)
    target = Path(text)
    if text.endswith(("/", os.sep)) or target.is_dir():
        return "folder"
    suffix = target.suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix == ".mp4":
        return "mp4"
    if suffix == "":
        return "folder"
    raise LstmvizError(f"cannot write an animation as {suffix}: name it .gif, .mp4 or FOLDER/", source=text)


def check_writer(fmt: str) -> None:
    """Raise a one-line error naming the extra to install when the format's library is missing."""
    try:
        if fmt == "gif":
            import PIL.Image  # noqa: F401
        elif fmt == "mp4":
            import imageio_ffmpeg  # noqa: F401
    except ImportError:
        library = "Pillow" if fmt == "gif" else "imageio-ffmpeg"
        raise LstmvizError(
            f"writing .{fmt} needs {library}: pip install 'lstmviz[video]' "
            "(or write a PNG folder: --out FOLDER/)"
        ) from None


def _widget_for(window, view: str):
    if view == "window":
        return window
    if view == "diagram":
        for dock in getattr(window, "docks", {}).values():
            dock.hide()
        return window.diagram
    return window.traces


def animation_frames(document, steps: Iterable[int], size=(1280, 720), view: str = "diagram"
                     ) -> Iterator:
    """Yield one QImage (exactly `size`, RGB888) per step, rendered by a MainWindow on
    `document` (offscreen when no display is set up)."""
    return _frames(document, (lambda doc, t=t: doc.set_step(t) for t in steps), size, view)


def training_frames(document, models: Iterable, size=(1280, 720), view: str = "diagram") -> Iterator:
    """One frame per trained model (LSTMParams of one shape, e.g. a run's checkpoints from
    iteration 0 to now), each run on `document`'s input at its current step: how the gates
    changed while it learned."""
    return _frames(document, (lambda doc, p=p: doc.set_params(p) for p in models), size, view)


def _frames(document, changes: Iterable, size, view: str) -> Iterator:
    """Apply each change to the document, then grab the chosen part of a window on it."""
    if view not in VIEWS:
        raise LstmvizError(f"view {view!r} is not one of {', '.join(VIEWS)}")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from lstmviz.gui.app import ensure_app
    from lstmviz.gui.main_window import MainWindow

    app = ensure_app()
    window = MainWindow(document)
    # Rendered, never put on the screen (in the running app a second window must not flash up).
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    width, height = size
    try:
        window.resize(width, height)
        window.show()
        widget = _widget_for(window, view)
        for _ in range(4):
            app.processEvents()
        if view == "diagram":
            window.diagram.fit()
            app.processEvents()
        for change in changes:
            change(document)
            app.processEvents()
            image = widget.grab().toImage()
            if (image.width(), image.height()) != (width, height):
                image = image.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            yield image.convertToFormat(QImage.Format.Format_RGB888)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()


def _rgb_bytes(image) -> bytes:
    """Tightly packed RGB rows (QImage rows are padded to 4 bytes)."""
    width, height, line = image.width(), image.height(), image.bytesPerLine()
    data = bytes(image.constBits())
    if line == width * 3:
        return data[: width * height * 3]
    return b"".join(data[row * line : row * line + width * 3] for row in range(height))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise AnimationCancelled()


def save_animation(frames: Iterable, path, fps: float = 10.0, count: int | None = None,
                   progress: Progress | None = None) -> int:
    """Write QImage frames to `path` (.gif, .mp4 or a folder); returns the number of frames.
    progress(done, count) is called after every frame; returning False cancels (nothing is
    left behind)."""
    fmt = output_format(path)
    check_writer(fmt)
    if not (0.1 <= fps <= 120):
        raise LstmvizError(f"fps {fps:g} is not in 0.1..120")
    total = count or 0
    target = Path(str(path).rstrip("/" + os.sep) or str(path))
    if not target.parent.is_dir():
        raise LstmvizError("the folder does not exist", source=str(path))
    if fmt == "folder":
        return _save_folder(frames, target, total, progress)
    if target.is_dir():
        raise LstmvizError("is a folder, not a file", source=str(path))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part.{fmt}", dir=target.parent)
    os.close(fd)
    try:
        if fmt == "gif":
            written = _save_gif(frames, tmp_name, fps, total, progress)
        else:
            written = _save_mp4(frames, tmp_name, fps, total, progress)
        if written == 0:
            raise LstmvizError("no frames to write", source=str(path))
        os.replace(tmp_name, target)
    except OSError as error:
        raise LstmvizError(error.strerror or str(error), source=str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
    with contextlib.suppress(OSError):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(target, 0o666 & ~umask)
    return written


def _save_folder(frames, target: Path, total: int, progress) -> int:
    if target.exists() and not target.is_dir():
        raise LstmvizError("exists and is not a folder", source=str(target))
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    except OSError as error:
        raise LstmvizError(error.strerror or str(error), source=str(target)) from None
    written = 0
    try:
        for image in frames:
            name = tmp / f"frame_{written:05d}.png"
            if not image.save(str(name), "PNG"):
                raise LstmvizError("could not write a frame", source=str(name))
            written += 1
            _report(progress, written, total)
        if written == 0:
            raise LstmvizError("no frames to write", source=str(target))
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.rmdir(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except OSError as error:
        raise LstmvizError(error.strerror or str(error), source=str(target)) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return written


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _save_gif(frames, name: str, fps: float, total: int, progress) -> int:
    from PIL import Image

    pictures = []
    for image in frames:
        rgb = Image.frombytes("RGB", (image.width(), image.height()), _rgb_bytes(image))
        # A palette per frame now keeps memory at one byte per pixel while frames accumulate.
        pictures.append(rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT))
        _report(progress, len(pictures), total)
    if pictures:
        pictures[0].save(name, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=max(int(round(1000 / fps)), 20), loop=0)
    return len(pictures)


def _save_mp4(frames, name: str, fps: float, total: int, progress) -> int:
    import imageio_ffmpeg

    writer = None
    written = 0
    try:
        for image in frames:
            if writer is None:
                size = (image.width(), image.height())
                writer = imageio_ffmpeg.write_frames(name, size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                                     output_params=["-f", "mp4"], macro_block_size=2,
                                                     quality=7)
                writer.send(None)
            writer.send(_rgb_bytes(image))
            written += 1
            _report(progress, written, total)
    finally:
        if writer is not None:
            writer.close()
    return written

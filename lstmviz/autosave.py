"""Autosave and crash recovery for the window, without Qt.

Each running window holds a session: an exclusive OS lock on <dir>/<id>.lock for as long as
it runs (fcntl.flock on POSIX, msvcrt.locking on Windows). The kernel drops the lock when
the process dies, even by kill -9, so a lock that can be taken is stale: its window is gone.
A second window never takes a live lock, so it is never mistaken for a crash.

While the document has unsaved changes, the window calls Autosaver.tick() from a timer; the
document is written in a background thread to <id>.pending.lstmviz and renamed to
<id>.lstmviz. An explicit save or a clean exit calls discard(): it bumps an epoch under a
mutex and removes the autosave, so an autosave still being written when the user saves is
dropped instead of reappearing. At start, find_recoverable() lists the autosaves whose lock
is stale, claiming each (holding its lock) so that two windows starting together never
both offer it.

The directory is platformdirs' user state dir (lstmviz/autosave), or $LSTMVIZ_STATE_DIR.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lstmviz.errors import LstmvizError

STATE_ENV = "LSTMVIZ_STATE_DIR"
AUTOSAVE_SUFFIX = ".lstmviz"
PENDING_SUFFIX = ".pending.lstmviz"
LOCK_SUFFIX = ".lock"
DEFAULT_INTERVAL_S = 15.0  # with the time a write takes, a crash loses well under 30 s

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _LOCK_OFFSET = 1 << 20

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _still_linked(fd: int, path: Path) -> bool:
        return path.exists()

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _still_linked(fd: int, path: Path) -> bool:
        # The owner may have removed the file between our open() and our lock.
        try:
            return os.fstat(fd).st_nlink > 0 and os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            return False


def state_dir() -> Path:
    """Where autosaves and session locks live (created on first use)."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("lstmviz", appauthor=False)) / "autosave"


def _ensure_dir(directory: Path) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LstmvizError(f"cannot create the autosave folder ({error.strerror or error})",
                           source=str(directory)) from None
    return directory


class SessionLock:
    """An exclusive lock on one <id>.lock file, held until release()."""

    def __init__(self, path: Path, fd: int):
        self.path, self._fd = Path(path), fd

    @property
    def session_id(self) -> str:
        return self.path.name[: -len(LOCK_SUFFIX)]

    @property
    def held(self) -> bool:
        return self._fd is not None

    @classmethod
    def create(
        cls, directory: Path, session_id: str | None = None, info: dict | None = None
    ) -> SessionLock:
        directory = _ensure_dir(Path(directory))
        session_id = session_id or f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path = directory / f"{session_id}{LOCK_SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise LstmvizError(f"cannot create a session lock ({error.strerror or error})",
                               source=str(path)) from None
        if not _try_lock(fd):
            os.close(fd)
            raise LstmvizError("another window holds this session lock", source=str(path))
        record = {"pid": os.getpid(), "started": time.time(), **(info or {})}
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        return cls(path, fd)

    @classmethod
    def claim(cls, path: Path) -> SessionLock | None:
        """Take a lock whose owner is gone; None while its window still runs."""
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return None
        if not _try_lock(fd):
            os.close(fd)
            return None
        if not _still_linked(fd, Path(path)):
            _unlock(fd)
            os.close(fd)
            return None
        return cls(Path(path), fd)

    def info(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
            value = json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def release(self, remove: bool = False) -> None:
        if self._fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        _unlock(self._fd)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None


class Autosaver:
    """One window's autosave: tick() from a timer, discard() after a save, close() on exit."""

    def __init__(self, directory: Path | None = None, info: dict | None = None,
                 write: Callable | None = None):
        self.directory = _ensure_dir(Path(directory) if directory is not None else state_dir())
        self.lock = SessionLock.create(self.directory, info=info)
        self.path = self.directory / f"{self.lock.session_id}{AUTOSAVE_SUFFIX}"
        self._pending = self.directory / f"{self.lock.session_id}{PENDING_SUFFIX}"
        self._mutex = threading.Lock()
        self._epoch = 0
        self._saved_version: object = None
        self._thread: threading.Thread | None = None
        self._write = write  # (state, path) -> None; the document writer by default
        self.last_error: str | None = None
        self.last_saved: float | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def tick(self, dirty: bool, version: object, snapshot: Callable[[], object],
             background: bool = True) -> bool:
        """Autosave when there are unsaved changes made since the last autosave.

        version: anything that changes when the document's content changes. Returns True
        when a write was started.
        """
        if not dirty or version == self._saved_version or self.busy or not self.lock.held:
            return False
        return self.save(snapshot(), version, background=background)

    def save(self, state, version: object = None, background: bool = True) -> bool:
        with self._mutex:
            epoch = self._epoch
        if background:
            self._thread = threading.Thread(
                target=self._save, args=(state, version, epoch), name="lstmviz-autosave", daemon=True
            )
            self._thread.start()
        else:
            self._save(state, version, epoch)
        return True

    def _save(self, state, version, epoch: int) -> None:
        try:
            if self._write is not None:
                self._write(state, self._pending)
            else:
                from lstmviz.io.document_file import write_document

                write_document(state, self._pending)
        except Exception as error:  # noqa: BLE001 - an autosave must never take the window down
            self.last_error = str(error)
            with contextlib.suppress(OSError):
                self._pending.unlink()
            return
        with self._mutex:
            if epoch == self._epoch and self.lock.held:
                try:
                    os.replace(self._pending, self.path)
                except OSError as error:
                    self.last_error = f"{self.path}: {error.strerror or error}"
                    return
                self._saved_version = version
                self.last_error = None
                self.last_saved = time.time()
            else:  # saved or closed meanwhile: this autosave is out of date
                with contextlib.suppress(OSError):
                    self._pending.unlink()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def discard(self) -> None:
        """The document was saved (or the user threw the changes away): remove the autosave;
        a write in progress is dropped when it finishes."""
        with self._mutex:
            self._epoch += 1
            self._saved_version = None
            for path in (self.path, self._pending):
                with contextlib.suppress(OSError):
                    path.unlink()

    def close(self, keep: bool = False) -> None:
        """Clean exit: remove the autosave (unless keep) and the lock."""
        with self._mutex:
            self._epoch += 1
        self.wait(10.0)
        if not keep:
            self.discard()
        self.lock.release(remove=not keep)


@dataclass
class Recovery:
    """An autosave left by a window that is gone; its lock is held by us until discard/release."""

    path: Path
    lock: SessionLock
    info: dict

    @property
    def saved_at(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def read(self):
        from lstmviz.io.document_file import read_document

        return read_document(self.path)

    def summary(self) -> dict:
        """title, document_path and saved_at from the autosave's document.json (cheap)."""
        import zipfile

        out = {"title": "", "document_path": None, "saved_at": self.saved_at}
        with contextlib.suppress(Exception), zipfile.ZipFile(self.path) as zf:
            info = zf.getinfo("document.json")
            if info.file_size < 4 * 1024 * 1024:
                meta = json.loads(zf.read(info).decode("utf-8"))
                out["title"] = str(meta.get("title") or "")
                autosave = meta.get("autosave") or {}
                out["document_path"] = autosave.get("document_path")
                out["dirty_since"] = autosave.get("dirty_since")
        return out

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.lock.release(remove=True)

    def release(self) -> None:
        """Keep it for next time (someone else may offer it)."""
        self.lock.release(remove=False)


def find_recoverable(directory: Path | None = None) -> list[Recovery]:
    """Autosaves of windows that are gone, newest first; each is claimed (locked) by us.

    Stale locks with nothing to recover, and half-written files of dead sessions, are removed.
    """
    directory = Path(directory) if directory is not None else state_dir()
    if not directory.is_dir():
        return []
    found: list[Recovery] = []
    ids = {p.name[: -len(LOCK_SUFFIX)] for p in directory.glob(f"*{LOCK_SUFFIX}")}
    ids |= {p.name[: -len(AUTOSAVE_SUFFIX)] for p in directory.glob(f"*{AUTOSAVE_SUFFIX}")
            if not p.name.endswith(PENDING_SUFFIX) and not p.name.startswith(".")}
    for session_id in sorted(ids):
        lock_path = directory / f"{session_id}{LOCK_SUFFIX}"
        if not lock_path.exists():
            # An autosave without a lock (the lock file was lost): lock it under its own name.
            try:
                lock = SessionLock.create(directory, session_id=session_id)
            except LstmvizError:
                continue
        else:
            lock = SessionLock.claim(lock_path)
            if lock is None:
                continue  # its window is running
        for junk in (*directory.glob(f".{session_id}.*"), directory / f"{session_id}{PENDING_SUFFIX}"):
            with contextlib.suppress(OSError):
                junk.unlink()
        autosave = directory / f"{session_id}{AUTOSAVE_SUFFIX}"
        if autosave.is_file():
            found.append(Recovery(autosave, lock, lock.info()))
        else:
            lock.release(remove=True)
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found

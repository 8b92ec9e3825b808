"""Atomic writes: the destination appears complete, or not at all, and never half-written.

On Linux the data goes to an unnamed file (O_TMPFILE) in the destination folder, which is
given its name with linkat only once it is complete: a crash, kill -9 or a full disk leaves
nothing behind, and an earlier file at that path is untouched. Replacing an existing file
takes a hard link to a temporary name and one rename, so the name exists for microseconds.

Elsewhere (or on a filesystem without O_TMPFILE) the data goes to `.NAME.lstmviz-tmp-PID`
beside the destination and is renamed into place. SIGTERM and SIGINT remove it (see
`install_signal_cleanup`); after kill -9 the next lstmviz that writes into that folder, or runs
in it, removes every such file whose process is gone.

A symlinked destination is updated through its link; a device or pipe (/dev/stdout,
/dev/null, a FIFO) is written in place, since a rename would replace the device itself.
Errors become one-line LstmvizErrors naming the destination.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lstmviz.errors import LstmvizError

TEMP_MARK = ".lstmviz-tmp-"
_TEMP_NAME = re.compile(r"^\..*" + re.escape(TEMP_MARK) + r"(\d{1,10})(?:-\d{1,6})?$", re.DOTALL)
STDOUT = "stdout"  # how a write to `-` names its destination

# Named temporaries this process is writing (the fallback path): removed by the signal
# handlers, since a handler may run where no `finally` will.
_live_temporaries: set[str] = set()
use_tmpfile = hasattr(os, "O_TMPFILE") and sys.platform.startswith("linux")


def _describe_os_error(error: OSError, target: Path | None = None) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (cannot write there)"
    if error.errno == errno.ENOENT:
        if target is not None and target.parent.is_dir():
            return "cannot create a file in that folder"
        return f"the folder {_folder_name(target)} does not exist" if target else "the folder does not exist"
    if error.errno == errno.EISDIR:
        return "is a folder, not a file"
    if error.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return error.strerror or str(error)


def _folder_name(target: Path) -> str:
    return str(target.parent) if str(target.parent) not in ("", ".") else "."


# -- temporaries ---------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except (OverflowError, OSError, ValueError):
        return False
    return True


def remove_stale_temporaries(folder=".") -> list[str]:
    """Remove the `.NAME.lstmviz-tmp-PID` files in `folder` whose process is gone (a write
    that was killed); returns their names. Never raises."""
    removed = []
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def remove_live_temporaries() -> None:
    """Remove this process's named temporaries now (from a signal handler)."""
    for name in list(_live_temporaries):
        with contextlib.suppress(OSError):
            os.unlink(name)
        _live_temporaries.discard(name)


def install_signal_cleanup() -> None:
    """SIGTERM and SIGINT remove this process's temporaries, then end it as usual (SIGTERM
    with status 143 through SystemExit, SIGINT as KeyboardInterrupt), so `finally` blocks run."""

    def on_term(signum, frame):
        remove_live_temporaries()
        raise SystemExit(128 + signum)

    def on_int(signum, frame):
        remove_live_temporaries()
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_int)


def _temp_name(target: Path, attempt: int) -> str:
    # NAME_MAX is 255 bytes: keep the mark and the pid, shorten the name if it must.
    name = target.name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")
    tail = f"-{attempt}" if attempt else ""
    return f".{name}{TEMP_MARK}{os.getpid()}{tail}"


def _create_named(dir_fd: int, target: Path) -> tuple[int, str]:
    for attempt in range(100):
        name = _temp_name(target, attempt)
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666,
                         dir_fd=dir_fd)
        except FileExistsError:
            continue
        return fd, name
    raise OSError(errno.EEXIST, "too many temporary files", str(target))


def _open_tmpfile(dir_fd: int) -> int | None:
    """An unnamed file in the folder, or None where the filesystem cannot make one."""
    if not use_tmpfile:
        return None
    try:
        return os.open(".", os.O_TMPFILE | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o666, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None
        raise


def _link_tmpfile(fd: int, dir_fd: int, target: Path) -> None:
    """Give the complete unnamed file its name (replacing an earlier file in one rename)."""
    proc = f"/proc/self/fd/{fd}"
    if not os.path.lexists(target):
        try:
            os.link(proc, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=True)
            return
        except FileExistsError:
            pass  # created meanwhile: replace it below
    for attempt in range(100):
        name = _temp_name(target, attempt)
        try:
            os.link(proc, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=True)
        except FileExistsError:
            continue
        path = os.path.join(_folder_name(target), name)
        _live_temporaries.add(path)
        try:
            os.replace(name, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=dir_fd)
            raise
        finally:
            _live_temporaries.discard(path)
        return
    raise OSError(errno.EEXIST, "too many temporary files", str(target))


# -- the writer ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _write_stdout(mode: str) -> Iterator[IO]:
    stream = sys.stdout
    if stream is None:
        raise LstmvizError("is closed (nothing to write the output to)", source=STDOUT)
    try:
        handle = stream.buffer if "b" in mode else stream
        yield handle
        handle.flush()
    except BrokenPipeError:
        raise  # `lstmviz ... --out - | head`: the reader has all it wants
    except OSError as error:
        raise LstmvizError(_describe_os_error(error), source=STDOUT) from None
    except (ValueError, AttributeError) as error:  # a closed or replaced sys.stdout
        raise LstmvizError(f"cannot be written ({error})", source=STDOUT) from None


def _check_destination(path) -> Path:
    raw = str(path)
    target = Path(path)
    if raw.endswith(("/", os.sep)) or target.is_dir():
        if target.is_dir():
            raise LstmvizError("is a folder, not a file", source=raw)
        raise LstmvizError(f"the folder {raw} does not exist (and a folder is not a file name)", source=raw)
    if target.is_symlink():
        # Update the file the link points to, and keep the link (a rename would replace it).
        target = Path(os.path.realpath(target))
    parent = target.parent
    if not parent.exists():
        raise LstmvizError(f"the folder {_folder_name(target)} does not exist", source=raw)
    if not parent.is_dir():
        raise LstmvizError(f"{_folder_name(target)} is not a folder", source=raw)
    return target


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", newline: str | None = "") -> Iterator[IO]:
    """Open a file for writing that becomes `path` only when the block ends without error.

    path '-' writes to stdout instead.
    """
    if str(path) == "-":
        with _write_stdout(mode) as handle:
            yield handle
        return
    raw = str(path)
    target = _check_destination(path)
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
    if target.exists() and not target.is_file():
        # /dev/null, a named pipe, a terminal: written in place, never renamed over.
        try:
            with open(target, mode, **kwargs) as handle:
                yield handle
        except OSError as error:
            raise LstmvizError(_describe_os_error(error, target), source=raw) from None
        return
    remove_stale_temporaries(_folder_name(target))
    try:
        dir_fd = os.open(_folder_name(target), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise LstmvizError(_describe_os_error(error, target), source=raw) from None
    try:
        with _write_into(dir_fd, target, mode, kwargs) as handle:
            yield handle
    except OSError as error:
        raise LstmvizError(_describe_os_error(error, target), source=raw) from None
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _write_into(dir_fd: int, target: Path, mode: str, kwargs: dict) -> Iterator[IO]:
    fd = _open_tmpfile(dir_fd)
    if fd is not None:
        try:
            with os.fdopen(fd, mode, closefd=False, **kwargs) as handle:
                yield handle
                handle.flush()
                os.fsync(fd)
            try:
                _link_tmpfile(fd, dir_fd, target)
            except OSError as error:
                if error.errno not in (errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP):
                    raise
                _copy_to_named(fd, dir_fd, target)  # no /proc to link through
        finally:
            os.close(fd)
        return
    fd, name = _create_named(dir_fd, target)
    path = os.path.join(_folder_name(target), name)
    _live_temporaries.add(path)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
        raise
    finally:
        _live_temporaries.discard(path)


def _copy_to_named(fd: int, dir_fd: int, target: Path) -> None:
    out, name = _create_named(dir_fd, target)
    path = os.path.join(_folder_name(target), name)
    _live_temporaries.add(path)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        while block := os.read(fd, 1 << 20):
            view = memoryview(block)
            while view:
                view = view[os.write(out, view):]
        os.fsync(out)
        os.close(out)
        out = -1
        os.replace(name, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
        raise
    finally:
        if out >= 0:
            os.close(out)
        _live_temporaries.discard(path)

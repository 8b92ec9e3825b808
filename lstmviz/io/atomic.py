"""Atomic writes: a temporary file beside the destination, then a rename.

A failed or cancelled write leaves no half-written file and never truncates an earlier file
at that path. Errors become one-line LstmvizErrors naming the destination.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lstmviz.errors import LstmvizError


def _describe_os_error(error: OSError, target: Path | None = None) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (cannot write there)"
    if error.errno == errno.ENOENT:
        if target is not None and target.parent.is_dir():
            return "cannot create a file in that folder"
        return "the folder does not exist"
    if error.errno == errno.EISDIR:
        return "is a folder, not a file"
    return error.strerror or str(error)


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file for writing; on success it replaces `path` in one rename.

    path '-' (text mode only) writes to stdout instead.
    """
    if str(path) == "-":
        if "b" in mode:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            yield sys.stdout
            sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise LstmvizError("is a folder, not a file", source=str(path))
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
    if target.is_symlink():
        # Update the file the link points to, and keep the link (a rename would replace it).
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_file():
        # /dev/null, a named pipe, a terminal: no temporary file and never a rename, which
        # would replace the device itself with a regular file.
        try:
            with open(target, mode, **kwargs) as handle:
                yield handle
        except OSError as error:
            raise LstmvizError(_describe_os_error(error, target), source=str(path)) from None
        return
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent if str(target.parent) else "."
        )
    except OSError as error:
        raise LstmvizError(_describe_os_error(error, target), source=str(path)) from None
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except OSError as error:
        _remove_quietly(tmp_name)
        raise LstmvizError(_describe_os_error(error, target), source=str(path)) from None
    except BaseException:
        _remove_quietly(tmp_name)
        raise
    # mkstemp makes the file private; a saved file gets the usual permissions.
    with contextlib.suppress(OSError):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(target, 0o666 & ~umask)


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)

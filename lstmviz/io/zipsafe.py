"""Reading zip-based model files (.pt, .keras) member by member, with caps.

Only members whose names the caller allows are ever read; nothing is extracted to disk;
every member is read with a size cap, and the bytes actually produced are counted, so a
member whose header lies about its size (a zip bomb) cannot make us allocate more than the
cap. Any problem becomes a one-line LstmvizError naming the file.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable

from lstmviz.errors import LstmvizError

MAX_MEMBERS = 100_000
CHUNK = 1 << 20

# Exceptions zipfile raises on damaged or crafted archives.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    struct.error,
    NotImplementedError,
    RuntimeError,
    ValueError,
    KeyError,
    UnicodeDecodeError,
)


class SafeZip:
    """A zip archive opened for reading a few allowed members.

    allowed(name) -> bool decides which members may be read at all; max_member is the cap
    in bytes for one member unless read() is given a smaller one.
    """

    def __init__(
        self, path, *, kind: str, allowed: Callable[[str], bool], max_member: int, max_ratio: int = 1000
    ):
        self.path = path
        self.source = str(path)
        self.kind = kind
        self.allowed = allowed
        self.max_member = max_member
        self.max_ratio = max_ratio
        try:
            self._zip = zipfile.ZipFile(path, "r")
            infos = self._zip.infolist()
        except ZIP_ERRORS as error:
            raise LstmvizError(
                f"not a readable {kind} (damaged zip archive: {error})", source=self.source
            ) from None
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise LstmvizError(f"not a {kind}: the zip holds {len(infos)} members", source=self.source)
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self._infos:
                self.close()
                raise LstmvizError(
                    f"damaged {kind}: the zip names {info.filename!r} twice", source=self.source
                )
            self._infos[info.filename] = info

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        zf = getattr(self, "_zip", None)
        if zf is not None:
            zf.close()

    # -- members -----------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, name: str) -> bool:
        return name in self._infos

    def size(self, name: str) -> int:
        return int(self._infos[name].file_size)

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The bytes of one allowed member, never more than the cap."""
        cap = self.max_member if max_bytes is None else min(max_bytes, self.max_member)
        if not self.allowed(name):
            raise LstmvizError(
                f"refuses to read zip member {name!r} (not a member a {self.kind} has)", source=self.source
            )
        info = self._infos.get(name)
        if info is None:
            raise LstmvizError(f"damaged {self.kind}: the member {name!r} is missing", source=self.source)
        if info.flag_bits & 0x1:
            raise LstmvizError(f"the member {name!r} is encrypted", source=self.source)
        if info.file_size > cap:
            raise LstmvizError(
                f"the member {name!r} is {info.file_size} bytes, more than lstmviz reads ({cap})",
                source=self.source,
            )
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > self.max_ratio * max(
            info.compress_size, 1
        ):
            raise LstmvizError(
                f"the member {name!r} expands {info.file_size // max(info.compress_size, 1)}-fold "
                "(a zip bomb?)",
                source=self.source,
            )
        chunks = []
        total = 0
        try:
            with self._zip.open(info, "r") as handle:
                while True:
                    chunk = handle.read(min(CHUNK, cap + 1 - total))
                    if not chunk:
                        break
                    total += len(chunk)
                    chunks.append(chunk)
                    if total > cap:
                        raise LstmvizError(
                            f"the member {name!r} is larger than its header says", source=self.source
                        )
        except LstmvizError:
            raise
        except ZIP_ERRORS as error:
            raise LstmvizError(
                f"damaged {self.kind}: cannot read {name!r} ({error})", source=self.source
            ) from None
        data = b"".join(chunks)
        if len(data) != info.file_size:
            raise LstmvizError(f"damaged {self.kind}: {name!r} is truncated", source=self.source)
        return data


def is_zip(path) -> bool:
    """zipfile.is_zipfile that never raises: True also for a damaged zip (whose end record
    zipfile rejects with BadZipFile, e.g. "span multiple disks"), so its reader reports the
    damage instead of calling it some other format."""
    try:
        return zipfile.is_zipfile(path)
    except zipfile.BadZipFile:
        return True
    except (OSError, ValueError, struct.error):
        return False


def name_matcher(*patterns: str) -> Callable[[str], bool]:
    """allowed(name) for full-match regular expressions."""
    compiled = [re.compile(p) for p in patterns]
    return lambda name: any(c.fullmatch(name) for c in compiled)

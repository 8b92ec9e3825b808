"""Reading zip-based files (.pt, .keras, .npz, .lstmviz) member by member, with one set of caps.

Every zip reader goes through SafeZip, so every one has the same limits: at most MAX_MEMBERS
members (counted from the end record, before the directory is parsed), no member larger
than MAX_MEMBER_BYTES or the memory budget (lstmviz.io.budget), no member whose header
claims more than MAX_RATIO times its compressed size (deflate cannot do better than ~1032:1,
so more means the header lies or the method is not deflate), and nothing that expands to
more than LARGE_BYTES at more than LARGE_RATIO-fold (a 2 MB file that unpacks to 2 GB): real
weights and inputs compress a few-fold, so such a file is refused before it is unpacked.

Only members whose names the caller allows are ever read; nothing is extracted to disk;
the bytes actually produced are counted, so a member whose header lies about its size cannot
make us allocate more than it declared. Any problem becomes a one-line LstmvizError naming
the file.
"""

from __future__ import annotations

import contextlib
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator

from lstmviz.errors import LstmvizError
from lstmviz.io.budget import check as check_budget
from lstmviz.io.budget import format_bytes

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 2 << 30
MAX_RATIO = 1100
LARGE_BYTES = 16 << 20
LARGE_RATIO = 100
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
    OverflowError,
)


def _declared_members(path) -> int | None:
    """The member count the end record declares, read without parsing the directory."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return None
    try:
        with open(path, "rb") as handle:
            record = end_record(handle)
    except ZIP_ERRORS:
        return None
    if not record:
        return None
    return int(record[getattr(zipfile, "_ECD_ENTRIES_TOTAL", 4)])


def expansion_problem(name: str, size: int, compressed: int) -> str | None:
    """Why `size` bytes stored in `compressed` bytes look like a zip bomb (None if they do not)."""
    ratio = size / max(compressed, 1)
    if ratio > MAX_RATIO or (size > LARGE_BYTES and ratio > LARGE_RATIO):
        return (f"{name} expands {ratio:.0f}-fold to {format_bytes(size)} "
                f"(more than lstmviz unpacks: a zip bomb?)")
    return None


class SafeZip:
    """A zip archive opened for reading a few allowed members.

    allowed(name) -> bool decides which members may be read at all; max_member is a cap in
    bytes for one member below the common MAX_MEMBER_BYTES (read() may give a smaller one).
    """

    def __init__(
        self, path, *, kind: str, allowed: Callable[[str], bool], max_member: int = MAX_MEMBER_BYTES
    ):
        self.path = path
        self.source = str(path)
        self.kind = kind
        self.allowed = allowed
        self.max_member = min(int(max_member), MAX_MEMBER_BYTES)
        declared = _declared_members(path)
        if declared is not None and declared > MAX_MEMBERS:
            raise LstmvizError(
                f"not a {kind}: the zip declares {declared} members, more than the {MAX_MEMBERS} "
                "lstmviz reads", source=self.source,
            )
        try:
            self._zip = zipfile.ZipFile(path, "r")
            infos = self._zip.infolist()
        except ZIP_ERRORS as error:
            raise LstmvizError(
                f"not a readable {kind} (damaged zip archive: {error})", source=self.source
            ) from None
        if len(infos) > MAX_MEMBERS:
            self.close()
            raise LstmvizError(
                f"not a {kind}: the zip holds {len(infos)} members, more than the {MAX_MEMBERS} "
                "lstmviz reads", source=self.source,
            )
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self._infos:
                self.close()
                raise LstmvizError(
                    f"damaged {kind}: the zip names {info.filename!r} twice", source=self.source
                )
            self._infos[info.filename] = info
        # The members we may read, together: many small bombs are one big one.
        # (Each member read is checked against the budget; readers add up what they keep.)
        ours = [i for i in self._infos.values() if self._allowed(i.filename)]
        packed = sum(i.compress_size for i in ours if i.compress_type != zipfile.ZIP_STORED)
        unpacked = sum(i.file_size for i in ours if i.compress_type != zipfile.ZIP_STORED)
        problem = expansion_problem("its contents", unpacked, packed) if unpacked > LARGE_BYTES else None
        if problem:
            self.close()
            raise LstmvizError(problem, source=self.source)

    def _allowed(self, name: str) -> bool:
        try:
            return bool(self.allowed(name))
        except Exception:
            return False

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

    def _checked(self, name: str, max_bytes: int | None) -> tuple[zipfile.ZipInfo, int]:
        cap = self.max_member if max_bytes is None else min(max_bytes, self.max_member)
        if not self._allowed(name):
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
                f"the member {name!r} is {format_bytes(info.file_size)}, more than lstmviz reads "
                f"({format_bytes(cap)})",
                source=self.source,
            )
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise LstmvizError(
                    f"damaged {self.kind}: the stored member {name!r} claims {info.file_size} bytes "
                    f"in {info.compress_size}", source=self.source,
                )
        else:
            problem = expansion_problem(f"the member {name!r}", info.file_size, info.compress_size)
            if problem:
                raise LstmvizError(problem, source=self.source)
        # Data is checked against the budget; metadata read under its own small cap is not.
        if max_bytes is None:
            check_budget(info.file_size, f"the member {name!r}", self.source)
        return info, cap

    @contextlib.contextmanager
    def open(self, name: str, max_bytes: int | None = None) -> Iterator[CappedStream]:
        """A stream over one allowed member that never yields more than its header declared;
        zip damage met while reading becomes an LstmvizError."""
        info, _ = self._checked(name, max_bytes)
        try:
            with self._zip.open(info, "r") as handle:
                yield CappedStream(handle, info.file_size, name, self)
        except LstmvizError:
            raise
        except ZIP_ERRORS as error:
            raise LstmvizError(
                f"damaged {self.kind}: cannot read {name!r} ({error})", source=self.source
            ) from None

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The bytes of one allowed member, never more than the cap."""
        with self.open(name, max_bytes) as stream:
            data = stream.read()
            if stream.read(1):
                raise LstmvizError(f"the member {name!r} is larger than its header says", source=self.source)
        size = self._infos[name].file_size
        if len(data) != size:
            raise LstmvizError(f"damaged {self.kind}: {name!r} is truncated", source=self.source)
        return data


class CappedStream:
    """A member's bytes, at most `limit` of them: reading past the header's size raises."""

    def __init__(self, handle, limit: int, name: str, archive: SafeZip):
        self._handle = handle
        self._limit = limit
        self._name = name
        self._archive = archive
        self.position = 0

    def _over(self) -> LstmvizError:
        return LstmvizError(
            f"the member {self._name!r} is larger than its header says", source=self._archive.source
        )

    def read(self, size: int = -1) -> bytes:
        left = self._limit - self.position
        if size is None or size < 0:
            chunks = []
            while True:
                chunk = self._handle.read(min(CHUNK, left + 1))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
                if left < 0:
                    raise self._over()
            data = b"".join(chunks)
        else:
            if left <= 0:
                # one byte past the declared end tells a lying header from a clean end
                if size and self._handle.read(1):
                    raise self._over()
                return b""
            data = self._handle.read(min(size, left))
        self.position += len(data)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        left = self._limit - self.position
        if left <= 0:
            return 0
        count = self._handle.readinto(view[: min(len(view), left)])
        self.position += count
        return count

    def readline(self, size: int = -1) -> bytes:  # numpy's header parser may ask for it
        left = self._limit - self.position
        data = self._handle.readline(left if size is None or size < 0 else min(size, left))
        self.position += len(data)
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

"""The one exception type lstmviz raises for bad input, and the means to report any failure
as one safe line.

LstmvizError's message is a single line that names the file (or field) and the problem,
ready to be printed by the CLI (exit status 2) or shown in a dialog by the window.

`sanitize` makes any text safe for that one line: a file can hold names with newlines and
terminal escapes (a pickle's module name, a tensor name), which printed raw would forge a
second line or recolour the terminal. `reading(path)` marks the file a reader is working on,
so a failure nobody foresaw (an OverflowError deep in a parser) is still attributed to it.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import unicodedata
from collections.abc import Iterator


class LstmvizError(ValueError):
    """Bad input: a malformed file, a wrong shape, a non-finite value, a missing path."""

    def __init__(self, message: str, *, source: str | None = None):
        self.source = source
        self.problem = message
        super().__init__(f"{source}: {message}" if source else message)

    def with_source(self, source: str) -> LstmvizError:
        """The same problem, attributed to a file (kept if a source is already named)."""
        if self.source:
            return self
        return LstmvizError(self.problem, source=source)


# -- one safe line -----------------------------------------------------------------------------
_NEWLINES = re.compile(r"\s*(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])\s*")
MAX_LINE_CHARS = 2000


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    # Cc: C0/C1 controls (ESC, BEL, backspace, CSI 0x9b); Cf: bidi overrides and other
    # invisible format characters; Cs: lone surrogates (undecodable bytes); Co/Cn: private
    # and unassigned code points a terminal may draw as anything.
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn")


def sanitize(text, limit: int | None = MAX_LINE_CHARS) -> str:
    """One printable line: newlines folded into a space, tabs made spaces, every other
    control or format character shown as an escape (ESC as \\x1b); cut at `limit` chars."""
    text = _NEWLINES.sub(" ", str(text)).replace("\t", " ")
    out = "".join(_escape(c) if c != " " and _unsafe(c) else c for c in text)
    if limit is not None and len(out) > limit:
        out = out[: limit - 3] + "..."
    return out


# -- which file is being read --------------------------------------------------------------------
_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("lstmviz_reading", default=None)
SOURCE_ATTRIBUTE = "lstmviz_source"


def current_source() -> str | None:
    """The file a reader is working on now (None outside every `reading` block)."""
    return _reading.get()


def source_of(error: BaseException) -> str | None:
    """The file an exception was raised while reading, if `reading` saw it pass."""
    if isinstance(error, LstmvizError) and error.source:
        return error.source
    return getattr(error, SOURCE_ATTRIBUTE, None)


@contextlib.contextmanager
def reading(path) -> Iterator[None]:
    """Readers' entry points run inside this: an LstmvizError without a source gets the
    path, and any other exception is tagged with it (the innermost file wins), so the CLI and
    the window can say which file a failure came from."""
    source = str(path)
    token = _reading.set(source)
    try:
        yield
    except LstmvizError as error:
        if not error.source:
            raise error.with_source(source) from None
        raise
    except BaseException as error:
        if getattr(error, SOURCE_ATTRIBUTE, None) is None:
            with contextlib.suppress(AttributeError, TypeError):
                setattr(error, SOURCE_ATTRIBUTE, source)
        raise
    finally:
        _reading.reset(token)

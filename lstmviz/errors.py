"""The one exception type lstmviz raises for bad input.

Its message is a single line that names the file (or field) and the problem, ready to be
printed by the CLI (exit status 2) or shown in a dialog by the window.
"""

from __future__ import annotations


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

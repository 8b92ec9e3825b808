"""Writing a character vocabulary (lstmviz.core.text.Vocabulary) as JSON, atomically.

Kept in io so the core never imports the file layer (the layering contract in pyproject.toml).
"""

from __future__ import annotations

import json

from lstmviz.io.atomic import atomic_write


def save_vocabulary(vocabulary, path) -> None:
    with atomic_write(path) as handle:
        json.dump(vocabulary.to_dict(), handle, ensure_ascii=False, indent=1)
        handle.write("\n")

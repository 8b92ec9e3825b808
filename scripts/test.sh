#!/usr/bin/env bash
# Run the whole test suite (creating .venv and installing lstmviz[test] when needed).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/core -x
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
EXTRAS=test source "$root/scripts/setup_env.sh"
cd "$root"
echo "== ruff" >&2
.venv/bin/ruff check lstmviz tests scripts
echo "== lint-imports (layering contracts in pyproject.toml)" >&2
.venv/bin/lint-imports --no-cache >&2 || { echo "lint-imports: a layering contract is broken" >&2; exit 1; }
echo "== pytest" >&2
# tests/packaging/test_install.py (marker `packaging`, ~1-2 min) builds the wheel and the sdist
# and installs each, and lstmviz through pipx, into fresh venvs, with the dependencies from
# the package index; `scripts/test.sh -m "not packaging"` leaves it out while you iterate.
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"

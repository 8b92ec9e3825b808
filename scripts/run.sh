#!/usr/bin/env bash
# Run lstmviz (creating .venv and installing it first when needed). Arguments go to lstmviz:
#   scripts/run.sh                      the window, on the memory-cell demo
#   scripts/run.sh trace --model M --input X --out trace.csv
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
EXTRAS=all source "$root/scripts/setup_env.sh"
exec "$root/.venv/bin/lstmviz" "$@"

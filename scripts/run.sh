#!/usr/bin/env bash
# Run lstmviz (creating .venv and installing it first when needed). Arguments go to lstmviz:
#   scripts/run.sh                      the window, on the memory-cell demo
#   scripts/run.sh trace --model M --input X --out trace.csv
# With no arguments and no display, it traces the demo to a CSV file instead of failing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
EXTRAS=all source "$root/scripts/setup_env.sh"
if [ $# -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
   && [ "${QT_QPA_PLATFORM:-}" != "offscreen" ]; then
  echo "run.sh: no display here, so instead of the window: the memory-cell demo traced to CSV" >&2
  echo "run.sh: (on a desktop, scripts/run.sh opens the window; see README.md)" >&2
  exec "$root/.venv/bin/lstmviz" demo
fi
exec "$root/.venv/bin/lstmviz" "$@"

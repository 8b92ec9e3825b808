#!/usr/bin/env bash
# Sourced by run.sh and test.sh: create .venv when missing and install what is needed.
#   EXTRAS=test source scripts/setup_env.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
py="${PYTHON:-python3}"

# System libraries Qt needs for a real X window and for the tests under Xvfb.
apt_packages=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
  libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libegl1 libgl1 \
  libfontconfig1 libdbus-1-3 fonts-dejavu-core)
# `lstmviz install-desktop` refreshes the desktop's caches with these; its tests validate with them.
apt_packages+=(desktop-file-utils shared-mime-info)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing system packages: ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi

# Reinstall only when pyproject.toml or the extras asked for change.
extras="${EXTRAS:-}"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp="$venv/.lstmviz-installed-$(printf '%s' "$extras" | tr ',' '-')"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log="$venv/install.log"
  echo "setup: installing lstmviz$([ -n "$extras" ] && echo "[$extras]") into .venv (log: $log)" >&2
  if ! (cd "$root" && "$venv/bin/python" -m pip install -e "$spec") >"$log" 2>&1 \
     || ! "$venv/bin/python" -c "import lstmviz, PySide6, pyqtgraph" >>"$log" 2>&1; then
    echo "setup: installing failed; the end of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

"""A real window: `lstmviz` on an X server (Xvfb, the xcb platform), photographed from outside.

Skipped only when xvfb-run is not installed (scripts/setup_env.sh installs xvfb).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.realwindow

ROOT = Path(__file__).resolve().parents[2]

# Runs on the same X display as lstmviz: waits until the cell diagram is on the screen (its
# yellow gate boxes), lets it settle, and saves the whole screen.
GRABBER = r"""
import sys, time
from PySide6.QtGui import QGuiApplication

app = QGuiApplication(sys.argv[:1])
out, timeout = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + timeout

def grab():
    return app.primaryScreen().grabWindow(0).toImage()

def has_gates(image):
    hits = 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            c = image.pixelColor(x, y)
            if c.red() > 240 and 210 < c.green() < 235 and 100 < c.blue() < 140:
                hits += 1
    return hits > 40

image = grab()
while not has_gates(image) and time.monotonic() < deadline:
    time.sleep(0.3)
    image = grab()
time.sleep(1.0)
image = grab()
image.save(out)
print("found" if has_gates(image) else "timeout", flush=True)
"""


def lstmviz_command() -> list[str]:
    exe = Path(sys.executable).with_name("lstmviz")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lstmviz"]


def test_lstmviz_opens_a_real_window(tmp_path):
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (scripts/setup_env.sh installs the xvfb package)")
    grabber = tmp_path / "grab.py"
    grabber.write_text(GRABBER)
    shot = tmp_path / "window.png"
    log = tmp_path / "lstmviz.log"
    alive = tmp_path / "alive"
    app = " ".join(shlex.quote(part) for part in lstmviz_command())
    script = (
        f"{app} > {shlex.quote(str(log))} 2>&1 & pid=$!\n"
        f"{shlex.quote(sys.executable)} {shlex.quote(str(grabber))} {shlex.quote(str(shot))} 60\n"
        f"status=$?\n"
        f"kill -0 $pid 2>/dev/null && touch {shlex.quote(str(alive))}\n"
        "kill $pid 2>/dev/null; wait $pid 2>/dev/null\n"
        "exit $status\n"
    )
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="xcb",
        LSTMVIZ_CONFIG_DIR=str(tmp_path / "config"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
    )
    env.pop("DISPLAY", None)
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "sh", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    output = log.read_text() if log.exists() else ""
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{output}"
    assert "found" in result.stdout, f"no cell diagram on the screen\n{output}"
    assert alive.exists(), f"lstmviz had exited before the screenshot\n{output}"
    assert "Traceback" not in output, output

    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)
    colors = set()
    dark = 0
    samples = 0
    for y in range(0, 800, 8):
        for x in range(0, 1280, 8):
            c = image.pixelColor(x, y)
            colors.add(c.rgb())
            dark += c.lightness() < 10
            samples += 1
    assert len(colors) > 100, "the screen is (nearly) one color"
    assert dark / samples < 0.5, "most of the screen is black: the window is not there"

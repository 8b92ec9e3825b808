"""Nothing left behind: kill -9 or SIGTERM in the middle of a large CSV export by the real
command leaves no partial file and no temporary, and the earlier file intact.

With O_TMPFILE (Linux) the export has no name until it is complete, so there is nothing to
leave. Without it (forced here, as on other systems) the temporary `.out.csv.lstmviz-tmp-PID`
is removed by the SIGTERM handler, and after kill -9 by the next lstmviz run in that folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lstmviz.core.params import LSTMParams
from lstmviz.io.npz import write_npz_model
from lstmviz.io.sequences import write_sequence

EARLIER = "an earlier export\n"

# The real command, optionally without O_TMPFILE (lstmviz.io.atomic.use_tmpfile).
CHILD = """
import sys
import lstmviz.io.atomic as atomic
atomic.use_tmpfile = sys.argv[1] == "tmpfile"
from lstmviz.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    write_npz_model(LSTMParams.random(32, 2, seed=0), tmp / "m.npz")
    write_sequence(np.random.default_rng(0).normal(size=(20_000, 2)), tmp / "x.csv")  # ~75 MB of trace CSV
    return tmp


def _written_so_far(pid: int, folder, named: bool) -> int:
    """Bytes the child has written to its pending export (0 while it has not started)."""
    if named:
        with os.scandir(folder) as entries:
            for entry in entries:
                if ".lstmviz-tmp-" in entry.name:
                    return entry.stat().st_size
        return 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith(str(folder)) and link.endswith("(deleted)"):  # the O_TMPFILE file
                return os.stat(f"/proc/{pid}/fd/{fd}").st_size
        except OSError:
            continue
    return 0


def _export_then_signal(inputs, folder, mode: str, signum: int) -> int:
    out = folder / "out.csv"
    out.write_text(EARLIER)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, "trace", "--model", str(inputs / "m.npz"),
         "--input", str(inputs / "x.csv"), "--out", str(out)],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    while _written_so_far(proc.pid, folder, mode == "named") < (1 << 20):
        assert proc.poll() is None, f"the export ended before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signum)
    proc.communicate(timeout=120)
    return proc.returncode


@pytest.mark.parametrize("mode", ["tmpfile", "named"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "SIGTERM"])
def test_an_interrupted_export_leaves_nothing_behind(inputs, tmp_path, mode, signum):
    status = _export_then_signal(inputs, tmp_path, mode, signum)
    out = tmp_path / "out.csv"
    assert status == (-9 if signum == signal.SIGKILL else 143)
    assert out.read_text() == EARLIER
    left = sorted(p.name for p in tmp_path.iterdir())
    if mode == "named" and signum == signal.SIGKILL:
        # no handler runs on kill -9: the temporary is there until the next lstmviz run here
        assert len(left) == 2 and left[0].startswith(".out.csv.lstmviz-tmp-")
        demo = subprocess.run([sys.executable, "-m", "lstmviz", "demo", "--out", "demo.csv"], cwd=tmp_path,
                              capture_output=True, timeout=120)
        assert demo.returncode == 0
        left = sorted(p.name for p in tmp_path.iterdir() if p.name != "demo.csv")
    assert left == ["out.csv"]

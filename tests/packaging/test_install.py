"""The wheel and the sdist stand alone: built from a copy of the source tree without .git
(as from a tarball), each installed into a fresh venv, the copy deleted, and lstmviz run from
another folder as a new user would: --version, demo, trace on a committed fixture, the
offscreen screenshot of the bracket model, load_model from Python, the desktop launcher, and
a .lstmviz document opened through the launcher's own command line. pipx installs work too.

The dependencies come from the package index (pip's cache is reused); lstmviz itself only
ever from the built files. The running suite's own source tree is on no path the installed
lstmviz uses: its module, its resources and sys.path all lie inside the venv.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.packaging.test_about import PROJECT_VERSION

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "frameworks"
# Never copied: version control, local environments and build output.
IGNORED = (".git", ".venv", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache",
           ".ruff_cache", "*.part")
BUNDLED = ("lstmviz/resources/models/bracket.npz", "lstmviz/resources/models/bracket.vocab.json",
           "lstmviz/resources/icons/lstmviz.svg", "lstmviz/resources/icons/lstmviz-48.png")


def copy_source(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(*IGNORED))
    return dest


def run(cmd, *, cwd, env=None, timeout=600, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)
    return result


def clean_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """The user's environment with this suite's venv taken off PATH and lstmviz's folders in tmp."""
    ours = str(ROOT / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_PYTHON"))}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != ours]
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["LSTMVIZ_STATE_DIR"] = str(home / "state")
    env["LSTMVIZ_CONFIG_DIR"] = str(home / "config")
    env["XDG_DATA_HOME"] = str(home / "share")
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """`python -m build` of a .git-less copy: the sdist, then the wheel built from the sdist."""
    work = tmp_path_factory.mktemp("build")
    src = copy_source(work / "lstmviz-src")
    run([sys.executable, "-m", "build", "--outdir", work / "dist", src], cwd=work)
    shutil.rmtree(src)  # from here on, nothing can come from the copy
    wheel, = (work / "dist").glob("lstmviz-*.whl")
    sdist, = (work / "dist").glob("lstmviz-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_wheel_and_the_sdist_carry_the_bundled_files(dist):
    assert dist["wheel"].name == f"lstmviz-{PROJECT_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(dist["wheel"]) as zf:
        names = set(zf.namelist())
        # The fixtures and the tests are the source tree's, not the installed program's.
        assert not [n for n in names if n.startswith(("tests/", "resources/"))]
        entry_points = zf.read(f"lstmviz-{PROJECT_VERSION}.dist-info/entry_points.txt").decode()
    assert set(BUNDLED) <= names
    assert "lstmviz = lstmviz.cli:main" in entry_points
    with tarfile.open(dist["sdist"]) as tf:
        members = {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name}
    assert set(BUNDLED) | {"pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in"} <= members


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_from_the_built_file_lstmviz_works_on_its_own(kind, dist, tmp_path):
    venv, home, elsewhere = tmp_path / "venv", tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    # This suite's pip installs into the fresh venv (no second pip to bootstrap).
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", dist[kind]], cwd=tmp_path)
    env = clean_env(venv / "bin", home)
    lstmviz = venv / "bin" / "lstmviz"

    # --version: the version written in pyproject.toml, from the installed metadata.
    lines = run([lstmviz, "--version"], cwd=elsewhere, env=env).stdout.splitlines()
    assert lines[0] == f"lstmviz {PROJECT_VERSION}"
    assert lines[-1].startswith(f"lstmviz package at {venv}/")

    # demo: a CSV whose h is o * tanh(c) at every step and unit.
    run([lstmviz, "demo", "--out", "t.csv"], cwd=elsewhere, env=env)
    with open(elsewhere / "t.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) > 10
    units = [k[2:] for k in rows[0] if k.startswith("h_")]
    for row in rows:
        for k in units:
            assert float(row[f"h_{k}"]) == pytest.approx(float(row[f"o_{k}"]) * np.tanh(float(row[f"c_{k}"])),
                                                         abs=1e-12)

    # trace on a committed PyTorch fixture: h matches torch.nn.LSTM's own float64 output.
    expected = np.load(FIXTURES / "torch_lstm.pt.expected.npz")
    np.savetxt(elsewhere / "x.csv", expected["x0"], delimiter=",", fmt="%.17g")
    run([lstmviz, "trace", "--model", FIXTURES / "torch_lstm.pt", "--input", "x.csv", "--out", "trace.csv"],
        cwd=elsewhere, env=env)
    with open(elsewhere / "trace.csv", newline="") as handle:
        trace = list(csv.DictReader(handle))
    n = expected["h64_0"].shape[1]
    h = np.array([[float(row[f"h_{k}"]) for k in range(n)] for row in trace])
    np.testing.assert_allclose(h, expected["h64_0"], rtol=0, atol=1e-12)

    # screenshot: the bundled bracket model is found and the window renders offscreen.
    result = run([lstmviz, "screenshot", "shot.png", "--preset", "brackets", "--size", "900x600"],
                 cwd=elsewhere, env=env)
    head = (elsewhere / "shot.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", result.stderr
    assert int.from_bytes(head[16:20], "big") >= 900 and int.from_bytes(head[20:24], "big") >= 600

    # From Python: load_model, and where everything lstmviz uses lies.
    probe = ("import json, sys, lstmviz; from lstmviz.resources_path import resource; "
             "p = lstmviz.load_model(sys.argv[1]); "
             "print(json.dumps({'n': p.n, 'm': p.m, 'file': lstmviz.__file__, "
             "'model': str(resource('models', 'bracket.npz')), "
             "'icon': str(resource('icons', 'lstmviz.svg')), "
             "'path': sys.path, 'version': lstmviz.__version__}))")
    facts = json.loads(run([python, "-c", probe, FIXTURES / "torch_lstm.pt"], cwd=elsewhere, env=env).stdout)
    assert (facts["n"], facts["m"]) == (n, expected["x0"].shape[1])
    assert facts["version"] == PROJECT_VERSION
    site = venv.resolve()
    for key in ("file", "model", "icon"):
        assert Path(facts[key]).resolve().is_relative_to(site), (key, facts[key])
        assert Path(facts[key]).exists()
    assert not [p for p in facts["path"] if p and Path(p).resolve().is_relative_to(ROOT)], facts["path"]

    # The launcher: install-desktop from the installed files, then a .lstmviz opened through
    # the entry's own Exec line, as a file manager does on a double-click.
    run([lstmviz, "install-desktop"], cwd=elsewhere, env=env)
    share = home / "share"
    entry = (share / "applications" / "lstmviz.desktop").read_text()
    exec_line = next(line[5:] for line in entry.splitlines() if line.startswith("Exec="))
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "lstmviz.png").read_bytes()[:4] == b"\x89PNG"
    make_doc = ("import sys; from lstmviz.commands.open import build_document; "
                "from lstmviz.document.files import snapshot; "
                "from lstmviz.io.document_file import write_document; "
                "doc = build_document(preset='forget-worked'); write_document(snapshot(doc), sys.argv[1]); "
                "print(doc.title)")
    title = run([python, "-c", make_doc, elsewhere / "saved.lstmviz"], cwd=elsewhere, env=env).stdout.strip()
    argv = [arg.replace("%f", str(elsewhere / "saved.lstmviz")) for arg in shlex.split(exec_line)]
    assert Path(argv[0]) == lstmviz
    assert window_opened_on(argv, elsewhere, env, home / "state") == title
    run([lstmviz, "install-desktop", "--uninstall"], cwd=elsewhere, env=env)
    assert not (share / "applications" / "lstmviz.desktop").exists()


def window_opened_on(argv, cwd, env, state_dir: Path, wait: float = 120.0) -> str:
    """Start the window and return the title of the document it shows, read from the session
    lock a window writes once it has painted; then close it."""
    log_path = Path(cwd) / "window.log"
    with open(log_path, "w") as log, subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                                       stdout=log, stderr=subprocess.STDOUT) as process:
        try:
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                for lock in state_dir.glob("*.lock"):
                    info = json.loads(lock.read_text() or "{}")
                    if info.get("pid") == process.pid and "title" in info:
                        return info["title"]
                if process.poll() is not None:
                    pytest.fail(f"{argv} exited {process.returncode}: {log_path.read_text()[-3000:]}",
                                pytrace=False)
                time.sleep(0.2)
            pytest.fail(f"{argv}: no window after {wait} s: {log_path.read_text()[-3000:]}", pytrace=False)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # the window closes on Ctrl+C (gui/app.py)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.mark.skipif(shutil.which("pipx", path=str(Path(sys.executable).parent)) is None,
                    reason="pipx is not installed beside this Python")
def test_pipx_installs_from_the_source_folder_and_the_wheel_with_all_extras(dist, tmp_path):
    pipx = Path(sys.executable).parent / "pipx"
    home = tmp_path / "home"
    env = clean_env(tmp_path / "pipx-bin", home)
    env.update(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "pipx-bin"),
               PIPX_MAN_DIR=str(tmp_path / "pipx-man"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    lstmviz = tmp_path / "pipx-bin" / "lstmviz"

    # `pipx install .` in a source folder.
    src = copy_source(tmp_path / "src")
    run([pipx, "install", "."], cwd=src, env=env)
    shutil.rmtree(src)
    out = run([lstmviz, "--version"], cwd=elsewhere, env=env).stdout
    assert out.startswith(f"lstmviz {PROJECT_VERSION}\n") and f"{tmp_path / 'pipx'}/venvs/lstmviz/" in out
    run([lstmviz, "demo", "--out", "t.csv"], cwd=elsewhere, env=env)
    assert (elsewhere / "t.csv").read_text().startswith("t,")
    run([pipx, "uninstall", "lstmviz"], cwd=elsewhere, env=env)
    assert not lstmviz.exists()

    # `pipx install 'lstmviz[all]'` from the built wheel: the extras come along.
    run([pipx, "install", f"{dist['wheel']}[all]"], cwd=elsewhere, env=env)
    out = run([lstmviz, "--version"], cwd=elsewhere, env=env).stdout
    installed = next(line for line in out.splitlines() if line.startswith("Optional, installed:"))
    extras = ("h5py", "onnx", "safetensors", "Pillow", "imageio-ffmpeg")
    assert all(name in installed for name in extras), installed
    layers = run([lstmviz, "inspect", FIXTURES / "keras_seq.keras"], cwd=elsewhere, env=env).stdout
    assert "lstm" in layers.lower()

"""`lstmviz install-desktop`: the freedesktop menu entry, icons and MIME type written into
$XDG_DATA_HOME, valid, and removed again by --uninstall; `lstmviz FILE` opens the file."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lstmviz import cli
from lstmviz.commands import install_desktop

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_install_writes_a_valid_entry_icons_and_mime_type(data_home, capsys):
    assert cli.main(["install-desktop"]) == 0
    out = capsys.readouterr().out

    entry_path = data_home / "applications" / "lstmviz.desktop"
    entry = read_entry(entry_path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "lstmviz"
    assert entry["Icon"] == "lstmviz"
    assert entry["Terminal"] == "false"
    assert entry["MimeType"] == "application/x-lstmviz;"
    # The command is this very interpreter's lstmviz, by absolute path, taking one file.
    command, field = entry["Exec"].rsplit(" ", 1)
    assert field == "%f"
    assert Path(command.strip('"')).is_absolute()
    assert Path(command.split(" ")[0].strip('"')).parent == Path(sys.executable).parent
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr

    mime = ET.parse(data_home / "mime" / "packages" / "lstmviz.xml").getroot()
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    kinds = mime.findall("m:mime-type", ns)
    assert [k.get("type") for k in kinds] == ["application/x-lstmviz"]
    assert [g.get("pattern") for g in kinds[0].findall("m:glob", ns)] == ["*.lstmviz"]

    for size in install_desktop.ICON_SIZES:
        png = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "lstmviz.png"
        head = png.read_bytes()[:24]
        assert head[:8] == PNG_MAGIC
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert (width, height) == (size, size), png
    svg = data_home / "icons" / "hicolor" / "scalable" / "apps" / "lstmviz.svg"
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"

    # It says what it wrote: every one of its files, by path.
    ours = set(install_desktop.planned_paths(data_home))
    assert len(ours) == 2 + 1 + len(install_desktop.ICON_SIZES)
    assert all(str(p) in out for p in ours)

    if shutil.which("update-mime-database"):
        # The desktop's own MIME database now knows the type (what a file manager reads).
        globs = (data_home / "mime" / "globs2").read_text()
        assert "application/x-lstmviz:*.lstmviz" in globs


def test_uninstall_removes_exactly_what_install_wrote(data_home, capsys):
    # Something of the user's own beside ours is left alone.
    mine = data_home / "applications" / "editor.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\nType=Application\nName=Editor\nExec=editor %f\n")
    cli.main(["install-desktop"])
    written = set(install_desktop.planned_paths(data_home))
    assert written <= files_under(data_home)
    capsys.readouterr()

    assert cli.main(["install-desktop", "--uninstall"]) == 0
    out = capsys.readouterr().out
    left = files_under(data_home)
    assert not (written & left)
    assert mine in left and mine.read_text().startswith("[Desktop Entry]")
    assert all(str(p) in out for p in written)
    # Nothing that update-mime-database / update-desktop-database regenerated still names us.
    assert not [p for p in left if b"lstmviz" in p.read_bytes() and p != mine]
    if not (shutil.which("update-mime-database") or shutil.which("update-desktop-database")):
        assert left == {mine}

    assert cli.main(["install-desktop", "--uninstall"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


@pytest.mark.parametrize("platform, words", [("darwin", "lstmviz.app"), ("win32", "Start Menu")])
def test_macos_and_windows_say_what_they_would_do_and_write_nothing(data_home, capsys, platform, words):
    args = cli.build_parser().parse_args(["install-desktop"])
    assert install_desktop.run(args, platform=platform) == 0
    out = capsys.readouterr().out
    assert words in out and "nothing was written" in out and ".lstmviz" in out
    assert not data_home.exists()


@pytest.mark.parametrize("path, exec_arg", [
    ("/opt/lstmviz/bin/lstmviz", "/opt/lstmviz/bin/lstmviz"),
    ("/home/a b/lstmviz", '"/home/a b/lstmviz"'),
    ('/x/"q"/$HOME/50%', '"/x/\\\\"q\\\\"/\\\\$HOME/50%%"'),
])
def test_exec_quoting_follows_the_desktop_entry_spec(path, exec_arg):
    # Exec quoting: reserved characters mean double quotes, with " ` $ \ backslash-escaped; the
    # value is a string, so each backslash is doubled again; % is written %%.
    assert install_desktop.exec_quote(path) == exec_arg
    entry = install_desktop.desktop_entry([path])
    assert f"Exec={exec_arg} %f" in entry.splitlines()


def test_lstmviz_with_a_path_opens_the_window_on_it(tmp_path, monkeypatch):
    # A file manager runs `lstmviz /path/to/file.lstmviz`: that is `lstmviz open FILE`.
    seen = {}
    monkeypatch.setattr("lstmviz.commands.open.run", lambda args: seen.setdefault("file", args.file) and 0)
    doc = tmp_path / "demo"  # named like a subcommand: only an existing path counts
    doc.write_text("x")
    monkeypatch.chdir(tmp_path)
    cli.main([str(doc)])
    assert seen == {"file": str(doc)}
    seen.clear()
    assert cli.main(["demo", "--out", str(tmp_path / "t.csv")]) == 0  # the subcommand still wins
    assert seen == {} and (tmp_path / "t.csv").read_text().startswith("t,")

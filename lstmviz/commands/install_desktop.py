"""lstmviz install-desktop [--uninstall]: lstmviz in the applications menu, .lstmviz files
opening in it with a double-click.

On Linux and the BSDs it writes, into the user's data folder ($XDG_DATA_HOME, by default
~/.local/share, as platformdirs reports it), the freedesktop files a desktop reads:
    applications/lstmviz.desktop             the menu entry (Exec=<this lstmviz> %f)
    icons/hicolor/NxN/apps/lstmviz.png       the icon, each size; scalable/apps/lstmviz.svg
    mime/packages/lstmviz.xml                the application/x-lstmviz type for *.lstmviz
then refreshes the desktop's caches with update-mime-database and update-desktop-database
when they are installed (without them a desktop picks the files up at its next login).
`--uninstall` removes exactly those files. The entry is named lstmviz.desktop because the
window calls itself that (QGuiApplication.setDesktopFileName in gui/app.py), which is how
Wayland desktops match the window to the icon.

macOS and Windows use other mechanisms; there it says what it would do and changes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.resources_path import resource

APP_ID = "lstmviz"
MIME_TYPE = "application/x-lstmviz"
SUFFIX = ".lstmviz"
# The sizes icon themes look for (hicolor); the PNGs are rendered from lstmviz.svg by
# scripts/render_icons.py and shipped in lstmviz/resources/icons/.
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "install-desktop",
        help="add lstmviz to the desktop's applications menu; .lstmviz files open in it",
        description="Write a menu entry, the icon and the application/x-lstmviz file type into "
        "your data folder ($XDG_DATA_HOME or ~/.local/share), so lstmviz appears among your "
        "applications and .lstmviz documents open in it with a double-click. Run it again after "
        "moving or reinstalling lstmviz. Nothing is written outside your own data folder.",
    )
    parser.add_argument("--uninstall", action="store_true", help="remove what install-desktop wrote")
    return parser


def run(args, platform: str = sys.platform) -> int:
    command = launch_command()
    if platform == "darwin":
        print(macos_instead(command))
        return 0
    if platform.startswith(("win", "cygwin", "msys")):
        print(windows_instead(command))
        return 0
    data = data_home()
    if args.uninstall:
        removed = uninstall(data)
        if removed:
            print(f"lstmviz: removed {len(removed)} files:")
            print("\n".join(f"  {path}" for path in removed))
        else:
            print(f"lstmviz: nothing to remove: no lstmviz launcher under {data}")
    else:
        written = install(data, command)
        print(f"lstmviz: wrote {len(written)} files:")
        print("\n".join(f"  {path}" for path in written))
        print(f"lstmviz: the applications menu now starts `{' '.join(command)}`; "
              f"{SUFFIX} files open in it ({MIME_TYPE}). Undo with `lstmviz install-desktop --uninstall`.")
    for note in refresh_databases(data):
        print(f"lstmviz: {note}")
    return 0


# -- what is written ------------------------------------------------------------------------------
def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share (freedesktop's base directory rule)."""
    import platformdirs

    return Path(platformdirs.user_data_path())


def launch_command() -> list[str]:
    """How a menu starts this very lstmviz, by absolute path: the bin/ folder of a venv or a
    pipx install is usually not on the desktop session's PATH."""
    script = Path(sys.executable).parent / ("lstmviz.exe" if os.name == "nt" else "lstmviz")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "lstmviz"]


def exec_quote(arg: str) -> str:
    """One argument of a desktop entry's Exec key (Desktop Entry Specification, "The Exec
    key"): quoted when it holds a reserved character, with ", `, $ and \\ escaped inside."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    quoted = arg
    if any(ch in reserved for ch in arg):
        quoted = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    # The value is then a string: its own backslashes are escaped once more; % is a field code.
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(command: list[str]) -> str:
    if any("\n" in arg or "\r" in arg for arg in command):
        raise LstmvizError("a line break in the path of lstmviz cannot go into a menu entry",
                           source=command[0])
    try_exec = command[0].replace("\\", "\\\\")  # a plain string value: only \\ is escaped
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=lstmviz",
        "GenericName=LSTM cell viewer",
        "Comment=See inside an LSTM cell: every gate, the cell state and the gradient flow, "
        "with the real numbers",
        f"Exec={' '.join(exec_quote(arg) for arg in command)} %f",
        f"TryExec={try_exec}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Education;ArtificialIntelligence;",
        "Keywords=LSTM;RNN;recurrent;neural network;machine learning;",
        f"MimeType={MIME_TYPE};",
        f"StartupWMClass={APP_ID}",
        "",
    ])


def mime_package() -> str:
    # A .lstmviz file is a zip: sub-class-of lets a desktop fall back to archive tools, and the
    # glob (not zip magic) is what makes it ours.
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>lstmviz document</comment>
    <sub-class-of type="application/zip"/>
    <icon name="{APP_ID}"/>
    <glob pattern="*{SUFFIX}"/>
  </mime-type>
</mime-info>
"""


def planned_paths(data: Path) -> list[Path]:
    """Every file install-desktop writes under the data folder, in the order written."""
    icons = data / "icons" / "hicolor"
    return [
        data / "applications" / f"{APP_ID}.desktop",
        data / "mime" / "packages" / f"{APP_ID}.xml",
        icons / "scalable" / "apps" / f"{APP_ID}.svg",
        *(icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png" for size in ICON_SIZES),
    ]


def planned_contents(command: list[str]) -> list[bytes]:
    """The contents of planned_paths(), in the same order."""
    icons = [resource("icons", f"{APP_ID}.svg")]
    icons += [resource("icons", f"{APP_ID}-{size}.png") for size in ICON_SIZES]
    contents = [desktop_entry(command).encode("utf-8"), mime_package().encode("utf-8")]
    for path in icons:
        try:
            contents.append(path.read_bytes())
        except OSError as error:
            raise LstmvizError(f"the bundled icon is missing ({error.strerror})", source=str(path)) from None
    return contents


def install(data: Path, command: list[str]) -> list[Path]:
    """Write every planned file (each atomically; existing ones are replaced) and return them."""
    contents = planned_contents(command)  # every resource read before anything is written
    written = []
    for path, content in zip(planned_paths(data), contents):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LstmvizError(f"cannot create the folder ({error.strerror})",
                               source=str(path.parent)) from None
        with atomic_write(path, "wb") as handle:
            handle.write(content)
        written.append(path)
    return written


def uninstall(data: Path) -> list[Path]:
    """Remove the files install() writes, where present; folders stay (they may be shared)."""
    removed = []
    for path in planned_paths(data):
        if path.is_file() or path.is_symlink():
            try:
                path.unlink()
            except OSError as error:
                raise LstmvizError(f"cannot remove ({error.strerror})", source=str(path)) from None
            removed.append(path)
    return removed


def refresh_databases(data: Path) -> list[str]:
    """Rebuild the MIME and desktop-entry caches under `data` with the freedesktop tools when
    installed; a missing tool or a failure is a note, not an error (the files are in place)."""
    notes = []
    for tool, folder in (("update-mime-database", data / "mime"),
                         ("update-desktop-database", data / "applications")):
        exe = shutil.which(tool)
        if exe is None:
            notes.append(f"{tool} is not installed: the desktop sees the change at its next login")
            continue
        if not folder.is_dir():
            continue
        try:
            result = subprocess.run([exe, str(folder)], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            notes.append(f"{tool} {folder} did not run: {error}")
            continue
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no message"]
            notes.append(f"{tool} {folder} failed (exit {result.returncode}): {last[0]}")
        else:
            notes.append(f"refreshed with {tool} {folder}")
    return notes


# -- elsewhere -----------------------------------------------------------------------------------
def macos_instead(command: list[str]) -> str:
    shown = " ".join(command)
    return (
        "lstmviz: install-desktop writes freedesktop menu entries (Linux, BSD); macOS does not "
        "read them, so nothing was written.\n"
        "What it would do on macOS: make ~/Applications/lstmviz.app, a bundle whose launcher runs\n"
        f"  {shown} \"$@\"\n"
        "with the icon, and declare .lstmviz documents in its Info.plist (CFBundleDocumentTypes) "
        "so Finder opens them with it.\n"
        f"Meanwhile: run `{shown}` from Terminal, or `{shown} FILE.lstmviz` to open a document."
    )


def windows_instead(command: list[str]) -> str:
    shown = subprocess.list2cmdline(command)
    return (
        "lstmviz: install-desktop writes freedesktop menu entries (Linux, BSD); Windows does not "
        "read them, so nothing was written.\n"
        "What it would do on Windows: a Start-menu shortcut\n"
        "  %APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs\\lstmviz.lnk  ->  " + shown + "\n"
        "and, for double-clicks, the per-user file type in the registry:\n"
        "  HKCU\\Software\\Classes\\.lstmviz = lstmviz.Document\n"
        f"  HKCU\\Software\\Classes\\lstmviz.Document\\shell\\open\\command = {shown} \"%1\"\n"
        f"Meanwhile: run `{shown}`, or `{shown} FILE.lstmviz` to open a document."
    )

"""The command line: `lstmviz SUBCOMMAND ...`; with no arguments it opens the window.

Each subcommand lives in lstmviz/commands/<name>.py with add_parser(subparsers) and
run(args) -> exit status. Bad input prints one line to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from lstmviz.errors import LstmvizError

# Subcommand modules under lstmviz.commands, in the order `--help` lists them.
COMMANDS = (
    "open", "trace", "analyze", "inspect", "screenshot", "demo", "train", "animate", "install-desktop",
)
DEFAULT_COMMAND = "open"


def build_parser() -> argparse.ArgumentParser:
    from lstmviz.about import PrintAboutAction

    parser = argparse.ArgumentParser(
        prog="lstmviz",
        description="See inside an LSTM cell: run it, record every gate, export the traces.",
    )
    parser.add_argument("--version", action=PrintAboutAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"lstmviz.commands.{name.replace('-', '_')}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or argv[0].startswith("--") and argv[0] not in ("--help", "--version"):
        argv = [DEFAULT_COMMAND, *argv]
    elif argv[0] not in COMMANDS and os.path.exists(argv[0]):
        argv = ["open", *argv]  # `lstmviz FILE`, as a file manager or the menu entry calls it
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except LstmvizError as error:
        print(f"lstmviz: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `lstmviz trace ... --out - | head` closes the pipe early; that is not an error.
        sys.stderr.close()
        return 0
    except OSError as error:  # a read or write the readers did not foresee (EIO, ENOSPC, ...)
        where = f"{error.filename}: " if error.filename else ""
        print(f"lstmviz: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except MemoryError:
        print("lstmviz: error: out of memory (the model or the input is too large)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstmviz: interrupted", file=sys.stderr)
        return 130

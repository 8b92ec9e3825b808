"""The command line: `lstmviz [--max-memory SIZE] [--debug] SUBCOMMAND ...`; with no
subcommand (or just a file) it opens the window.

Each subcommand lives in lstmviz/commands/<name>.py with add_parser(subparsers) and
run(args) -> exit status.

One error path: every failure of every command, whatever raised it, ends here as exactly one
stderr line `lstmviz: error: FILE: problem` and exit status 2. The line is sanitised (a
file's names can hold newlines and terminal escapes), warnings from NumPy and friends are
kept off the terminal, and an exception nobody foresaw is named with the file being read
when it happened (lstmviz.errors.reading), plus a hint that --debug shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
import warnings

from lstmviz.errors import LstmvizError, sanitize, source_of

# Subcommand modules under lstmviz.commands, in the order `--help` lists them.
COMMANDS = (
    "open", "trace", "analyze", "inspect", "screenshot", "demo", "train", "animate", "install-desktop",
)
DEFAULT_COMMAND = "open"
WINDOW_COMMANDS = ("open",)  # run a Qt event loop: Qt, not Python, owns their signals
DEBUG_HINT = "run with --debug for the traceback"
PREFIX = "lstmviz: error: "


class UsageError(Exception):
    """A command line argparse rejects (reported as one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print the usage and exit
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    default = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--max-memory", metavar="SIZE", **({"default": None} if top else default),
        help="the most memory one file's data may take, e.g. 2G or 512M (default: a quarter "
             "of physical memory, at most 8G); a file that needs more is refused before it is read",
    )
    parser.add_argument(
        "--debug", action="store_true", **({"default": False} if top else default),
        help="on an unexpected error, print the traceback; show warnings",
    )


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield sub
                yield from _subparsers(sub)


def build_parser() -> argparse.ArgumentParser:
    from lstmviz.about import PrintAboutAction

    parser = _Parser(
        prog="lstmviz",
        description="See inside an LSTM cell: run it, record every gate, export the traces.",
    )
    parser.add_argument("--version", action=PrintAboutAction)
    _add_global_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"lstmviz.commands.{name.replace('-', '_')}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(handler=module.run)
    for sub in _subparsers(parser):  # `lstmviz trace --max-memory 2G ...` works too
        _add_global_options(sub, top=False)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert `open` after the leading global options when no subcommand is named."""
    i = 0
    while i < len(argv):
        if argv[i] == "--debug":
            i += 1
        elif argv[i] == "--max-memory":
            i += 2
        elif argv[i].startswith("--max-memory="):
            i += 1
        else:
            break
    rest = argv[i:]
    if not rest or rest[0].startswith("--") and rest[0] not in ("--help", "--version"):
        return [*argv[:i], DEFAULT_COMMAND, *rest]
    if rest[0] not in COMMANDS and os.path.exists(rest[0]):
        return [*argv[:i], DEFAULT_COMMAND, *rest]  # `lstmviz FILE`, as a file manager calls it
    return argv


# -- reporting ------------------------------------------------------------------------------------
def _emit(line: str) -> None:
    """One line on stderr; a closed or broken stderr loses it but never raises."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(Exception):
        stream.write(line + "\n")
        stream.flush()


def _error_line(where: str | None, problem: str) -> str:
    return PREFIX + sanitize(f"{where}: {problem}" if where else problem)


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so the interpreter's last flush of a stdout that failed
    (a full disk, a closed pipe) prints no 'Exception ignored' lines."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _flush_stdout() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as error:
        from lstmviz.io.atomic import STDOUT, _describe_os_error

        problem = _describe_os_error(error) if isinstance(error, OSError) else str(error)
        raise LstmvizError(problem, source=STDOUT) from None


def _blame(error: BaseException, args) -> str | None:
    source = source_of(error)
    if source:
        return source
    if args is None:
        return None
    from lstmviz.commands.common import input_files

    files = input_files(args)
    return ", ".join(files) if files else None


def _describe_unexpected(error: BaseException, args) -> str:
    where = _blame(error, args)
    read = source_of(error) is not None
    if isinstance(error, MemoryError):
        return _error_line(where, "out of memory (the model or the input is too large for this "
                                  "machine; --max-memory sets how much a file may take)")
    if isinstance(error, RecursionError):
        return _error_line(where, "is nested too deeply to read (RecursionError)")
    if isinstance(error, OSError):  # the system's trouble (EIO, ENOSPC), not the file's content
        from lstmviz.io.atomic import STDOUT, _describe_os_error

        if error.filename:
            where = str(error.filename)
        elif not read and getattr(args, "out", "-") == "-":  # a print to stdout failed (inspect > /dev/full)
            _silence_stdout()
            return _error_line(STDOUT, _describe_os_error(error))
        return _error_line(where, error.strerror or str(error))
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    kind = "cannot be read" if read else "internal error"
    return _error_line(where, f"{kind} ({detail}); {DEBUG_HINT}")


def _set_max_memory(value: str | None) -> None:
    if value is None:
        return
    from lstmviz.io.budget import ENV, parse_size

    try:
        size = parse_size(value)
    except LstmvizError as error:
        raise error.with_source("--max-memory") from None
    os.environ[ENV] = str(size)  # child processes (lstmviz.io.isolated) read it too


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    args = None
    try:
        args = build_parser().parse_args(_with_default_command(argv))
        debug = bool(args.debug)
        _set_max_memory(args.max_memory)
        return _run(args, debug)
    except UsageError as error:
        _emit(PREFIX + sanitize(error))
        return 2
    except LstmvizError as error:
        from lstmviz.io.atomic import STDOUT

        if error.source == STDOUT:
            _silence_stdout()
        _emit(PREFIX + sanitize(error))
        return 2
    except BrokenPipeError:
        # `lstmviz trace ... --out - | head` closes the pipe early; that is not an error.
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        _emit("lstmviz: interrupted")
        return 130
    except Exception as error:  # also MemoryError, RecursionError: one line, exit 2
        _emit(_describe_unexpected(error, args))
        if debug:
            with contextlib.suppress(Exception):
                traceback.print_exc(file=sys.stderr)
        return 2


def _run(args, debug: bool) -> int:
    import numpy as np

    from lstmviz.io.atomic import install_signal_cleanup, remove_stale_temporaries

    if args.command not in WINDOW_COMMANDS:
        install_signal_cleanup()
    remove_stale_temporaries(".")  # left by a write that was killed here (kill -9)
    with warnings.catch_warnings(), np.errstate(all="ignore" if not debug else "warn"):
        if not debug:
            warnings.simplefilter("ignore")
        status = int(args.handler(args) or 0)
        _flush_stdout()
    return status

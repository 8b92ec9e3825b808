"""Run lstmviz on hostile input in a child process, under a memory cap, and measure it.

    result = run_lstmviz(["trace", "--model", bomb, "--input", x, "--out", out])
    status, stderr, peak_rss, seconds = result

The child is the real command (`python -m lstmviz`, through runpy) with RLIMIT_AS set before
it starts, so a reader that does allocate what a bomb describes fails in the child
(MemoryError), never in the test process. peak_rss is the child's own peak resident size in
bytes, VmHWM as the child reads it at exit (ru_maxrss would keep the forking parent's peak
across exec, i.e. pytest's); only if the child could not report it (killed) is it os.wait4's
ru_maxrss, an upper bound. A test can so assert a bounded peak: proof that a file was refused
before its data was materialised.

run_python does the same for a snippet of Python (e.g. one child that runs many inputs
through lstmviz.cli.main, to keep a fuzz loop fast).
"""

from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass

import numpy as np

ADDRESS_SPACE = 3 << 30  # enough for Python, NumPy, h5py and onnx; far below any bomb
BASELINE_RSS = 120 << 20  # what `python -m lstmviz` with NumPy, h5py, onnx may take on its own


@dataclass
class ChildResult:
    status: int  # exit status (negative: killed by that signal)
    stderr: str
    stdout: str
    peak_rss: int  # bytes
    seconds: float

    def __iter__(self):
        return iter((self.status, self.stderr, self.peak_rss, self.seconds))

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


PEAK_ENV = "LSTMVIZ_TEST_PEAK_FILE"
# Prepended to the child's code: at exit it writes its own VmHWM (kB) where PEAK_ENV says.
_REPORT_PEAK = f"""
import atexit as _atexit, os as _os
def _report_peak():
    try:
        with open("/proc/self/status") as _status, open(_os.environ["{PEAK_ENV}"], "w") as _out:
            _out.write(next(_line.split()[1] for _line in _status if _line.startswith("VmHWM:")))
    except Exception:
        pass
_atexit.register(_report_peak)
"""
_RUN_LSTMVIZ = """
import runpy, sys
sys.argv[0] = "lstmviz"
runpy.run_module("lstmviz", run_name="__main__", alter_sys=True)
"""


def _limit(address_space: int | None):
    def apply() -> None:
        if address_space:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def run_command(
    command: list[str], *, address_space: int | None = ADDRESS_SPACE, timeout: float = 120,
    cwd=None, env: dict | None = None, stdin_data: bytes | None = None,
) -> ChildResult:
    """Run `command` with RLIMIT_AS; its status, stderr, stdout, own peak RSS and wall time."""
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("QT_QPA_PLATFORM", "offscreen")
    peak_file = tempfile.NamedTemporaryFile(prefix="lstmviz-peak-", delete=False)
    peak_file.close()
    child_env[PEAK_ENV] = peak_file.name
    try:
        return _run(command, address_space, timeout, cwd, child_env, stdin_data, peak_file.name)
    finally:
        os.unlink(peak_file.name)


def _run(command, address_space, timeout, cwd, child_env, stdin_data, peak_name) -> ChildResult:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=err,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            cwd=cwd, env=child_env, preexec_fn=_limit(address_space),
        )
        if stdin_data is not None:
            proc.stdin.write(stdin_data)
            proc.stdin.close()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, wait_status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
        out.seek(0)
        err.seek(0)
        with open(peak_name) as handle:
            reported = handle.read().strip()
        return ChildResult(
            status=proc.returncode,
            stderr=err.read().decode("utf-8", "replace"),
            stdout=out.read().decode("utf-8", "replace"),
            peak_rss=int(reported or usage.ru_maxrss) * 1024,  # kilobytes on Linux
            seconds=seconds,
        )


def run_lstmviz(args: list[str], *, max_memory: str | None = None, **kwargs) -> ChildResult:
    """`python -m lstmviz [--max-memory SIZE] ARGS` in a capped child (see run_command)."""
    memory = ["--max-memory", max_memory] if max_memory else []
    return run_command([sys.executable, "-c", _REPORT_PEAK + _RUN_LSTMVIZ, *memory, *args], **kwargs)


def run_python(code: str, *args: str, **kwargs) -> ChildResult:
    """`python -c CODE ARGS` in a capped child (see run_command)."""
    return run_command([sys.executable, "-c", _REPORT_PEAK + code, *args], **kwargs)


def assert_one_error_line(result: ChildResult, path) -> str:
    """Exit status 2 and exactly one stderr line `lstmviz: error: PATH: ...`; returns it."""
    lines = result.error_lines
    assert result.status == 2, (result.status, result.stderr[-2000:])
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"lstmviz: error: {path}"), lines[0]
    return lines[0]


# -- bombs, built at test time (never committed as large files) ----------------------------------
@dataclass
class Deflated:
    """A member's raw deflate stream with the size and CRC its headers will claim."""

    raw: bytes
    size: int
    crc: int = 0


def zero_bomb(size: int, prefix: bytes = b"", crc: bool = False) -> Deflated:
    """`prefix` then zeros up to `size` bytes, deflated ~1000-fold without ever holding them:
    each full-flushed 1 MB block of zeros compresses to the same bytes, so they repeat. The
    CRC is computed only when asked (crc=True, for members meant to be read in full): a
    reader that gets as far as checking a bomb's CRC has already lost."""
    chunk = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(size - len(prefix) - chunk, chunk)
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    checksum = 0
    if crc:
        checksum = zlib.crc32(prefix)
        zeros = bytes(chunk)
        for _ in range(full + 1):
            checksum = zlib.crc32(zeros, checksum)
        checksum = zlib.crc32(bytes(rest), checksum)
    return Deflated(head + block * (full + 1) + tail, size, checksum)


def npy_header(shape: tuple, dtype: str = "<f8") -> bytes:
    """A .npy version 1.0 header for an array of that shape (no data)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    )
    return buffer.getvalue()


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def zip_bytes(members) -> bytes:
    """A zip from (name, bytes | Deflated) pairs, written by hand so that a member can be a
    prepared bomb stream (zipfile can only compress what it is given)."""
    out = bytearray()
    central = bytearray()
    count = 0
    for name, data in members:
        if isinstance(data, Deflated):
            raw, size, crc = data.raw, data.size, data.crc
        else:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw = compressor.compress(data) + compressor.flush()
            size, crc = len(data), zlib.crc32(data)
        encoded = name.encode("utf-8")
        offset = len(out)
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(raw), size,
                           len(encoded), 0) + encoded + raw
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(raw),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
        count += 1
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)

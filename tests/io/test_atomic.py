"""atomic_write: a symlinked destination keeps its link, and a device or pipe is written
in place (a rename would replace /dev/null itself with a regular file when run as root;
the pipe stands in for it here)."""

from __future__ import annotations

import os
import threading

import pytest

from lstmviz.io.atomic import atomic_write


def test_symlink_destination_is_updated_through_the_link(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with atomic_write(link) as handle:
        handle.write("new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    with atomic_write(fifo) as handle:
        handle.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == ["through the pipe\n"]
    assert not fifo.is_file() and os.path.exists(fifo)  # still a pipe, not replaced by a file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_folder_that_exists_but_takes_no_files_is_not_called_missing():
    import pytest

    from lstmviz.errors import LstmvizError
    from lstmviz.io.atomic import atomic_write

    with pytest.raises(LstmvizError) as caught, atomic_write("/proc/lstmviz-test.csv") as handle:
        handle.write("x")
    assert "does not exist" not in str(caught.value)


def test_the_file_has_no_name_until_it_is_complete(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("earlier\n")
    with atomic_write(target) as handle:
        handle.write("new\n")
        handle.flush()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # O_TMPFILE: unnamed
        assert target.read_text() == "earlier\n"
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_without_o_tmpfile_a_named_temporary_is_used_and_removed(tmp_path, monkeypatch):
    from lstmviz.io import atomic

    monkeypatch.setattr(atomic, "use_tmpfile", False)
    target = tmp_path / "out.csv"
    with atomic_write(target) as handle:
        handle.write("x\n")
        assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.csv.lstmviz-tmp-{os.getpid()}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half")
        raise RuntimeError("the export failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"] and target.read_text() == "x\n"


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    import subprocess
    import sys

    from lstmviz.io.atomic import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.csv.lstmviz-tmp-{dead_pid}"
    stale.write_text("half an export")
    alive = tmp_path / f".other.csv.lstmviz-tmp-{os.getppid()}"
    alive.write_text("being written by a live process")
    mine = tmp_path / f".mine.csv.lstmviz-tmp-{os.getpid()}"
    mine.write_text("ours")
    unrelated = tmp_path / ".out.csv.lstmviz-tmp-notapid"
    unrelated.write_text("not ours")
    assert remove_stale_temporaries(tmp_path) == [stale.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, mine.name, unrelated.name])


def test_a_device_destination_reports_write_errors_by_name():
    from lstmviz.errors import LstmvizError

    with pytest.raises(LstmvizError, match="^/dev/full: the disk is full$"):
        with atomic_write("/dev/full") as handle:
            handle.write("x" * (1 << 16))

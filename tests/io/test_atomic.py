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

"""Animations: the expected number of frames, frames that differ from step to step, atomic
output, and one-line errors for bad options."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from lstmviz.cli import main


def pixels(path):
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(bytes(image.constBits()), dtype=np.uint8)
    return image.width(), image.height(), data


def test_png_folder_has_one_frame_per_step_and_frames_differ(qapp, tmp_path, capsys):
    out = tmp_path / "frames"
    code = main(["animate", "--preset", "memory-cell", "--steps", "3:7", "--size", "480x300",
                 "--view", "diagram", "--out", f"{out}/"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{k:05d}.png" for k in range(4)]
    frames = [pixels(out / name) for name in names]
    assert all((w, h) == (480, 300) for w, h, _ in frames)
    for (_, _, a), (_, _, b) in zip(frames, frames[1:]):
        assert np.count_nonzero(a != b) > 100  # the step's numbers and colours change
    assert "wrote" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]  # no temporary folder left


def test_gif_has_the_frames_and_replaces_an_earlier_file_only_when_complete(qapp, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    out = tmp_path / "run.gif"
    out.write_bytes(b"earlier")
    assert main(["animate", "--preset", "forget-worked", "--size", "320x200", "--fps", "5",
                 "--view", "traces", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 4 and gif.size == (320, 200)  # forget-worked has 4 steps
        assert gif.info["duration"] == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.gif"]


@pytest.mark.parametrize("options, message", [
    (["--preset", "brackets", "--steps", "5:2"], "--steps 5:2: need 0 <= A < B"),
    (["--preset", "brackets", "--steps", "x"], "--steps 'x' is not A:B"),
    (["--preset", "brackets", "--size", "10x10"], "--size 10x10"),
    (["--preset", "brackets", "--fps", "0"], "--fps 0 is not in"),
    (["--model", "m.npz"], "--model needs --input"),
])
def test_bad_options_are_one_line_errors(qapp, tmp_path, capsys, options, message):
    out = tmp_path / "a.gif"
    assert main(["animate", *options, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_unknown_suffix_is_refused(qapp, tmp_path, capsys):
    assert main(["animate", "--preset", "brackets", "--out", str(tmp_path / "a.avi")]) == 2
    assert "name it .gif, .mp4 or FOLDER/" in capsys.readouterr().err


def test_file_export_animation_renders_a_copy_and_leaves_the_window_step(make_window, tmp_path):
    from lstmviz.gui.animation_action import export_animation, install_export_animation

    window = make_window("memory-cell")
    action = install_export_animation(window)
    assert action in window.menus["file"].actions()
    window.document.set_step(9)
    out = tmp_path / "frames"
    assert export_animation(window, f"{out}/", range(2, 5), size=(320, 200), view="diagram") == 3
    assert len(list(out.iterdir())) == 3
    assert window.document.step == 9

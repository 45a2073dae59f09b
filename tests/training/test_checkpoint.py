"""Checkpoints are atomic; the background writer (the GPU path) writes snapshots, in order."""

import torch

from segsearch.training._checkpoint import CheckpointWriter, load, save_atomic


def test_background_writer_saves_a_snapshot_not_the_live_tensor(tmp_path):
    live = torch.ones(4)
    writer = CheckpointWriter(background=True)
    writer.save({"w": live, "epoch": 1}, tmp_path / "a.pt")
    live.mul_(100)  # training goes on changing the parameters
    writer.save({"w": live, "epoch": 2}, tmp_path / "b.pt")
    writer.close()
    assert load(tmp_path / "a.pt")["w"].tolist() == [1.0] * 4
    assert load(tmp_path / "b.pt")["epoch"] == 2 and load(tmp_path / "b.pt")["w"].tolist() == [100.0] * 4


def test_atomic_write_leaves_no_temp_files(tmp_path):
    save_atomic({"x": 1}, tmp_path / "last.pt")
    save_atomic({"x": 2}, tmp_path / "last.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"] and load(tmp_path / "last.pt") == {"x": 2}

"""Checkpoints are atomic; the background writer (the GPU path) writes snapshots, in order."""

import io

import pytest
import torch

from segsearch.training._checkpoint import CheckpointWriter, interrupted, load, save_atomic


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


class _InterruptedFile(io.BytesIO):
    """A file whose write is cut by Ctrl-C once 1 MB is written (where a second Ctrl-C lands mid-checkpoint)."""

    def write(self, b):  # type: ignore[override]
        if self.tell() > 2**20:
            raise KeyboardInterrupt
        return super().write(b)


def test_ctrl_c_in_the_middle_of_a_tensor_write_still_reads_as_ctrl_c():
    with pytest.raises(BaseException) as info:  # torch 2.x: RuntimeError "unexpected pos", KeyboardInterrupt inside
        torch.save({"w": torch.zeros(2**20)}, _InterruptedFile())
    assert interrupted(info.value)  # save_atomic re-raises it as KeyboardInterrupt: the trial is handed back
    assert not interrupted(RuntimeError("unexpected pos 1 vs 2")) and not interrupted(None)


@pytest.mark.parametrize("background", [False, True])
def test_the_writer_times_each_file_s_latest_write(tmp_path, background):
    # a deadline keeps back the writes that close a run at their measured time (training._loop._closing_writes)
    writer = CheckpointWriter(background=background)
    writer.save({"w": torch.ones(2**20)}, tmp_path / "last.pt")
    writer.save({"w": torch.ones(4)}, tmp_path / "best.pt")
    writer.close()
    assert set(writer.seconds) == {"last.pt", "best.pt"} and all(s > 0 for s in writer.seconds.values())

"""A sampled trial that its own epochs show cannot finish its schedule before the search's deadline stops
after its second epoch. The ``too_slow`` rule refuses such a configuration before it trains, from its
latency; latency predicts epoch time within 0.4-1.7x (bench/LATEST.md, 'Latency predicts epoch time'), and on
skin at 60 minutes a unetplusplus trial predicted to fit trained at 6.6 s per epoch, 1.5x the study's typical,
with an 18-minute schedule and about 13 minutes of search left (run 30b): cut off mid-schedule by the
deadline, it could not compete at equal epochs, and the minutes were worth more to the final model, which
continues the best trial."""

from __future__ import annotations

import time

from ..training import EpochResult, Reporter, StopTraining

CHECK_EPOCH = 2  # the first epoch is slower (warm-up, caches): the second one's time is the trial's pace


class TooSlow(StopTraining):
    """Raised after ``CHECK_EPOCH``: the rest of the schedule, at this trial's pace, ends after the deadline."""

    def __init__(self, message: str, over: float) -> None:
        super().__init__("too_slow")
        self.message, self.over = message, over


class ScheduleGuard(Reporter):
    """Stops the trial (``TooSlow``) when, at its second epoch's pace, its remaining planned epochs would end
    after ``deadline`` (time.time()). Put it after the reporters that record the epoch."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def epoch_end(self, result: EpochResult, is_best: bool) -> None:
        rest = result.planned_epochs - result.epoch
        if result.epoch != CHECK_EPOCH or rest <= 0:
            return
        need, left = rest * result.seconds, self.deadline - time.time()
        if need <= left:
            return
        raise TooSlow(f"measured {result.seconds:.1f} s per epoch: its {rest} remaining epochs need {need:.0f} s "
                      f"and the search has {left:.0f} s left; stopped after epoch {result.epoch} (a trial cut off "
                      "mid-schedule cannot compete at equal epochs; the time goes to the next trial or the final "
                      "model)", need - left)

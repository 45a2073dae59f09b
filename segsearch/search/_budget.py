"""A launch's wall-clock budget: from the process's start to the final model.

The search gets ``1 - final.budget_share`` of it, the final model the rest. Trials stop at the
epoch boundary before the search's share runs out; no trial starts that could not finish an epoch.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from ..config import SearchSpaceFile, TrainConfig, parse_duration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    started: float  # time.time() when the launch (the process) started
    seconds: float
    final_share: float

    @classmethod
    def parse(cls, text: str | float, started: float, cfg: SearchSpaceFile) -> Budget:
        return cls(started, parse_duration(text), cfg.final.budget_share)

    @property
    def end(self) -> float:
        return self.started + self.seconds

    @property
    def search_end(self) -> float:
        return self.end - self.seconds * self.final_share

    def left(self) -> float:
        return self.end - time.time()


MIN_SEARCH_TRIALS = 3  # the baseline and two alternatives, each on its full schedule
# launch searches only when the search's share pays for this many full baseline schedules (x train.epochs). On
# real data on one CPU core no search has yet paid (bench/LATEST.md, 'Search quality on real data'): with room
# for 4-7.5 of them every search lost to seed 001's recipe trained for the whole budget (4 of 4 runs); with room
# for 9-17 all six ended with the baseline as the final model after the search had taken a quarter to a half of
# its epochs; with room for 27-29 (runs 22-23) all three ended at or below the recipe trained alone for the whole
# budget (-0.055, -0.016 test IoU against the bf16 recipe; -0.018 against the same code with no search, same seed,
# 0.03 lower on validation); with room for 44 by the start-up timing, 57 by the epochs it trained (run 30:
# mri_struct at 60 minutes, the same code and seed with --search always and --search never), the search's two
# alternatives ended below the baseline and the searched launch scored -0.034 [-0.074, -0.010] test IoU against
# the baseline trained alone. 68 is above every room measured so far by more than the start-up timing's noise
# (57 x 1.18; two identical launches timed 8.2 and 9.7 s per epoch): below it the baseline gets the whole budget.
SEARCH_ROOM = 68
NO_SEARCH_ATTR = "no_search"  # study attribute: the latest --budget launch had no room to search, and why
TRIAL_EPOCHS_ATTR = "trial_epochs"  # study attribute: the trial schedule re-planned from the first trial's second epoch


def trial_epochs_for(seconds_left: float, per_epoch: float, train_epochs: int) -> int:
    """Under a budget a trial trains for a third of the search's epochs (the baseline and two alternatives on
    full schedules), never fewer than ``train.epochs``."""
    return max(train_epochs, int(seconds_left / per_epoch / MIN_SEARCH_TRIALS))


def baseline_train_config(cfg: SearchSpaceFile) -> TrainConfig:
    from ._baseline import baseline_params
    from ._space import params_to_settings

    settings = params_to_settings(baseline_params(cfg) or {})
    return TrainConfig.model_validate({**cfg.train.model_dump(), **settings})


def check_budget(budget: Budget, cfg: SearchSpaceFile, n_train: int, n_val: int) -> float:
    """Refuse a budget that cannot pay for one epoch of the baseline in the search and one in the
    final stage. Returns the estimated seconds per baseline epoch."""
    from ..training import epoch_seconds

    tcfg = baseline_train_config(cfg)
    per_epoch = epoch_seconds(tcfg, cfg.data, n_train, n_val)
    used = time.time() - budget.started
    minimum = used + per_epoch / (1 - budget.final_share) + per_epoch + 5
    log.info("budget %s: start-up took %.0f s; one baseline epoch (%s/%s) takes about %.1f s here",
             _fmt(budget.seconds), used, tcfg.architecture, tcfg.encoder, per_epoch)
    if budget.seconds < minimum:
        raise ValueError(
            f"--budget {_fmt(budget.seconds)} is too small: start-up took {used:.0f} s and one epoch of the "
            f"baseline ({tcfg.architecture}/{tcfg.encoder}, {n_train} training images of "
            f"{'x'.join(map(str, cfg.data.size_hw))}) takes about {per_epoch:.0f} s here; "
            f"the minimum is {_fmt(math.ceil(minimum))}")
    return per_epoch


def _fmt(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"

"""The worker loop, read top to bottom: set up, handle signals, loop (pop a trial, run it with a
heartbeat, tell the outcome, check stop conditions), tear down.

First Ctrl-C/SIGTERM: finish the current epoch, checkpoint, hand the trial back, exit.
Second: stop at once; the trial is still handed back and resumes from its last checkpoint.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import optuna
from optuna.trial import TrialState

from .errors import DiskFull, is_disk_full
from .search import (
    PAUSED_ATTR,
    REQUEUED,
    Outcome,
    TrialEnv,
    best_value,
    counts_toward_budget,
    describe,
    heartbeat,
    heartbeat_timing,
    is_finished,
    next_trial,
    pause,
    planned_epochs,
    retain,
    retries_due,
    run_trial,
    sweep_stale,
    system_attrs,
    typical_epoch,
)
from .tracking import Progress, save_dashboard_plots

log = logging.getLogger(__name__)


@dataclass
class WorkerSummary:
    outcomes: dict[int, str] = field(default_factory=dict)
    interrupted: bool = False
    fatal: str | None = None  # why the worker stopped early (a full disk), for the caller to report


class Worker:
    def __init__(self, study: optuna.Study, env: TrialEnv, progress: Progress, max_trials: int | None = None,
                 timeout: float | None = None, poll_seconds: float = 2.0) -> None:
        self._stop = env.stop  # the trial's reporters stop at the epoch's end once it is set
        self.study, self.env, self.progress = study, env, progress
        self.max_trials, self.timeout, self.poll = max_trials, timeout, poll_seconds
        self._signals = 0
        self._writing_state = 0  # > 0 while a trial's outcome is being written: a second Ctrl-C waits for it
        self._deferred_interrupt = False
        self._plots = True  # off once optuna-dashboard turns out not to be importable: said once, not per trial
        self._running: frozenset[int] = frozenset()  # the trial this worker runs now

    def run(self) -> WorkerSummary:
        summary = WorkerSummary()
        started = time.monotonic()
        restore = self._install_signal_handlers()
        sweeper = _Sweeper(self.study, lambda: self._running)
        sweeper.start()
        try:
            while not self._should_stop(summary, started):
                trial = self._next_trial()
                if trial is None:
                    if not self._others_running():
                        with sweeper.lock:  # not while a dead trial is between "failed" and "re-queued"
                            trial = self._next_trial()
                            if trial is None and not self._others_running():
                                break  # budget used up
                    if trial is None:
                        self._stop.wait(self.poll)
                        continue
                try:
                    outcome = self._run(trial)
                except Exception as exc:
                    if not is_disk_full(exc):
                        raise
                    log.debug("trial %d: the disk is full", trial.number, exc_info=True)
                    summary.fatal = str(exc if isinstance(exc, DiskFull) else DiskFull(
                        self.env.study_dir, f"the study's database could not be written ({describe(exc)})"))
                    break
                self._running = frozenset()
                summary.outcomes[trial.number] = outcome.state.name
                if outcome.reason == "disk_full":  # every next trial would fail the same way
                    summary.fatal = outcome.message
                    break
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            sweeper.stop()  # waits for a sweep in progress, so a re-queue is never cut short
            restore()
        summary.interrupted = summary.interrupted or self._stop.is_set()
        return summary

    def _should_stop(self, summary: WorkerSummary, started: float) -> bool:
        if self._stop.is_set():
            return True
        if self.max_trials is not None and len(summary.outcomes) >= self.max_trials:
            return True
        if self.env.deadline is not None and time.time() + self._typical_epoch() > self.env.deadline:
            log.info("the time budget is spent: no new trial")
            return True
        if self._no_full_trial_fits():
            return True
        return self.timeout is not None and time.monotonic() - started > self.timeout

    def _no_full_trial_fits(self) -> bool:
        """Under a launch budget (not a bare timeout) a trial starts only if its whole schedule fits in
        the search's time left: a cut-short trial cannot compete at equal epochs, and the time is worth
        more to the final model, which continues the best trial's weights. Until a trial has completed there
        is nothing for the final model to continue: the first trial starts anyway and stops at the deadline
        (``--search always`` on mri9 at one minute ended with no model when it waited for a full schedule)."""
        env = self.env
        if env.deadline is None or not env.epoch_estimate or env.solo:
            return False
        if not self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            return False
        epochs = planned_epochs(self.study, env)
        need = (self._typical_epoch() or env.epoch_estimate) * epochs
        left = env.deadline - time.time()
        if left >= need:
            return False
        log.info("search: %.0f s left, a full trial needs about %.0f s (%d epochs): no new trial; the time goes "
                 "to the final model", left, need, epochs)
        return True

    def _typical_epoch(self) -> float:
        """The median seconds per epoch of the study's trials so far (0 before any): a trial started
        with less time left than that could not finish one epoch."""
        return typical_epoch(self.study)

    def _next_trial(self) -> optuna.Trial | None:
        """A WAITING trial (atomically claimed), or a new one while the trial budget pays for it (or there is none)."""
        return next_trial(self.study, self._open_ended())

    def _open_ended(self) -> bool:
        s = self.env.cfg.study
        return s.n_trials is None and s.sampler.name != "grid"

    def _others_running(self) -> bool:
        """Whether a trial may still come back: one is running, or a dead one's retry is about to be queued."""
        trials = self.study.get_trials(deepcopy=False)
        return any(t.state == TrialState.RUNNING for t in trials) or bool(retries_due(trials))

    def _run(self, trial: optuna.Trial) -> Outcome:
        self._running = frozenset({trial.number})
        try:
            with heartbeat(trial):
                attrs = system_attrs(trial)
                if "failed_trial" in attrs:
                    summary = f"retry of trial {attrs['failed_trial']}, resuming from its checkpoint"
                elif PAUSED_ATTR in trial.user_attrs:
                    summary = f"resuming after its pause at epoch {trial.user_attrs[PAUSED_ATTR]}"
                else:
                    fixed = attrs.get("fixed_params", {})
                    summary = "enqueued " + ", ".join(f"{k}={_fmt(v)}" for k, v in fixed.items()) if fixed else ""
                self.progress.trial_start(trial.number, summary, planned_epochs(self.study, self.env))
                outcome = run_trial(trial, self.env)
        except optuna.exceptions.UpdateFinishedTrialError:
            # Its heartbeat was late (e.g. the database was away longer than the grace period): another
            # worker declared it dead and re-queued it; the retry resumes from the checkpoint.
            log.warning("trial %d was declared dead by the heartbeat check while running; its retry takes over",
                        trial.number)
            return Outcome(TrialState.FAIL, reason="stale", message="declared dead while running")
        except KeyboardInterrupt:
            self._hand_back(trial, "worker stopped at once")
            raise
        self._tell(trial, outcome)
        if outcome.state in (TrialState.COMPLETE, TrialState.PRUNED):
            self._retain()
        if outcome.reason != REQUEUED:
            self._dashboard_plots()
        return outcome

    def _dashboard_plots(self) -> None:
        """The study's labelled learning curves and best per-class IoU in optuna-dashboard, with this trial."""
        if not self._plots:
            return
        try:
            save_dashboard_plots(self.study)
        except ImportError as exc:
            self._plots = False
            log.warning("the study's dashboard plots are not saved: optuna-dashboard cannot be imported (%s); "
                        "pip install optuna-dashboard, then `segsearch dashboard` writes them", exc)
        except Exception:
            log.warning("saving the dashboard plots failed", exc_info=True)

    def _retain(self) -> None:
        """``study.keep``: finished trials drop the checkpoints the study no longer needs (best: last.pt)."""
        try:
            freed = retain(self.study, self.env.cfg.study.keep)
        except Exception:
            log.exception("applying study.keep failed")
            return
        if freed:
            log.debug("study.keep %s: %.0f MB of checkpoints freed", self.env.cfg.study.keep, freed / 2**20)

    def _hand_back(self, trial: optuna.Trial, message: str) -> None:
        self._tell(trial, Outcome(TrialState.FAIL, reason=REQUEUED, message=message))

    def _tell(self, trial: optuna.Trial, outcome: Outcome) -> None:
        """Write the trial's outcome; a second Ctrl-C arriving meanwhile takes effect once it is written (cut
        short, a hand-back would leave the trial RUNNING until the heartbeat check failed it)."""
        self._writing_state += 1
        try:
            self._write_outcome(trial, outcome)
        finally:
            self._writing_state -= 1
        if not self._writing_state and self._deferred_interrupt:
            self._deferred_interrupt = False
            raise KeyboardInterrupt

    def _write_outcome(self, trial: optuna.Trial, outcome: Outcome) -> None:
        if is_finished(trial):
            log.warning("trial %d was finished elsewhere (declared dead); its result is not recorded", trial.number)
            return
        if outcome.reason == REQUEUED:  # handed back: paused in place, the next worker resumes the same trial
            if pause(trial):
                log.info("trial %d paused at epoch %s; the next worker resumes it from its checkpoint", trial.number,
                         trial.user_attrs.get("epochs_run") or 0)
            return
        if outcome.state == TrialState.COMPLETE:
            self.study.tell(trial, outcome.values, skip_if_finished=True)
        else:
            self.study.tell(trial, state=outcome.state, skip_if_finished=True)
        best = best_value(self.study)
        done = sum(counts_toward_budget(t) for t in self.study.get_trials(deepcopy=False))  # every worker's
        self.progress.trial_end(trial.number, outcome.state.name, outcome.value, outcome.reason, best, done)

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            self._signals += 1
            if self._signals == 1:
                log.warning("stopping after this epoch (the trial is handed back); press Ctrl-C again to stop now")
                self._stop.set()
            elif self._writing_state:
                self._deferred_interrupt = True  # raised once the trial's state is written (_tell)
            else:
                raise KeyboardInterrupt

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return lambda: [signal.signal(s, h) for s, h in old.items()]


class _Sweeper(threading.Thread):
    """Fails trials whose heartbeat stopped (their retry is queued), every heartbeat interval, whether
    or not any worker starts a trial. Skips while this process's own database connection was
    recently lost, since then heartbeats may be late rather than dead."""

    def __init__(self, study: optuna.Study, alive: Callable[[], Collection[int]] = frozenset) -> None:
        super().__init__(daemon=True, name="segsearch-sweeper")
        self.alive = alive  # the trials this process runs: alive whatever their heartbeat says
        self.interval, grace = heartbeat_timing(study)
        self.quiet = grace + self.interval
        self.study, self._halt = study, threading.Event()
        self.lock = threading.Lock()  # held while a stale trial is failed and its retry queued

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                with self.lock:
                    sweep_stale(self.study, quiet_seconds=self.quiet, alive=self.alive())
            except Exception:
                log.debug("stale-trial sweep failed", exc_info=True)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()


def _fmt(v: object) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)

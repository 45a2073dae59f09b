"""The results report of a study: ``studies/<study>/report/``.

Reads the trials from the storage and the per-epoch metrics from each trial folder (``metrics.jsonl``) and
writes a markdown and an HTML page over the same content, a CSV of the trials, and PNG plots:

- ``report.md``, ``report.html``, ``trials.csv``
- ``optimization_history.png``, ``param_importances.png``, ``parallel_coordinate.png``,
  ``intermediate_values.png`` (the pruning curves), ``learning_curves.png``
- ``confusion.png`` and ``predictions.png`` (validation images of the best trial)

A plot that cannot be drawn yet (e.g. importances with fewer than two finished trials) is written as a
PNG that says why, so the set of files is always the same.
"""

from __future__ import annotations

import csv
import html
import json
import logging
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import rundir
from ..config import objective_label

log = logging.getLogger(__name__)

PLOTS = ("optimization_history", "param_importances", "parallel_coordinate", "intermediate_values",
         "learning_curves", "pareto_front", "confusion", "predictions")
TABLE_COLUMNS = ("trial", "from", "Pareto", "architecture", "encoder", "loss", "params", "latency ms", "s/epoch", "epochs",
                 "image size",
                 "val IoU", "val Dice", "state")


@dataclass
class Table:
    headers: Sequence[str]
    rows: list[list[str]]


@dataclass
class Section:
    title: str
    parts: list[str | Table | Path] = field(default_factory=list)  # text, a table, or a PNG in the report folder


@dataclass
class Report:
    folder: Path
    files: dict[str, Path]
    notes: list[str] = field(default_factory=list)  # plots drawn as placeholders, and why


def write_report(study: Any, studies_dir: str | Path = "studies", out: str | Path | None = None,
                 n_images: int = 4) -> Report:
    """Write the report of ``study`` (an ``optuna.Study`` made by segsearch) and return its files."""

    studies_dir = Path(studies_dir)
    folder = Path(out) if out is not None else studies_dir / study.study_name / "report"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = study_config(study)
    rows = best_first(_with_fixed_settings(trial_rows(study, cfg), run_dirs(study, studies_dir), cfg), study)
    best = _best_trial(study)
    report = Report(folder, {})
    for name, draw in _plot_makers(study, rows, best, cfg, studies_dir, n_images).items():
        report.files[name] = _plot(folder / f"{name}.png", draw, report.notes)
    report.files["trials.csv"] = _write_csv(rows, folder / "trials.csv")
    sections = _sections(study, rows, best, cfg, report)
    report.files["report.md"] = _write(folder / "report.md", render_markdown(sections, f"Study {study.study_name}"))
    report.files["report.html"] = _write(folder / "report.html", render_html(sections, f"Study {study.study_name}"))
    log.info("report of %s: %s", study.study_name, folder)
    return report


# --- data ------------------------------------------------------------------------------------------------

def study_config(study: Any) -> Any:
    """The study's stored configuration, or None for a study segsearch did not make."""
    from ..search import stored_config

    try:
        return stored_config(study)
    except ValueError:
        return None


def _best_trial(study: Any) -> Any:
    from ..search import best_trial

    return best_trial(study)


def rows_value(t: Any) -> float | None:
    from ..search import accuracy

    return accuracy(t)


def best_first(rows: list[dict[str, Any]], study: Any) -> list[dict[str, Any]]:
    """Finished trials best first (in the accuracy's direction), then the rest by number."""
    import optuna

    sign = -1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1
    done = sorted((r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None),
                  key=lambda r: sign * r["value"])
    return done + [r for r in rows if r not in done]


def _with_fixed_settings(rows: list[dict[str, Any]], dirs: dict[int, Path], cfg: Any) -> list[dict[str, Any]]:
    """Fill settings that were not searched (e.g. a fixed encoder) from the trial folder's resolved config."""
    import yaml

    searched = set(cfg.search) if cfg is not None else set()
    for r in rows:
        # a searched setting a queued trial has not drawn yet stays empty; only fixed ones are filled in
        missing = [k for k in ("architecture", "encoder", "loss") if r.get(k) is None and k not in searched]
        if not missing:
            continue
        path = dirs.get(r["number"], Path("-")) / rundir.CONFIG
        train = yaml.safe_load(path.read_text()).get("train", {}) if path.is_file() else {}
        for k in missing:
            r[k] = train.get(k, getattr(cfg.train, k) if cfg is not None else None)
    return rows


def trial_rows(study: Any, cfg: Any) -> list[dict[str, Any]]:
    """One row per trial: what ``status`` and the report tables show (``cfg``: the study's stored configuration,
    ``study_config(study)``, or None when it has none)."""
    from ..search import accuracy, is_budget_placeholder

    rows = []
    for t in study.get_trials(deepcopy=False):
        if is_budget_placeholder(t):
            continue  # the budget's free places are a count (LaunchResult.budget_left), not trials
        ua = t.user_attrs
        fixed = t.system_attrs.get("fixed_params", {})  # a queued trial's own settings (enqueue, baseline, grid)
        setting = {**fixed, **ua.get("settings", {}), **t.params}.get  # searched values win over fixed ones
        rows.append({
            "number": t.number, "state": state_name(t), "value": accuracy(t),
            "architecture": setting("architecture"), "encoder": setting("encoder"), "loss": setting("loss"),
            "lr": setting("lr"), "epochs": ua.get("epochs_run", len(t.intermediate_values)),
            "best_epoch": ua.get("best_epoch"), "val_miou": ua.get("val_miou"), "val_mdice": ua.get("val_mdice"), "collapsed": bool(ua.get("collapsed")),
            "n_params": ua.get("n_params"), "seconds_per_epoch": ua.get("seconds_per_epoch"),
            "image_size": ua.get("image_size"), "fail_reason": ua.get("fail_reason"), "params": dict(t.params),
            "source": trial_source(t), "per_class_iou": ua.get("per_class_iou") or {},
            "latency_ms": ua.get("latency_ms"), "flops_g": ua.get("flops_g"), "params_m": ua.get("params_m"),
            "peak_memory_mb": ua.get("peak_memory_mb"),
        })
    mark_pareto(rows, trade_off(cfg), study.directions[0].name == "MAXIMIZE")
    return rows


def trade_off(cfg: Any) -> list[str]:
    """The costs the accuracy is traded against: a multi-objective study's (study.minimize), else latency."""
    return list(cfg.study.minimize) if cfg is not None and cfg.study.minimize else ["latency_ms"]


def mark_pareto(rows: list[dict[str, Any]], costs: Sequence[str], maximize: bool = True) -> None:
    """Set each row's ``pareto``: complete, measured, and no other such trial at least as accurate and at most
    as costly on every cost, and better on one of them."""
    from ..search import pareto_front

    scored = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None
              and all(r.get(c) is not None for c in costs)]
    front = pareto_front([(r["number"], r["value"], tuple(r[c] for c in costs)) for r in scored], maximize)
    for r in rows:
        r["pareto"] = r["number"] in front


def trial_source(t: Any) -> str:
    """Where a trial's settings came from: baseline, warm start (its study and trial), portfolio, yours (segsearch
    enqueue), grid or sampler."""
    ua = t.user_attrs
    if ua.get("warm_start"):
        return f"warm start: {ua['warm_start']}"
    for key, name in (("baseline", "baseline"), ("portfolio", "portfolio"), ("enqueued", "yours"), ("grid", "grid")):
        if ua.get(key):
            return name
    return "sampler"


def state_name(t: Any) -> str:
    """Optuna's state, except PAUSED for a trial its worker handed back (WAITING to resume in place) and
    INFEASIBLE for one that cannot run here (pruned with a violated constraint: out of memory at the smallest
    batch, a broken ``study.constraints`` bound, or too slow for the launch's budget)."""
    from ..search import INFEASIBLE_ATTR, PAUSED_ATTR

    if t.state.name == "WAITING" and PAUSED_ATTR in t.user_attrs:
        return "PAUSED"
    return "INFEASIBLE" if t.state.name == "PRUNED" and t.user_attrs.get(INFEASIBLE_ATTR) else t.state.name


def metrics_history(run_dir: str | Path | None) -> list[dict[str, Any]]:
    """The per-epoch rows of a trial folder's ``metrics.jsonl`` (empty when there is none)."""
    path = Path(run_dir) / rundir.METRICS if run_dir else None
    if path is None or not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_dirs(study: Any, studies_dir: Path) -> dict[int, Path]:
    """Trial number -> its folder; a relative ``run_dir`` recorded from another working directory is
    looked up under ``studies_dir`` instead."""
    out = {}
    for t in study.get_trials(deepcopy=False):
        recorded = t.user_attrs.get("run_dir")
        if recorded:
            path = Path(recorded)
            out[t.number] = path if path.is_dir() else studies_dir / study.study_name / "trials" / path.name
    return out


# --- tables -----------------------------------------------------------------------------------------------

def fmt_params(n: int | None) -> str:
    return f"{n / 1e6:.2f}M" if n else "-"


def fmt_float(v: float | None, nd: int = 4) -> str:
    return "-" if v is None or v != v else f"{v:.{nd}f}"


def _state(state: str) -> str:
    """A trial state as people read it: a WAITING trial with settings of its own is queued."""
    return "queued" if state == "WAITING" else state.lower()


# up to this many classes the table has a column per class; beyond, the worst class and its IoU
_CLASS_COLUMNS = 8


def trials_table(rows: list[dict[str, Any]]) -> Table:
    """The seed-000 results table: one row per trial, with each class's IoU next to the objective (or the
    worst class's, with many classes)."""
    classes = list(dict.fromkeys(c for r in rows for c in r.get("per_class_iou") or {}))
    many = len(classes) > _CLASS_COLUMNS
    extra = ["worst class"] if many else [f"IoU {c}" for c in classes]
    out = []
    for r in rows:
        per_class = r.get("per_class_iou") or {}
        state = _state(r["state"]) + (f" ({r['fail_reason']})" if r.get("fail_reason") else "")
        state += " COLLAPSED (one class everywhere)" if r.get("collapsed") else ""
        out.append([str(r["number"]), r["source"], "yes" if r.get("pareto") else "", _s(r["architecture"]), _s(r["encoder"]), _s(r["loss"]),
                    fmt_params(r["n_params"]), fmt_float(r["latency_ms"], 1), fmt_float(r["seconds_per_epoch"], 2),
                    _s(r["epochs"]),
                    _s(r["image_size"]), fmt_float(r["val_miou"]), fmt_float(r["val_mdice"]),
                    *([worst_class(per_class)] if many else [fmt_float(per_class.get(c), 3) for c in classes]), state])
    return Table((*TABLE_COLUMNS[:-1], *extra, TABLE_COLUMNS[-1]), out)


def worst_class(per_class: dict[str, float | None]) -> str:
    """``name IoU`` of the class with the lowest IoU, '-' without per-class scores."""
    scored = {k: v for k, v in per_class.items() if v is not None}
    if not scored:
        return "-"
    name = min(scored, key=lambda k: scored[k])
    return f"{name} {fmt_float(scored[name], 3)}"


def _s(v: Any) -> str:
    return "-" if v is None else str(v)


def per_class_table(best: Any) -> Table:
    iou, dice = best.user_attrs.get("per_class_iou") or {}, best.user_attrs.get("per_class_dice") or {}
    return Table(("class", "IoU", "Dice"), [[name, fmt_float(iou.get(name)), fmt_float(dice.get(name))]
                                            for name in dict.fromkeys([*iou, *dice])])


def confusion_table(confusion: list[list[int]], names: Sequence[str]) -> Table:
    return Table(("true \\ predicted", *names), [[names[i], *map(str, row)] for i, row in enumerate(confusion)])


def _confusion_names(cfg: Any, n: int) -> list[str]:
    if cfg is not None:
        from ..tracking import confusion_names

        return confusion_names(cfg.data, n)
    return [str(i) for i in range(n)]


def confusion_of(t: Any) -> list[list[int]] | None:
    """A trial's validation confusion matrix at its best epoch (a system attribute: the dashboard shows the figure
    artifact, not the nested list; studies made before kept it among the user attributes)."""
    return t.system_attrs.get("confusion") or t.user_attrs.get("confusion")


def _write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    keys = ["number", "state", "value", "pareto", "architecture", "encoder", "loss", "lr", "n_params", "latency_ms",
            "peak_memory_mb", "params_m", "flops_g",
            "seconds_per_epoch",
            "epochs", "best_epoch", "image_size", "val_miou", "val_mdice", "collapsed", "fail_reason", "source", "params",
            "per_class_iou"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in rows:
            w.writerow([json.dumps(r[k]) if k in ("params", "per_class_iou") else ("" if r[k] is None else r[k]) for k in keys])
    return path


def _sections(study: Any, rows: list[dict[str, Any]], best: Any, cfg: Any, report: Report) -> list[Section]:
    from ..search import NO_SEARCH_ATTR, budget_left
    from ._render import no_search_text

    states: dict[str, int] = {}
    for r in rows:
        states[_state(r["state"])] = states.get(_state(r["state"]), 0) + 1
    left = budget_left(study)
    no_search = no_search_text(study.user_attrs.get(NO_SEARCH_ATTR))
    head = Section("Summary", [", ".join(f"{k} {v}" for k, v in sorted(states.items())) + " trials"
                               + (f" ({left} more in the trial budget, study.n_trials)" if left else "") + "; objective "
                               + (f"{objective_label(cfg)} ({cfg.study.direction})" if cfg else study.directions[0].name)
                               + ("; " + no_search if no_search else "")])
    costs = trade_off(cfg)
    front = [r for r in rows if r.get("pareto")]
    out = [head, Section("Trials", [trials_table(rows), "All values: trials.csv."])]
    if front:
        out.append(Section("Pareto front", [
            f"The complete trials no other trial beats on both accuracy and {', '.join(costs)} (Pareto column). "
            "Each is the most accurate model at its cost; pick one with `segsearch finalize STUDY --pick "
            f"\"max {cfg.study.objective if cfg else 'miou'} where {costs[0]} <= X\"`.", report.files["pareto_front"]]))
    if best is not None:
        settings = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                             for k, v in best.params.items())
        sec = Section(f"Best trial {best.number}", [
            f"{objective_label(cfg) if cfg else 'Objective'} {fmt_float(rows_value(best))}"
            + (" (COLLAPSED: one class everywhere)" if best.user_attrs.get("collapsed") else "")
            + f" at epoch {best.user_attrs.get('best_epoch')}; {settings}.",
            per_class_table(best)])
        cm = confusion_of(best)
        if cm:
            sec.parts += ["Confusion matrix (pixels; rows: ground truth, columns: prediction):",
                          confusion_table(cm, _confusion_names(cfg, len(cm)))]
        sec.parts += [report.files["confusion"], "Validation images: image, ground truth, prediction.",
                      report.files["predictions"]]
        out.append(sec)
    out.append(Section("Search", [report.files[k] for k in ("optimization_history", "intermediate_values",
                                                               "learning_curves", "param_importances",
                                                               "parallel_coordinate")]))
    if report.notes:
        out.append(Section("Notes", ["; ".join(report.notes) + "."]))
    return out


# --- rendering --------------------------------------------------------------------------------------------

def render_markdown(sections: Sequence[Section], title: str) -> str:
    lines = [f"# {title}", ""]
    for sec in sections:
        lines += [f"## {sec.title}", ""]
        for part in sec.parts:
            if isinstance(part, Table):
                lines += ["| " + " | ".join(part.headers) + " |", "|" + "---|" * len(part.headers)]
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in part.rows]
            elif isinstance(part, Path):
                lines.append(f"![{part.stem}]({part.name})")
            else:
                lines.append(part)
            lines.append("")
    return "\n".join(lines)


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
        "td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:0.5em 0;display:block}")


def render_html(sections: Sequence[Section], title: str) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    for sec in sections:
        body.append(f"<h2>{e(sec.title)}</h2>")
        for part in sec.parts:
            if isinstance(part, Table):
                head = "".join(f"<th>{e(h)}</th>" for h in part.headers)
                rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in part.rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            elif isinstance(part, Path):
                body.append(f'<img src="{e(part.name)}" alt="{e(part.stem)}">')
            else:
                body.append(f"<p>{e(part)}</p>")
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- plots ------------------------------------------------------------------------------------------------

def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot(path: Path, draw: Callable[[Path], None], notes: list[str]) -> Path:
    """Draw one PNG; if it cannot be drawn, write a PNG that says why."""
    plt = _pyplot()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            draw(path)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.debug("plot %s failed", path.name, exc_info=True)
        notes.append(f"{path.stem}: {reason}")
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{path.stem}: not available\n{reason}", ha="center", va="center", wrap=True)
        fig.savefig(path, dpi=80)
    finally:
        plt.close("all")
    return path


def _save_axes(ax: Any, path: Path, xlabel: str | None = None, ylabel: str | None = None,
               integer_x: bool = False, title: str | None = None) -> None:
    """Save an Optuna matplotlib plot, with axis labels that say what they mean (``val mIoU (class mean)``,
    ``epoch`` and ``trial`` with whole-number ticks, not "Intermediate Value" and "Step")."""
    ax = ax.ravel()[0] if hasattr(ax, "ravel") else ax
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if integer_x:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig = ax.figure
    fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 4.5))
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _plot_makers(study: Any, rows: list[dict[str, Any]], best: Any, cfg: Any, studies_dir: Path,
                 n_images: int) -> dict[str, Callable[[Path], None]]:
    import optuna.visualization.matplotlib as ovm

    dirs = run_dirs(study, studies_dir)
    label = objective_label(cfg) if cfg is not None else "objective"
    # a multi-objective study's plots show its accuracy (Optuna asks which objective)
    target = (lambda t: t.values[0]) if len(study.directions) > 1 else None

    def importances(path: Path) -> None:
        if len([r for r in rows if r["state"] == "COMPLETE"]) < 2:
            raise ValueError("needs at least two completed trials")
        _save_axes(ovm.plot_param_importances(study, target=target, target_name=label), path)

    return {
        "optimization_history": lambda p: _save_axes(ovm.plot_optimization_history(study, target=target, target_name=label), p,
                                                     xlabel="trial", ylabel=label, integer_x=True),
        "param_importances": importances,
        "parallel_coordinate": lambda p: _save_axes(ovm.plot_parallel_coordinate(study, target=target, target_name=label), p),
        "intermediate_values": lambda p: _save_axes(ovm.plot_intermediate_values(study), p, xlabel="epoch",
                                                    ylabel=label, integer_x=True,
                                                    title="Validation objective per epoch (pruned trials stop early)"),
        "learning_curves": lambda p: _learning_curves(rows, dirs, p, label),
        "pareto_front": lambda p: _pareto_plot(rows, trade_off(cfg)[0], label, p, cfg),
        "confusion": lambda p: _confusion_plot(best, cfg, p),
        "predictions": lambda p: _predictions(best, dirs.get(best.number) if best else None, cfg, studies_dir,
                                              n_images, p),
    }


def _pareto_plot(rows: list[dict[str, Any]], cost: str, label: str, path: Path, cfg: Any) -> None:
    """Accuracy against a cost, one point per complete trial (labelled with its number), the Pareto front drawn
    as a staircase, infeasible trials as crosses at their cost, a constraint on the cost as a dashed line."""
    done = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None and r.get(cost) is not None]
    if len(done) < 1:
        raise ValueError(f"no complete trial with a measured {cost}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    rest = [r for r in done if not r.get("pareto")]
    front = sorted((r for r in done if r.get("pareto")), key=lambda r: r[cost])
    ax.scatter([r[cost] for r in rest], [r["value"] for r in rest], color="0.6", label="other trials", zorder=2)
    ax.step([r[cost] for r in front], [r["value"] for r in front], where="post", color="tab:red", zorder=3)
    ax.scatter([r[cost] for r in front], [r["value"] for r in front], color="tab:red", s=60, zorder=4,
               label="Pareto front")
    for r in done:
        ax.annotate(str(r["number"]), (r[cost], r["value"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    bad = [r for r in rows if r["state"] == "INFEASIBLE" and r.get(cost) is not None]
    if bad:
        low = min(r["value"] for r in done)
        ax.scatter([r[cost] for r in bad], [low] * len(bad), marker="x", color="black", label="infeasible (no accuracy)")
    bound = cfg.study.constraints.get(cost) if cfg is not None else None
    if bound is not None:
        ax.axvline(bound.max, linestyle="--", color="tab:blue", label=f"{cost} max {bound.max:g}")
    names = {"latency_ms": "latency (ms)", "peak_memory_mb": "peak memory (MiB)", "params_m": "parameters (M)",
             "flops_g": "GFLOPs"}
    ax.set(title=f"{label} against {names[cost]}: the Pareto front", xlabel=names[cost], ylabel=label)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _learning_curves(rows: list[dict[str, Any]], dirs: dict[int, Path], path: Path, label: str = "objective"
                     ) -> None:
    hist = {r["number"]: metrics_history(dirs.get(r["number"])) for r in rows}
    hist = {k: v for k, v in hist.items() if v}
    if not hist:
        raise ValueError("no trial folder has metrics.jsonl")
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    colors = plt.get_cmap("tab20" if len(hist) > 10 else "tab10")
    for i, (number, h) in enumerate(sorted(hist.items())):
        epochs = [m["epoch"] for m in h]
        style = {"marker": ".", "color": colors(i % colors.N), "label": f"trial {number}"}  # one colour per trial
        a.plot(epochs, [m["train_loss"] for m in h], **style)
        b.plot(epochs, [m["objective"] for m in h], **style)
    a.set(title="training loss", xlabel="epoch", ylabel="loss")
    b.set(title="validation objective", xlabel="epoch", ylabel=label)
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(hist) <= 20:
        b.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _confusion_plot(best: Any, cfg: Any, path: Path) -> None:
    from ..tracking import confusion_figure

    cm = confusion_of(best) if best is not None else None
    if not cm:
        raise ValueError("no confusion matrix (no completed multiclass trial)")
    confusion_figure(cm, _confusion_names(cfg, len(cm)), path, f"trial {best.number}: share of each true class")


def _predictions(best: Any, run_dir: Path | None, cfg: Any, studies_dir: Path, n: int, path: Path) -> None:
    from ..tracking import predict_samples, prediction_grid

    if best is None or run_dir is None:
        raise ValueError("no completed trial with a trial folder")
    if cfg is not None and (run_dir / rundir.CONFIG).is_file():
        from ..data import load_splits

        preds = predict_samples(run_dir, load_splits(cfg.data, studies_dir).val, n)
        if preds:
            prediction_grid(preds, cfg.data, path, title=f"trial {best.number}, epoch {best.user_attrs.get('best_epoch')}")
            return
    if (run_dir / rundir.PREVIEW).is_file():  # the preview written when the trial ended
        shutil.copyfile(run_dir / rundir.PREVIEW, path)
        return
    raise ValueError(f"trial {best.number} has no checkpoint in {run_dir}")


__all__ = ["PLOTS", "Report", "metrics_history", "trial_rows", "run_dirs", "render_html", "render_markdown", "trials_table", "write_report"]

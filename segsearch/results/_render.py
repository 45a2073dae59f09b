"""Terminal output for people: status tables and the end-of-launch summary (rich)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# pipes and log files get wide lines rather than folded tables
_console = Console() if sys.stdout.isatty() else Console(width=200)


def _f(v: Any, nd: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}g}" if abs(v) < 1e-3 and v != 0 else f"{v:.{nd}f}".rstrip("0").rstrip(".") or "0"
    return str(v)


def _states(res: Any) -> str:
    names = {"WAITING": "queued"}
    text = ", ".join(f"{names.get(k, k.lower())} {v}" for k, v in sorted(res.states.items()))
    left = getattr(res, "budget_left", 0)
    return text + (f" | {left} more in the trial budget (study.n_trials)" if left else "")


def no_search_text(note: dict[str, Any] | None) -> str:
    """One sentence for a --budget launch that had no room to search (``api._no_search``'s note); '' otherwise."""
    if not note:
        return ""
    if note.get("asked"):
        return "No search (--search never): the baseline trained alone for the whole budget."
    return (f"No search: the budget's search share paid for {note['search_epochs']} baseline epochs "
            f"({note['seconds_per_epoch']:g} s each), {note['room']:g} full schedules of the {note['need']} a search "
            f"needs, so the baseline trained alone for the whole budget; about --budget {note['budget_to_search']} "
            "would search here.")


def _best_block(res: Any) -> None:
    b = res.best
    if not b:
        _console.print("no completed trial yet")
        return
    _console.print(f"[bold]best trial {b['number']}[/bold]: objective {_f(b['value'])} "
                   f"({b.get('metric', 'mIoU')} {_f(b.get('val_miou'))}, mDice {_f(b.get('val_mdice'))}, epoch {b.get('best_epoch')}, "
                   f"{_f((b.get('n_params') or 0) / 1e6, 3)}M params, {_f(b.get('seconds_per_epoch'), 3)} s/epoch)")
    if b.get("collapsed"):
        _console.print("  [red]collapsed[/red]: it predicts one class (nearly) everywhere; see README troubleshooting")
    for k, v in b["params"].items():
        _console.print(f"  {k} = {_f(v)}")
    if b.get("per_class_iou"):
        _console.print("  per-class IoU: " + ", ".join(f"{k} {_f(v, 3)}" for k, v in b["per_class_iou"].items()))


def print_status(res: Any, rows: list[dict[str, Any]], limit: int) -> None:
    _console.print(f"[bold]study {res.study}[/bold]: " + _states(res))
    if getattr(res, "no_search", None):
        _console.print(no_search_text(res.no_search), soft_wrap=True)
    for v in getattr(res, "space_versions", [])[1:]:
        _console.print(f"search space version {v['version']} from trial {v['from_trial']}: " + "; ".join(v["changes"]))
    _best_block(res)
    front = [r for r in rows if r.get("pareto")]
    costs = getattr(res, "trade_off", None) or ["latency_ms"]
    if front:
        _console.print(f"Pareto front ({'accuracy vs ' + ', '.join(costs)}; [bold]P[/bold] below): "
                       + ", ".join(f"trial {r['number']} {_f(r['value'])} @ "
                                   + " ".join(f"{_f(r.get(c), 3)} {_unit(c)}" for c in costs) for r in front),
                       soft_wrap=True)  # one line however long the front: grep-able in logs
    table = Table(title=f"trials (best first, {min(limit, len(rows))} of {len(rows)})")
    from ._report import worst_class

    for col in ("#", "state", "value", "P", "worst class", "architecture", "encoder", "loss", "lr", "epochs", "s/epoch",
                "params", "latency ms", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows[:limit]:  # best first (api.status orders them in the study's direction)
        table.add_row(str(r["number"]), {"waiting": "queued"}.get(r["state"].lower(), r["state"].lower()), _f(r["value"]),
                      "P" if r.get("pareto") else "", worst_class(r.get("per_class_iou") or {}), _f(r["architecture"]), _f(r["encoder"]),
                      _f(r["loss"]), _f(r["lr"], 3), _f(r["epochs"]), _f(r["seconds_per_epoch"], 3),
                      f"{r['n_params'] / 1e6:.1f}M" if r["n_params"] else "-", _f(r.get("latency_ms"), 3),
                      _f(r["fail_reason"] or ("collapsed" if r.get("collapsed") else None)))
    _console.print(table)


def _unit(cost: str) -> str:
    return {"latency_ms": "ms", "peak_memory_mb": "MiB", "params_m": "M params", "flops_g": "GFLOPs"}[cost]


def print_launch_summary(res: Any, studies_dir: Path) -> None:
    """After a launch: trials by state, time, the best trial and its settings, where to look next."""
    folder = Path(studies_dir) / res.study
    _console.rule(f"study {res.study}")
    _console.print("trials: " + _states(res) + f" | {res.seconds / 60:.1f} min | storage {res.storage}")
    if getattr(res, "no_search", None):
        _console.print(no_search_text(res.no_search), soft_wrap=True)
    _best_block(res)
    report = folder / "report" / "report.html"
    _console.print(f"report:    segsearch report {res.study} -> {report}"
                   + (" (exists; re-run to refresh)" if report.is_file() else ""))
    _console.print(f"dashboard: segsearch dashboard {res.study} -> http://127.0.0.1:8080 (no password: see README)")
    _console.print(f"status:    segsearch status {res.study}")
    offline = sorted((folder / "wandb").glob("offline-run-*"))
    if offline:
        _console.print(f"W&B:       {len(offline)} offline run(s); upload: wandb sync {folder / 'wandb'}/offline-run-*")
    final = getattr(res, "final", None)
    if final:
        _console.print(f"final model: {final} (segsearch evaluate/export/predict {final})")
    else:
        _console.print(f"final:     segsearch finalize {res.study} -> {folder / 'final'}")
    if getattr(res, "front", None):
        _console.print(f"Pareto front ({len(res.front)} trial{'s' if len(res.front) > 1 else ''}; pick one: segsearch finalize {res.study} --pick "
                       f"\"max miou where {res.trade_off[0]} <= X\"): " + ", ".join(
                           f"trial {f['number']} {_f(f['value'])} @ "
                           + " ".join(f"{_f(f.get(c), 3)} {_unit(c)}" for c in res.trade_off) for f in res.front))
    if res.interrupted:
        _console.print("[yellow]interrupted: run the same launch again to continue[/yellow]")

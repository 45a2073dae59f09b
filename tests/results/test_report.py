"""`segsearch report` on a real study: every file, and a table whose numbers are the stored trials'."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from segsearch.cli import app
from segsearch.results import PLOTS, TABLE_COLUMNS, fmt_float, fmt_params, study_config

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(made):
    res = CliRunner().invoke(app, ["report", made.name, "--studies-dir", str(made.studies), "--images", "3"])
    assert res.exit_code == 0, res.output
    return made.studies / made.name / "report"


def _md_table(text: str, header: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(header))
    cols = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        rows.append(dict(zip(cols, (c.strip() for c in ln.strip("|").split("|")), strict=True)))
    return rows


def test_report_writes_every_file(report):
    for name in PLOTS:
        assert (report / f"{name}.png").read_bytes()[:8] == PNG, name
    md = (report / "report.md").read_text()
    html = (report / "report.html").read_text()
    for name in PLOTS:
        assert f"]({name}.png)" in md and f'src="{name}.png"' in html
    assert "## Notes" not in md  # every plot was really drawn (two complete trials, a pruned one)
    assert (report / "trials.csv").is_file()


def test_table_numbers_match_the_stored_trials(made, report):
    trials = {t.number: t for t in made.study().get_trials()}
    md = (report / "report.md").read_text()
    rows = _md_table(md, "| trial |")
    classes = list(made.study().best_trial.user_attrs["per_class_iou"])
    assert tuple(rows[0]) == (*TABLE_COLUMNS[:-1], *(f"IoU {c}" for c in classes), "state")  # IoU per class
    assert sorted(int(r["trial"]) for r in rows) == sorted(trials)
    best = made.study().best_trial
    assert int(rows[0]["trial"]) == best.number  # best first
    for r in rows:
        t = trials[int(r["trial"])]
        ua = t.user_attrs
        assert (r["architecture"], r["encoder"], r["loss"]) == (t.params["architecture"], "resnet18", "ce")
        assert r["params"] == fmt_params(ua["n_params"]) and r["latency ms"] == fmt_float(ua["latency_ms"], 1)
        assert ua["latency_ms"] > 0 and ua["params_m"] == pytest.approx(ua["n_params"] / 1e6, abs=1e-3)
        assert r["s/epoch"] == fmt_float(ua["seconds_per_epoch"], 2)
        assert r["epochs"] == str(ua["epochs_run"]) and r["image size"] == "32x32"
        assert r["val IoU"] == fmt_float(ua["val_miou"]) and r["val Dice"] == fmt_float(ua["val_mdice"])
        assert [r[f"IoU {c}"] for c in classes] == [fmt_float(ua["per_class_iou"][c], 3) for c in classes]
        assert r["state"] == t.state.name.lower() + (" COLLAPSED (one class everywhere)" if ua.get("collapsed") else "")
    with (report / "trials.csv").open() as f:
        for row in csv.DictReader(f):
            t = trials[int(row["number"])]
            assert float(row["val_miou"]) == pytest.approx(t.user_attrs["val_miou"])
            assert float(row["seconds_per_epoch"]) == pytest.approx(t.user_attrs["seconds_per_epoch"])
            assert row["state"] == t.state.name
            assert json.loads(row["per_class_iou"]) == pytest.approx(t.user_attrs["per_class_iou"])


def test_best_trial_per_class_scores_and_confusion(made, report):
    best = made.study().best_trial
    md = (report / "report.md").read_text()
    assert f"## Best trial {best.number}" in md
    per_class = {r["class"]: r for r in _md_table(md, "| class |")}
    assert set(per_class) == set(best.user_attrs["per_class_iou"])
    for name, iou in best.user_attrs["per_class_iou"].items():
        assert per_class[name]["IoU"] == fmt_float(iou)
        assert per_class[name]["Dice"] == fmt_float(best.user_attrs["per_class_dice"][name])
    cm = _md_table(md, "| true \\ predicted |")
    assert [[int(v) for k, v in r.items() if k != "true \\ predicted"] for r in cm] == best.system_attrs["confusion"]


def test_a_collapsed_trial_is_flagged_in_status_rows_and_the_report_table(capsys):
    import optuna

    from segsearch import api
    from segsearch.results import print_status, trial_rows, trials_table

    study = optuna.create_study(direction="maximize")
    for value, collapsed in ((0.08, True), (0.41, False)):
        study.add_trial(optuna.trial.create_trial(
            value=value, params={"architecture": "unet"},
            distributions={"architecture": optuna.distributions.CategoricalDistribution(["unet"])},
            user_attrs={"collapsed": collapsed, "val_miou": value}))
    rows = trial_rows(study, study_config(study))
    assert [r["collapsed"] for r in rows] == [True, False]
    states = [r[-1] for r in trials_table(rows).rows]
    assert states == ["complete COLLAPSED (one class everywhere)", "complete"]
    print_status(api.summarize(study, "memory", 0.0), rows, 10)
    out = capsys.readouterr().out
    assert "collapsed" in out.split("0.08")[1].splitlines()[0]  # on the collapsed trial's row


def test_views_show_real_trials_and_the_budget_as_a_count():
    import optuna

    from segsearch import api
    from segsearch.results import trial_rows

    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(
        value=0.4, params={"architecture": "unet"},
        distributions={"architecture": optuna.distributions.CategoricalDistribution(["unet", "fpn"])}))
    study.enqueue_trial({"architecture": "fpn"}, user_attrs={"enqueued": True})  # a user's own, queued
    study.set_user_attr("trial_budget", 5)  # n_trials: 5, plus one for the enqueued trial
    for _ in range(2):  # how studies made by earlier versions held the budget: WAITING placeholder trials
        study.enqueue_trial({}, user_attrs={"token": True})
    rows = trial_rows(study, study_config(study))
    assert [(r["state"], r["architecture"]) for r in rows] == [("COMPLETE", "unet"), ("WAITING", "fpn")]
    res = api.summarize(study, "memory", 0.0)
    # 6 in the budget - 1 done - 1 queued - 2 placeholders = 2 new ones, plus the 2 placeholders
    assert res.states == {"COMPLETE": 1, "WAITING": 1} and res.budget_left == 4


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_status_rows_are_best_first_in_the_studys_direction(direction, capsys):
    import optuna

    from segsearch.api import summarize
    from segsearch.results import best_first, print_status, trial_rows

    study = optuna.create_study(direction=direction)
    for value in (0.3, 0.1, 0.2):
        study.add_trial(optuna.trial.create_trial(value=value, params={}, distributions={}))
    study.enqueue_trial({})
    rows = best_first(trial_rows(study, study_config(study)), study)
    values = [r["value"] for r in rows]
    assert values == ([0.3, 0.2, 0.1, None] if direction == "maximize" else [0.1, 0.2, 0.3, None])
    print_status(summarize(study, "memory", 0.0), rows, 10)
    table = capsys.readouterr().out.split("trials (best first")[1]
    cells = [line.split("│")[1:4] for line in table.splitlines() if line.count("│") > 4]
    shown = [value.strip() for _, _, value in cells if value.strip().startswith("0.")]
    assert [float(v) for v in shown] == values[:3]

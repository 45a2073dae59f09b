"""`segsearch dashboard` as a real server: started as a subprocess, queried over HTTP, stopped."""

from __future__ import annotations

import json

import pytest
from helpers_web import get, wait
from optuna.trial import TrialState
from typer.testing import CliRunner

from segsearch.cli import app


def test_dashboard_serves_the_study_its_attributes_and_previews(made, server):
    base, proc = server
    studies = json.loads(wait(f"{base}/api/studies", proc))["study_summaries"]
    (summary,) = [s for s in studies if s["study_name"] == made.name]
    detail = json.loads(get(f"{base}/api/studies/{summary['study_id']}"))
    stored = {t.number: t for t in made.study().get_trials()}
    assert sorted(t["number"] for t in detail["trials"]) == sorted(stored)
    for t in detail["trials"]:
        attrs = {a["key"]: a["value"] for a in t["user_attrs"]}
        assert {"seconds_per_epoch", "n_params", "per_class_iou", "epochs_run"} <= set(attrs)
        assert float(attrs["seconds_per_epoch"]) == pytest.approx(stored[t["number"]].user_attrs["seconds_per_epoch"])
        assert "confusion" not in attrs  # a figure artifact, not a nested list among the attributes
        if stored[t["number"]].state in (TrialState.COMPLETE, TrialState.PRUNED):
            assert sorted(a["filename"] for a in t["artifacts"]) == ["confusion.png", "predictions.png"]
            for art in t["artifacts"]:
                assert art["mimetype"] == "image/png"
                png = get(f"{base}/artifacts/{summary['study_id']}/{t['trial_id']}/{art['artifact_id']}")
                assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # the study's own plots, labelled: every trial's objective per whole epoch, the best trial's per-class IoU
    plots = {p["id"]: json.loads(p["graph_object"]) for p in detail["plotly_graph_objects"]}
    curves = plots["segsearch-learning-curves"]
    assert curves["layout"]["xaxis"]["title"]["text"] == "epoch" and curves["layout"]["xaxis"]["dtick"] == 1
    assert curves["layout"]["yaxis"]["title"]["text"] == made.study().metric_names[0]
    drawn = {int(d["name"].split()[1]): dict(zip(d["x"], d["y"], strict=True)) for d in curves["data"]}
    assert drawn == {n: pytest.approx(t.intermediate_values) for n, t in stored.items() if t.intermediate_values}
    best = made.study().best_trial
    classes = plots["segsearch-best-per-class-iou"]
    assert classes["data"][0]["x"] == list(best.user_attrs["per_class_iou"])
    assert f"best trial {best.number}" in classes["layout"]["title"]["text"]
    assert get(f"{base}/dashboard").startswith(b"<!")


def test_dashboard_needs_a_study_or_a_storage(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGSEARCH_STORAGE", raising=False)
    res = CliRunner().invoke(app, ["dashboard", "--studies-dir", str(tmp_path)])
    assert res.exit_code == 2 and "--storage" in res.output
    res = CliRunner().invoke(app, ["dashboard", "nope", "--studies-dir", str(tmp_path)])
    assert res.exit_code == 2 and "no study 'nope'" in res.output


def test_trials_run_without_tracking_get_previews_on_the_study(made, tmp_path):
    import optuna
    from optuna.artifacts import get_all_artifact_meta

    from segsearch.results import add_missing_previews

    source = made.study()
    bare = optuna.create_study(direction="maximize")  # same trials, but no artifacts (as with --no-wandb)
    for k, v in source.user_attrs.items():
        bare.set_user_attr(k, v)
    for t in source.get_trials():
        bare.add_trial(optuna.trial.create_trial(state=t.state, value=t.value, params=t.params,
                                                 distributions=t.distributions, user_attrs=t.user_attrs,
                                                 intermediate_values=t.intermediate_values))
    assert add_missing_previews(bare, made.studies, tmp_path / "artifacts", n=1) == len(source.trials)
    names = sorted(m.filename for m in get_all_artifact_meta(bare))
    assert names == sorted(f"trial-{t.number}-predictions.png" for t in source.trials)
    assert add_missing_previews(bare, made.studies, tmp_path / "artifacts") == 0

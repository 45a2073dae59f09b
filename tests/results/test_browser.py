"""What a person sees, in headless Chromium: report.html and optuna-dashboard's pages, rendered with their
scripts, read as text and tables, and screenshotted (the screenshots land in the test's tmp folder)."""

from __future__ import annotations

import json
import re

import pytest
from helpers_web import browse, chromium_path, distinct_colours, get, page_text, read_page

from segsearch.results import fmt_float, write_report

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium() -> None:
    chromium_path()  # skip (or fail under CI) before any work when there is no browser


def test_report_page_shows_real_trials_per_class_iou_and_its_plots(made, tmp_path):
    study = made.study()
    report = write_report(study, made.studies, out=tmp_path / "report", n_images=2)
    html = report.folder / "report.html"
    shot = tmp_path / "report.png"
    page = read_page(browse(html.as_uri(), tmp_path / "profile", shot, size=(1400, 4000)))
    text = " ".join(" ".join(page.chunks).split())

    trials = {t.number: t for t in study.get_trials()}
    table = next(t for t in page.tables if t and t[0][:2] == ["trial", "from"])
    head, body = table[0], table[1:]
    assert sorted(int(r[0]) for r in body) == sorted(trials)  # real trials, each once
    classes = list(study.best_trial.user_attrs["per_class_iou"])
    assert [h for h in head if h.startswith("IoU ")] == [f"IoU {c}" for c in classes]
    for row in body:
        cells = dict(zip(head, row, strict=True))
        per_class = trials[int(cells["trial"])].user_attrs["per_class_iou"]
        assert [cells[f"IoU {c}"] for c in classes] == [fmt_float(per_class[c], 3) for c in classes]
    assert "val mIoU (class mean)" in text and "Objective 0" not in text
    # every picture the page shows is there to show (no broken-image icons), and they are drawn
    assert page.images and all((report.folder / src).is_file() for src in page.images)
    assert distinct_colours(shot) > 2000, "the screenshot looks like a page without its plots and images"


def test_dashboard_pages_name_the_metric_and_show_the_studys_plots_and_real_trials(made, server, tmp_path):
    base, _ = server
    (summary,) = [s for s in json.loads(get(f"{base}/api/studies"))["study_summaries"] if s["study_name"] == made.name]
    study, sid = made.study(), summary["study_id"]
    shot = tmp_path / "dashboard.png"
    text = page_text(browse(f"{base}/dashboard/studies/{sid}", tmp_path / "profile", shot))
    metric = study.metric_names[0]
    assert metric in text and "Objective 0" not in text
    assert f"{metric} per epoch, every trial" in text  # segsearch's learning-curve plot, epochs on the x axis
    assert f"best trial {study.best_trial.number}: validation IoU per class" in text
    assert distinct_colours(shot) > 800, "the dashboard's screenshot shows no plots"

    listed = page_text(browse(f"{base}/dashboard/studies/{sid}/trials", tmp_path / "profile"))
    shown = {int(n) for n in re.findall(r"Trial (\d+)", listed)}
    assert shown == {t.number for t in study.get_trials()}  # the study's trials, no budget placeholders


def test_dashboard_and_report_show_a_multi_objective_studys_pareto_front(tmp_path):
    import optuna
    from helpers_web import dashboard, distinct_colours

    from segsearch.config import load_config
    from segsearch.search import open_study

    from helpers import tiny_config

    studies = tmp_path / "studies"
    cfg = load_config(tiny_config(tmp_path, study={"objective": ["miou", "latency_ms"],
                                                   "direction": ["maximize", "minimize"]}))
    (studies / "tiny").mkdir(parents=True)
    study = open_study(optuna.storages.RDBStorage(f"sqlite:///{studies / 'tiny' / 'study.db'}"), cfg)
    dist = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)}
    # (accuracy, latency): 0 and 2 are the front, 1 is beaten by 0 on both
    for acc, lat in ((0.8, 20.0), (0.7, 30.0), (0.9, 80.0)):
        t = study.ask(dist)
        t.set_user_attr("latency_ms", lat)
        study.tell(t, [acc, lat])
    with dashboard("tiny", studies) as (base, _):
        sid = json.loads(get(f"{base}/api/studies"))["study_summaries"][0]["study_id"]
        text = page_text(browse(f"{base}/dashboard/studies/{sid}", tmp_path / "profile", tmp_path / "dash.png"))
    assert "Pareto Front" in text and "val mIoU (class mean)" in text and "latency_ms" in text
    best = text.split("Best Trials", 1)[1]
    assert "Trial 0" in best and "Trial 2" in best and "Trial 1 " not in best
    report = write_report(study, studies, out=tmp_path / "report", n_images=1)
    page = read_page(browse((report.folder / "report.html").as_uri(), tmp_path / "profile", tmp_path / "r.png",
                            size=(1400, 3000)))
    table = next(t for t in page.tables if t and t[0][:3] == ["trial", "from", "Pareto"])
    assert {r[0]: r[2] for r in table[1:]} == {"0": "yes", "1": "", "2": "yes"}
    assert "pareto_front.png" in page.images and distinct_colours(report.folder / "pareto_front.png") > 20

"""Ensembles: the K best distinct configurations retrained, combined by mean or vote, compared with the best one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import segsearch
from segsearch.final import Ensemble, load_model


def test_two_model_ensemble_end_to_end(ensemble: Path) -> None:
    out = ensemble
    doc = json.loads((out / "ensemble.json").read_text())
    assert doc["members"] == ["member_0", "member_1"] and sorted(doc["trials"]) == [0, 1]
    for member in doc["members"]:
        assert (out / member / "model.json").is_file() and (out / member / "metrics.json").is_file()
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["ensemble_beats_best_single"]) == {"mean", "vote"}
    best = max(s["miou"] for s in m["members"])
    assert m["best_single"]["miou"] == best
    assert m["ensemble_beats_best_single"]["mean"] == (m["combine"]["mean"]["miou"] > best)

    image = np.random.default_rng(0).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    for combine in ("mean", "vote"):
        model = segsearch.load_model(out) if combine == "mean" else load_model(out, combine="vote")
        assert isinstance(model, Ensemble) and model.combine == combine
        probs = model.predict(image)
        assert probs.shape == (5, 48, 80)
        np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-4)


def test_member_0_is_the_best_trial(study: tuple[str, Path], ensemble: Path) -> None:
    name, studies = study
    best = segsearch.api.load_study(name, studies_dir=studies).best_trial.number
    assert json.loads((ensemble / "member_0" / "model.json").read_text())["trial"] == best
    assert ensemble == studies / name / "final"

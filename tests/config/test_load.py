"""Every kind of bad input gets a message naming the file, line, field, value and valid choices."""

from pathlib import Path

import pytest
import yaml

from segsearch.config import ConfigError, load_config, space_hash

from helpers import tiny_doc


def write(tmp_path: Path, doc) -> Path:
    p = tmp_path / "space.yaml"
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return p


def error_of(tmp_path: Path, doc) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, doc))
    return str(exc.value)


def test_tiny_config_loads_and_expands_shorthands(tmp_path):
    cfg = load_config(write(tmp_path, tiny_doc(search={"loss": {"choices": {"ce": None, "focal": {"gamma": {"low": 1, "high": 3.0}}}}})))
    assert cfg.search["architecture"].type == "categorical"
    assert cfg.search["lr"].type == "float" and cfg.search["lr"].log
    assert cfg.search["loss"].children["focal"]["gamma"].type == "float"
    assert cfg.data.size_hw == (32, 32)


def test_scientific_notation_is_a_float(tmp_path):
    text = yaml.safe_dump(tiny_doc(), sort_keys=False).replace("low: 0.001", "low: 1e-3")
    assert "low: 1e-3" in text
    cfg = load_config(write(tmp_path, text))
    assert cfg.search["lr"].low == pytest.approx(1e-3)


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    msg = error_of(tmp_path, "study:\n  name: x\n  bad: [1, 2\n")
    assert "space.yaml:4" in msg and "YAML syntax error" in msg


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"study": {"sampler": {"name": "tpee"}}}, ["study.sampler.name", "'tpee'", "did you mean 'tpe'"]),
        ({"study": {"pruner": {"name": "medain"}}}, ["study.pruner.name", "did you mean 'median'", "hyperband"]),
        ({"train": {"architecture": "unett"}}, ["train.architecture", "did you mean 'unet'", "deeplabv3plus"]),
        ({"train": {"optimizer": "adamm"}}, ["train.optimizer", "did you mean 'adam'", "sgd"]),
        ({"train": {"lossx": "ce"}}, ["train.lossx", "unknown key", "did you mean 'loss'"]),
        ({"train": {"loss": "ce+dicee"}}, ["train.loss", "did you mean 'dice'", "tversky"]),
        ({"search": {"loss": ["ce", "focall"]}}, ["search.loss", "'focall'", "did you mean 'focal'"]),
        ({"search": {"learning_rate": [0.1]}}, ["search.learning_rate", "unknown search parameter", "lr"]),
        ({"search": {"lr": {"low": 0.1, "high": 0.01}}}, ["search.lr", "above high"]),
        ({"search": {"lr": {"low": 0.0, "high": 0.1, "log": True}}}, ["search.lr", "low > 0"]),
        ({"search": {"encoder": {"choices": {"resnet18": {"x": [1]}}}}}, ["search.encoder", "conditional"]),
        ({"data": {"mode": "binary"}}, ["data", "binary", "one foreground class"]),
        ({"study": {"objective": "acc"}}, ["study.objective", "miou", "mdice"]),
        ({"train": {"device": "tpu"}}, ["train.device", "'tpu'", "cuda"]),
        ({"train": {"device": "cuda:first"}}, ["train.device", "'cuda:first'", "cuda:N"]),
        ({"study": {"constraints": {"speed_ms": {"max": 20}}}}, ["study.constraints", "speed_ms", "latency_ms"]),
        ({"study": {"constraints": {"latency_ms": {"max": -1}}}}, ["study.constraints.latency_ms.max", "greater than 0"]),
        ({"deploy": {"device": "tpu"}}, ["deploy.device", "'tpu'", "cuda"]),
        ({"train": {"scheduler": "wsd", "scheduler_params": {"decy": 0.3}}}, ["train", "['decy']", "'wsd'", "['decay']"]),
        ({"train": {"scheduler_params": {"step_size": 3}}}, ["train", "'cosine'", "['eta_min']"]),
        ({"train": {"scheduler": "wsd", "scheduler_params": {"decay": 1.5}}}, ["train", "decay", "(0, 1]", "1.5"]),
    ],
)
def test_bad_input_names_field_value_and_choices(tmp_path, section, expected):
    msg = error_of(tmp_path, tiny_doc(**section))
    assert "space.yaml:" in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_error_points_at_the_offending_line(tmp_path):
    doc = yaml.safe_dump(tiny_doc(train={"optimizer": "adamm"}), sort_keys=False)
    line = next(i for i, ln in enumerate(doc.splitlines(), 1) if "adamm" in ln)
    assert f"space.yaml:{line}:" in error_of(tmp_path, doc)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nothere.yaml: no such"):
        load_config(tmp_path / "nothere.yaml")


def test_space_hash_ignores_budget_but_not_space(tmp_path):
    base = load_config(write(tmp_path, tiny_doc()))
    more = load_config(write(tmp_path, tiny_doc(study={"n_trials": 50, "timeout": 60})))
    changed = load_config(write(tmp_path, tiny_doc(search={"lr": {"low": 1e-4, "high": 1e-2, "log": True}})))
    assert space_hash(base) == space_hash(more)
    assert space_hash(base) != space_hash(changed)


def test_default_flips_keep_the_hash_of_studies_made_before_the_key_and_a_named_one_changes_it(tmp_path):
    from segsearch.config import space_fingerprint

    base = load_config(write(tmp_path, tiny_doc()))
    named = load_config(write(tmp_path, tiny_doc(data={"flips": "horizontal"})))
    assert "data.flips" not in space_fingerprint(base) and space_fingerprint(named)["data.flips"] == "horizontal"
    assert space_hash(base) != space_hash(named)


def test_shipped_spaces_are_valid():
    root = Path(__file__).parents[2] / "search_spaces"
    files = sorted(root.glob("*.yaml"))
    assert {"arch_loss.yaml", "quickstart.yaml", "deploy.yaml"} <= {f.name for f in files}
    for f in files:
        cfg = load_config(f)
        assert cfg.train.encoder_weights is None  # runs offline as shipped
        assert cfg.search


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("8m", 480), ("1h30m", 5400), ("2.5h", 9000), ("45", 45)])
def test_durations_as_people_write_them(text, seconds):
    from segsearch.config import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["8 minutes", "m8", "", "-5m", "0s", "8x"])
def test_bad_durations_name_the_value_and_the_forms(text):
    from segsearch.config import parse_duration

    with pytest.raises(ValueError, match="--budget"):
        parse_duration(text)

"""Warm start: a new study first tries the best configurations of past studies on similar data.

Every study records a small description of its data when it is created (``data_descriptor``: mode, classes,
channels, image size, training images, and the share of the most frequent class over up to 64 training
masks). ``launch --warm-start auto`` ranks the other segsearch studies of the storage and of the studies
folder by how far their data is from this one (``distance``) and takes the nearest; ``--warm-start A,B``
names them. Their best distinct complete trials (``TOP_K`` each) are expressed in the new space (the
portfolio's rules: values the space does not offer drop the configuration, numbers are clipped into range)
and queued right after the baseline, each with ``warm_start: "<study> #<trial>"`` (the report's ``from``
column). With ``auto`` and no past study, the shipped portfolio (``portfolio.json``) is queued instead.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from ..config import ConfigError, SearchSpaceFile

log = logging.getLogger(__name__)

DESCRIPTOR_ATTR = "data_descriptor"
TOP_K = 3  # configurations taken from each source study
AUTO_SOURCES = 2  # nearest studies taken by --warm-start auto
_MASKS = 64  # training masks read for the class shares


def describe_data(cfg: SearchSpaceFile, splits: Any) -> dict[str, Any]:
    """What ``distance`` compares: cheap, from the YAML and up to ``_MASKS`` training masks."""
    from ..data._dataset import label_pixel_counts
    from ..data._labels import read_label

    d = cfg.data
    h, w = d.size_hw
    doc: dict[str, Any] = {"mode": d.mode, "classes": d.num_classes, "in_channels": d.in_channels,
                           "image_size": [int(h), int(w)], "train_images": len(splits.train)}
    samples = list(splits.train)[:: max(1, len(splits.train) // _MASKS)][:_MASKS]
    try:
        import numpy as np

        counts = np.sum([label_pixel_counts(read_label(s, d), d) for s in samples], axis=0)
        doc["largest_class_share"] = round(float(counts.max()) / max(float(counts.sum()), 1.0), 4)
    except Exception as exc:  # the descriptor is a hint; a mask that cannot be read here fails the search anyway
        log.debug("data descriptor without class shares: %s", exc)
    return doc


def distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How different two datasets are, 0 for the same: 1 for another mode or channel count, plus the log-ratios of
    classes, image side and (a quarter of) training images, plus twice the difference of the largest class's
    share (how imbalanced the masks are)."""
    d = float(a.get("mode") != b.get("mode")) + float(a.get("in_channels") != b.get("in_channels"))
    d += abs(math.log(max(1, a.get("classes", 1)) / max(1, b.get("classes", 1))))
    side = [math.sqrt(x["image_size"][0] * x["image_size"][1]) if x.get("image_size") else 1.0 for x in (a, b)]
    d += abs(math.log(side[0] / side[1]))
    d += 0.25 * abs(math.log(max(1, a.get("train_images", 1)) / max(1, b.get("train_images", 1))))
    if "largest_class_share" in a and "largest_class_share" in b:
        d += 2 * abs(a["largest_class_share"] - b["largest_class_share"])
    return round(d, 4)


def candidate_studies(storage: str | None, studies_dir: Path, exclude: str) -> dict[str, optuna.Study]:
    """segsearch studies (with a stored config and a complete trial) in the ``storage`` URL (when a database
    server holds the studies) and in ``studies_dir``'s embedded databases, by name."""
    from ._storage import make_storage
    from ._study import CONFIG_ATTR

    found: dict[str, optuna.Study] = {}
    sources: list[Any] = [storage] if storage and not storage.startswith("sqlite") else []
    for db in sorted(Path(studies_dir).glob("*/study.db")):
        if db.parent.name != exclude:
            sources.append(f"sqlite:///{db.resolve()}")
    for src in sources:
        try:
            st = make_storage(src) if isinstance(src, str) else src
            names = optuna.get_all_study_names(st)
        except Exception as exc:
            log.debug("warm start: cannot read %s: %s", src, exc)
            continue
        for name in names:
            if name == exclude or name in found:
                continue
            study = optuna.load_study(study_name=name, storage=st)
            if CONFIG_ATTR in study.user_attrs and study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
                found[name] = study
    return found


def pick_sources(spec: str, here: dict[str, Any], found: dict[str, optuna.Study]) -> list[tuple[str, float | None]]:
    """``auto``: the ``AUTO_SOURCES`` nearest studies that have a descriptor; else the named ones (each must exist)."""
    if spec.strip().lower() == "auto":
        ranked = sorted((distance(here, s.user_attrs[DESCRIPTOR_ATTR]), n) for n, s in found.items()
                        if DESCRIPTOR_ATTR in s.user_attrs)
        return [(n, d) for d, n in ranked[:AUTO_SOURCES]]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    missing = [n for n in names if n not in found]
    if missing:
        valid = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"--warm-start: no segsearch study with a complete trial named {', '.join(missing)}; "
                          f"studies found: {valid}")
    return [(n, distance(here, found[n].user_attrs[DESCRIPTOR_ATTR]) if DESCRIPTOR_ATTR in found[n].user_attrs
             else None) for n in names]


def warm_params(cfg: SearchSpaceFile, sources: list[tuple[str, float | None]], found: dict[str, optuna.Study],
                seen: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """The sources' best distinct configurations as params of ``cfg``'s space, each with where it came from;
    none that repeats ``seen`` (the baseline) or another."""
    from ._multi import best_trial
    from ._objective import replay_settings
    from ._portfolio import express
    from ._study import stored_config

    out: list[tuple[dict[str, Any], str]] = []
    seen = list(seen)
    for name, _ in sources:
        study = found[name]
        src_cfg = stored_config(study)
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        taken = 0
        while done and taken < TOP_K:
            best = best_trial(study, done)
            if best is None:
                break
            done = [t for t in done if t.number != best.number]
            try:
                params = express(cfg, replay_settings(best, src_cfg))
            except Exception as exc:  # a trial of an older space segsearch cannot replay: skipped
                log.debug("warm start: %s #%d cannot be replayed: %s", name, best.number, exc)
                continue
            if params is None or params in seen:
                continue
            seen.append(params)
            out.append((params, f"{name} #{best.number}"))
            taken += 1
    return out


def check_sources(spec: str, storage: str | None, studies_dir: Path, exclude: str) -> dict[str, optuna.Study]:
    """The candidate studies, after checking that every study ``spec`` names is one (before anything is written)."""
    found = candidate_studies(storage, studies_dir, exclude)
    if spec.strip().lower() != "auto":
        pick_sources(spec, {}, found)  # ConfigError naming the missing ones and the studies found
    return found


def warm_start(study: optuna.Study, cfg: SearchSpaceFile, spec: str, found: dict[str, optuna.Study],
               here: dict[str, Any], room: int | None) -> int:
    """Queue the warm-start configurations in a new study (after its baseline), at most ``room`` (the budget's
    free places; None: open-ended). Returns how many."""
    from ._baseline import baseline_params

    sources = pick_sources(spec, here, found)
    if not sources:  # auto with no past study: the shipped portfolio is the initial design
        from ._portfolio import portfolio_params

        if cfg.study.portfolio != "none" and cfg.study.sampler.name == "tpe":
            return 0  # already queued by the study's own portfolio setting
        shipped = portfolio_params(cfg, force=True)[:room]
        for p in shipped:
            study.enqueue_trial(p, user_attrs={"portfolio": True}, skip_if_exists=False)
        log.info("warm start: no past study with a data description to start from; %d configuration(s) of the "
                 "shipped portfolio queued after the baseline instead", len(shipped))
        return len(shipped)
    entries = warm_params(cfg, sources, found, [baseline_params(cfg) or {}])[:room]
    for params, origin in entries:
        study.enqueue_trial(params, user_attrs={"warm_start": origin}, skip_if_exists=False)
    log.info("warm start from %s: %d configuration(s) queued after the baseline (%s)",
             ", ".join(f"{n} (data distance {d})" if d is not None else n for n, d in sources), len(entries),
             "; ".join(o for _, o in entries) or "none fits this space")
    return len(entries)


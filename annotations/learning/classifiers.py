"""Logistic regression over sparse feature dicts, out-of-fold probabilities, and the component files.

A component file is a joblib dump of a dict: {"format", "component", "labels", "model", "merge", ...}.
Loading checks that shape; anything else (missing, truncated, another pickle) is a ModelLoadError.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib  # type: ignore[import-untyped]
import numpy as np
from sklearn.feature_extraction import DictVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]

from annotations.learning.features import Features
from annotations.learning.results import ModelLoadError

FORMAT = 1
NONE = "NONE"  # the class of a candidate that is no trigger / no argument / no stance


class Classifier:
    """A fitted vectoriser + logistic regression; `proba` gives one {class: p} per candidate."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.classes: list[str] = [str(c) for c in pipeline.classes_]

    def proba(self, features: Sequence[Features]) -> list[dict[str, float]]:
        if not features:
            return []
        matrix = self.pipeline.predict_proba(list(features))
        return [dict(zip(self.classes, row.tolist(), strict=True)) for row in matrix]


class TwoStage(Classifier):
    """Is this candidate anything (one binary model over every label, so rare labels share evidence),
    then which label (a model over the positives only): p(label) = p(any) × p(label | any)."""

    def __init__(self, anything: Pipeline, which: Pipeline | None, only: str):
        self.anything = anything
        self.which = which
        self.only = only  # the label when the positives all have one
        self.classes = [NONE, *([str(c) for c in which.classes_] if which is not None else [only])]

    def proba(self, features: Sequence[Features]) -> list[dict[str, float]]:
        if not features:
            return []
        rows = list(features)
        positive = list(self.anything.classes_).index(1)
        p_any = self.anything.predict_proba(rows)[:, positive]
        if self.which is None:
            return [{NONE: 1.0 - float(p), self.only: float(p)} for p in p_any]
        labels = [str(c) for c in self.which.classes_]
        out = []
        for p, row in zip(p_any.tolist(), self.which.predict_proba(rows).tolist(), strict=True):
            probabilities = {NONE: 1.0 - p}
            probabilities.update({label: p * q for label, q in zip(labels, row, strict=True)})
            out.append(probabilities)
        return out


def fit_two_stage(
    features: Sequence[Features], labels: Sequence[str], weights: Sequence[float], *, c: float, seed: int
) -> Classifier:
    anything = _pipeline(c, seed)
    anything.fit(list(features), [int(label != NONE) for label in labels], model__sample_weight=np.asarray(weights))
    positives = [k for k, label in enumerate(labels) if label != NONE]
    kinds = sorted({labels[k] for k in positives})
    which = None
    if len(kinds) > 1:
        which = _pipeline(c, seed)
        which.fit([features[k] for k in positives], [labels[k] for k in positives])
    return TwoStage(anything, which, kinds[0] if kinds else NONE)


def _pipeline(c: float, seed: int) -> Pipeline:
    return Pipeline(
        [("vectorizer", DictVectorizer()), ("model", LogisticRegression(C=c, max_iter=2000, random_state=seed))]
    )


def fit(
    features: Sequence[Features], labels: Sequence[str], weights: Sequence[float], *, c: float, seed: int
) -> Classifier:
    pipeline = Pipeline(
        [
            ("vectorizer", DictVectorizer()),
            ("model", LogisticRegression(C=c, max_iter=2000, random_state=seed)),
        ]
    )
    pipeline.fit(list(features), list(labels), model__sample_weight=np.asarray(weights, dtype=float))
    return Classifier(pipeline)


def out_of_fold(
    features: Sequence[Features],
    labels: Sequence[str],
    weights: Sequence[float],
    groups: Sequence[str],
    evaluated: Sequence[bool],
    *,
    folds: int,
    c: float,
    seed: int,
    fitter: Callable[..., Classifier] | None = None,
) -> list[dict[str, float] | None]:
    """Probabilities for the `evaluated` samples, each from a model that never saw its group (story).

    Stories with no evaluated sample (PLOVER sentences, negatives-only rows) are always in the training folds.
    """
    names = sorted({g for g, e in zip(groups, evaluated, strict=True) if e})
    out: list[dict[str, float] | None] = [None] * len(features)
    if len(names) < 2:
        return out
    fold_of = {name: k % min(folds, len(names)) for k, name in enumerate(names)}
    for fold in sorted(set(fold_of.values())):
        held = [i for i, g in enumerate(groups) if evaluated[i] and fold_of.get(g) == fold]
        train = [i for i, g in enumerate(groups) if fold_of.get(g) != fold]  # the whole story is held out
        if len({labels[i] for i in train}) < 2:
            continue
        model = (fitter or fit)(
            [features[i] for i in train],
            [labels[i] for i in train],
            [weights[i] for i in train],
            c=c,
            seed=seed,
        )
        for i, p in zip(held, model.proba([features[i] for i in held]), strict=True):
            out[i] = p
    return out


GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)  # 1.01: never


def best_thresholds(score: Callable[..., tuple[int, int, int]], names: Sequence[str]) -> tuple[dict[str, float], float]:
    """The threshold combination (over GRID) with the best F1 of `score(**thresholds) → (tp, fp, fn)`;
    ties go to the higher thresholds, i.e. to the rules."""
    best: tuple[float, tuple[float, ...]] = (-1.0, ())
    for combo in itertools.product(GRID, repeat=len(names)):
        tp, fp, fn = score(**dict(zip(names, combo, strict=True)))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if (f1, combo) > best:
            best = (f1, combo)
    return dict(zip(names, best[1], strict=True)), best[0]


def margin(p: dict[str, float]) -> float:
    top = sorted(p.values(), reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def save(path: Path, component: str, payload: dict[str, Any]) -> None:
    joblib.dump({"format": FORMAT, "component": component, **payload}, path, compress=3)


def load(path: Path, component: str) -> dict[str, Any]:
    if not path.is_file():
        raise ModelLoadError(component, str(path), "no such file")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file fails in many ways inside unpickling
        raise ModelLoadError(component, str(path), f"unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("component") != component:
        raise ModelLoadError(component, str(path), "not a learned component file of this version")
    if not isinstance(payload.get("model"), Classifier):
        raise ModelLoadError(component, str(path), "holds no classifier")
    return payload

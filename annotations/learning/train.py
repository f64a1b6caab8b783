"""One training run: gold rows in, one file per trained component out (or TrainingCancelled, and nothing)."""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotations.learning import classifiers, ner
from annotations.learning.classifiers import NONE
from annotations.learning.corpus import has_gold, hold_out, is_default_schema, parse_rows, plover_rows, story_key
from annotations.learning.datasets import (
    Samples,
    Schema,
    argument_samples,
    decide_arguments,
    decide_stance,
    decide_triggers,
    stance_samples,
    trigger_samples,
)
from annotations.learning.features import Frame
from annotations.learning.results import ComponentResult, TrainConfig, TrainingCancelled, TrainResult

if TYPE_CHECKING:
    from annotations.nlp.types import ActorEntry

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parents[2] / "seeds" / "schema.json"
FILES = {
    "mentions": "mentions",
    "triggers": "triggers.joblib",
    "arguments": "arguments.joblib",
    "stance": "stance.joblib",
}


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def train_components(
    train_rows: Sequence[Mapping[str, Any]],
    dev_rows: Sequence[Mapping[str, Any]],
    *,
    schema: dict[str, Any],
    actors: Sequence[ActorEntry],
    language: str,
    base_model: str,
    out_dir: Path,
    config: TrainConfig,
    log: Callable[[str], None],
    progress: Callable[[float], None],
    should_stop: Callable[[], bool],
) -> TrainResult:
    """Train every component of config.components that has enough data; see the package docstring."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Everything is written to a scratch directory and moved into out_dir at the very end.
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=out_dir))
    try:
        results, dev_keys = _run(
            list(train_rows),
            list(dev_rows),
            schema,
            actors,
            language,
            base_model,
            scratch,
            config,
            log,
            progress,
            should_stop,
        )
        for result in results.values():
            if result.trained:
                target = out_dir / result.path
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
                (scratch / result.path).rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress(1.0)
    return TrainResult(results, round(time.perf_counter() - started, 2), round(peak_memory_mb(), 1), dev_keys)


def _run(
    train_rows: list[Mapping[str, Any]],
    dev_rows: list[Mapping[str, Any]],
    schema: dict[str, Any],
    actors: Sequence[ActorEntry],
    language: str,
    base_model: str,
    scratch: Path,
    config: TrainConfig,
    log: Callable[[str], None],
    progress: Callable[[float], None],
    should_stop: Callable[[], bool],
) -> tuple[dict[str, ComponentResult], list[str]]:
    from annotations.nlp import Preannotator

    def check() -> None:
        if should_stop():
            raise TrainingCancelled("training stopped on request")

    if not dev_rows:
        train_idx, dev_idx = hold_out(train_rows, config.dev_share, config.seed)
        dev_rows = [train_rows[i] for i in dev_idx]
        train_rows = [train_rows[i] for i in train_idx]
        log(
            f"no dev rows given: held out {len({story_key(r) for r in dev_rows})} of the stories "
            f"({len(dev_rows)} articles, seed {config.seed}) as dev"
        )
    dev_keys = sorted({story_key(r) for r in dev_rows})
    view = Schema(schema)
    gold_rows = [r for r in train_rows if has_gold(r)]
    log(
        f"training on {len(gold_rows)} gold articles, {len(train_rows) - len(gold_rows)} rows with rejections "
        f"only; {len(dev_rows)} dev articles"
    )
    check()
    rules = Preannotator(schema=schema, actors=actors, model=base_model, language=language)
    frames = parse_rows(rules, train_rows)
    dev_frames = parse_rows(rules, dev_rows)
    default = json.loads(DEFAULT_SCHEMA_PATH.read_text(encoding="utf-8"))
    extra: list[Frame] = []
    if config.use_plover and language == "en" and is_default_schema(schema, default):
        plover = [r for r in plover_rows() if all(e["type"] in view.event_types for e in r["events"])]
        extra = parse_rows(rules, plover)
        for frame in extra:
            frame.scored = False
            frame.in_use = None
        log(f"PLOVER gold-standard sentences: {len(extra)} extra trigger / argument rows (CC BY-SA 4.0, OEDA)")
    for frame in frames:
        frame.scored = frame.complete
        if frame.in_use is not None:
            frame.in_use.scored = frame.complete
    progress(0.1)
    results: dict[str, ComponentResult] = {}
    wanted = [c for c in config.components]
    share = {"mentions": 0.55, "triggers": 0.15, "arguments": 0.1, "stance": 0.1}
    done = 0.1
    for component in wanted:
        check()
        lo, width = done, share.get(component, 0.1)

        def step(fraction: float, lo: float = lo, width: float = width) -> None:
            progress(min(0.99, lo + width * fraction))

        if component == "mentions":
            results[component] = _mentions(
                gold_rows + [r for r in train_rows if not has_gold(r)],
                dev_rows,
                view,
                language,
                base_model,
                scratch,
                config,
                log,
                step,
                should_stop,
            )
        else:
            results[component] = _classifier(component, frames, extra, dev_frames, view, scratch, config, log)
        done += width
        progress(min(0.99, done))
        result = results[component]
        log(f"{component}: {'trained' if result.trained else 'skipped'}: {result.reason}")
    return results, dev_keys


def _mentions(
    rows, dev_rows, view: Schema, language, base_model, scratch, config: TrainConfig, log, step, should_stop
) -> ComponentResult:
    labels = sorted(view.entity_codes)
    count = sum(1 for r in rows if has_gold(r) for m in r.get("mentions") or [] if m["label"] in view.entity_codes)
    needed = config.min_examples.get("mentions", 0)
    if count < needed:
        return ComponentResult(
            "mentions", False, f"{count} gold mentions, fewer than the {needed} needed", examples=count
        )
    starts = ["base", "blank"] if config.ner_start == "both" else [config.ner_start]
    details: dict[str, Any] = {}
    best: tuple[float, str, Any] = (-1.0, "", None)
    for k, start in enumerate(starts):

        def part(fraction: float, k: int = k) -> None:
            step((k + fraction) / len(starts))

        log(
            f"mentions: training a ner from {start} weights on {count} mentions in {len(rows)} articles, "
            f"{config.ner_iterations} iterations"
        )
        nlp = ner.train(
            start,
            base_model=base_model,
            language=language,
            labels=labels,
            rows=rows,
            iterations=config.ner_iterations,
            seed=config.seed,
            dropout=config.ner_dropout,
            log=log,
            should_stop=should_stop,
            progress=part,
        )
        scores = ner.score(nlp, dev_rows, set(labels)) if dev_rows else {"f1": 0.0}
        details[f"ner_{start}_f1"] = round(scores["f1"], 4)
        log(f"mentions ({start} ner) on dev: F1 {scores['f1']:.3f}")
        if scores["f1"] > best[0]:
            best = (scores["f1"], start, nlp)
    details["kept"] = best[1]
    ner.save(best[2], scratch / FILES["mentions"])
    return ComponentResult(
        "mentions", True, f"ner from {best[1]} weights, dev F1 {best[0]:.3f}", FILES["mentions"], labels, count, details
    )


def _samples(component: str, frames: list[Frame], with_author: bool) -> Samples:
    if component == "triggers":
        return trigger_samples(frames)
    if component == "arguments":
        return argument_samples(frames)
    return stance_samples(frames, with_author)


def _classifier(
    component, frames, extra, dev_frames, view: Schema, scratch, config: TrainConfig, log
) -> ComponentResult:
    with_author = any(h < 0 for f in frames for h, _, _ in f.stances)
    gold_items = {
        "triggers": sum(len(f.events) for f in frames),
        "arguments": sum(len(a) for f in frames for _, _, a in f.events),
        "stance": sum(len(f.stances) for f in frames),
    }[component]
    needed = config.min_examples.get(component, 0)
    if gold_items < needed:
        return ComponentResult(
            component, False, f"{gold_items} gold items, fewer than the {needed} needed", examples=gold_items
        )
    used = frames + (extra if component != "stance" else [])
    samples = _samples(component, used, with_author)
    if len(set(samples.labels)) < 2:
        return ComponentResult(component, False, "the training rows give a single class", examples=gold_items)
    log(f"{component}: {len(samples.labels)} candidates, {samples.positives()} positive, from {len(used)} rows")
    # Triggers: one binary "any event here?" model and a type model over the positives (as good on dev as
    # one multinomial model over 17 types + NONE, and three times faster); pairs: one multinomial model.
    fitter = classifiers.fit_two_stage if component == "triggers" else classifiers.fit
    oof = classifiers.out_of_fold(
        samples.features,
        samples.labels,
        samples.weights,
        samples.groups,
        samples.scored,
        folds=config.cv_folds,
        c=config.classifier_c,
        seed=config.seed,
        fitter=fitter,
    )
    if component == "triggers":
        merge, f1 = decide_triggers(samples, oof, view.event_types)
    elif component == "arguments":
        merge, f1 = decide_arguments(samples, oof, view)
    else:
        merge, f1 = decide_stance(samples, oof, view.stance_labels)
    log(f"{component}: merge with the rules decided on out-of-fold training predictions: {merge} (F1 {f1:.3f})")
    model = fitter(samples.features, samples.labels, samples.weights, c=config.classifier_c, seed=config.seed)
    details: dict[str, Any] = {"merge": merge, "train_oof_merged_f1": round(f1, 4)}
    if dev_frames:
        dev = _samples(component, dev_frames, with_author)
        details["dev_model_f1"] = round(_alone_f1(model, dev), 4)
        log(f"{component}: the model alone on dev candidates: F1 {details['dev_model_f1']:.3f}")
    labels = sorted(c for c in model.classes if c != NONE)
    classifiers.save(
        scratch / FILES[component],
        component,
        {"labels": labels, "model": model, "merge": merge, "with_author": with_author},
    )
    return ComponentResult(
        component,
        True,
        f"logistic regression on {len(samples.labels)} candidates; merge {merge}",
        FILES[component],
        labels,
        gold_items,
        details,
    )


def _alone_f1(model: classifiers.Classifier, samples: Samples) -> float:
    tp = fp = fn = 0
    for p, gold in zip(model.proba(samples.features), samples.gold, strict=True):
        label = max(p, key=lambda c: p[c])
        tp += label != NONE and label == gold
        fp += label != NONE and label != gold
        fn += gold != NONE and label != gold
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

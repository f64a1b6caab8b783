"""The mentions component: a spaCy `ner` trained on the gold mention labels (the schema's entity codes).

Two starts: "base" resumes from the base model's ner weights (its own tok2vec; the schema's labels added),
"blank" trains a fresh ner with a tok2vec of its own. Either is saved as a spaCy pipeline holding only
the ner, so the Preannotator runs it on its already-parsed doc as the model's entities.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotations.learning.corpus import has_gold
from annotations.learning.results import TrainingCancelled

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example


def examples(nlp: Language, rows: Sequence[Mapping[str, Any]], labels: set[str]) -> list[Example]:
    """Gold rows: every unlabelled token is outside any entity. Rows without gold that carry rejected
    mentions: those tokens are outside, the rest is unknown (missing), so only the rejections teach."""
    from spacy.training import Example
    from spacy.util import filter_spans

    out = []
    for row in rows:
        text = row.get("text") or ""
        reference = nlp.make_doc(text)
        if has_gold(row):
            spans = [
                reference.char_span(m["start"], m["end"], label=m["label"], alignment_mode="expand")
                for m in row.get("mentions") or []
                if m["label"] in labels
            ]
            reference.set_ents([s for s in filter_spans([s for s in spans if s is not None])], default="outside")
        else:
            rejected = [
                reference.char_span(n["start"], n["end"], alignment_mode="expand")
                for n in row.get("negatives") or []
                if n.get("kind") == "mention"
            ]
            outside = filter_spans([s for s in rejected if s is not None])
            if not outside:
                continue
            reference.set_ents([], outside=outside, default="missing")
        out.append(Example(nlp.make_doc(text), reference))
    return out


def train(
    start: str,
    *,
    base_model: str,
    language: str,
    labels: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    iterations: int,
    seed: int,
    dropout: float,
    log: Callable[[str], None],
    should_stop: Callable[[], bool],
    progress: Callable[[float], None],
) -> Language:
    import spacy
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    if start == "base":
        names = spacy.load(base_model).pipe_names
        nlp = spacy.load(base_model, exclude=[name for name in names if name != "ner"])
        ner = nlp.get_pipe("ner")
        for label in labels:
            ner.add_label(label)  # type: ignore[attr-defined]
        data = examples(nlp, rows, set(labels))
        optimizer = nlp.resume_training()
    else:
        nlp = spacy.blank(language)
        ner = nlp.add_pipe("ner")
        for label in labels:
            ner.add_label(label)  # type: ignore[attr-defined]
        data = examples(nlp, rows, set(labels))
        optimizer = nlp.initialize(lambda: data)
    shuffler = random.Random(seed)
    for iteration in range(iterations):
        if should_stop():
            raise TrainingCancelled("stopped while training the ner")
        shuffler.shuffle(data)
        losses: dict[str, float] = {}
        for batch in minibatch(data, size=4):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        log(f"mentions ({start} ner) iteration {iteration + 1}/{iterations}: loss {losses.get('ner', 0.0):.1f}")
        progress((iteration + 1) / iterations)
    return nlp


def score(nlp: Language, rows: Sequence[Mapping[str, Any]], labels: set[str]) -> dict[str, float]:
    """Exact-span P/R/F1 of the ner alone on gold rows (its entities with a schema label)."""
    tp = fp = fn = 0
    for row in rows:
        if not has_gold(row):
            continue
        doc = nlp(row.get("text") or "")
        predicted = {(e.label_, e.start_char, e.end_char) for e in doc.ents if e.label_ in labels}
        gold = {(m["label"], m["start"], m["end"]) for m in row.get("mentions") or [] if m["label"] in labels}
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def save(nlp: Language, path: Path) -> None:
    nlp.to_disk(path)


def load(path: Path) -> Any:
    """The saved ner pipe (raises OSError / ValueError on a broken directory; the caller wraps it)."""
    import spacy

    nlp = spacy.load(path)
    if not nlp.has_pipe("ner"):
        raise ValueError("the pipeline holds no ner")
    return nlp.get_pipe("ner")

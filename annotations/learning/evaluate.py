"""A Preannotator (rules alone, or merged with learned components) scored against gold rows, per component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annotations.learning.scoring import (
    Counts,
    Document,
    gold_document,
    match_stances,
    predicted_document,
    score_documents,
    score_mentions,
)


def figures(counts: Counts, per_label: Mapping[str, Counts]) -> dict[str, Any]:
    return {
        "p": round(counts.precision, 4),
        "r": round(counts.recall, 4),
        "f1": round(counts.f1, 4),
        "tp": counts.tp,
        "fp": counts.fp,
        "fn": counts.fn,
        "per_label": {
            label: {"p": round(c.precision, 4), "r": round(c.recall, 4), "f1": round(c.f1, 4), "support": c.tp + c.fn}
            for label, c in sorted(per_label.items())
        },
    }


def evaluate(rows: Sequence[Mapping[str, Any]], preannotator: Any) -> dict[str, dict[str, Any]]:
    """{component: {"p", "r", "f1", "tp", "fp", "fn", "per_label"}} over the rows (annotations/learning/scoring.py:
    mentions exact; triggers type + overlap; arguments role + overlap inside matched events; stance
    holder / target / label)."""
    texts = [(row.get("text") or "", row.get("language") or preannotator.language) for row in rows]
    pairs: list[tuple[Document, Document]] = [
        (gold_document(row), predicted_document(result))
        for row, result in zip(rows, preannotator.annotate(texts), strict=True)
    ]
    scores = score_documents(pairs)
    mention_labels: dict[str, Counts] = {}
    stance_labels: dict[str, Counts] = {}
    for gold, predicted in pairs:
        for label in {m.label for m in gold.mentions} | {m.label for m in predicted.mentions}:
            mention_labels.setdefault(label, Counts()).add(
                score_mentions(
                    [m for m in gold.mentions if m.label == label], [m for m in predicted.mentions if m.label == label]
                )
            )
        matched = match_stances(gold.stances, predicted.stances)
        hit_gold = {g for g, _ in matched}
        hit_pred = {p for _, p in matched}
        for i, stance in enumerate(gold.stances):
            stance_labels.setdefault(stance.label, Counts()).add(Counts(tp=1) if i in hit_gold else Counts(fn=1))
        for i, stance in enumerate(predicted.stances):
            if i not in hit_pred:
                stance_labels.setdefault(stance.label, Counts()).fp += 1
    return {
        "mentions": figures(scores.mentions, mention_labels),
        "triggers": figures(scores.triggers, scores.triggers_by_type),
        "arguments": figures(scores.arguments, scores.arguments_by_role),
        "stance": figures(scores.stances, stance_labels),
    }

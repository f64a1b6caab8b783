"""Suggestion quality: the pre-annotation pipeline against an adjudicated gold corpus.

    .venv/bin/python bench/score_suggestions.py [--corpus /work/shared/corpus/en_train.jsonl] [--by-type] [--json]

Runs the same `Preannotator` a pre-annotation job builds (the configured spaCy model, the default
schema seeds/schema.json and the actor registry seeds/actors.jsonl) over the article texts of a
native-JSONL gold file (`export_corpus --format jsonl`; ../shared/corpus/README.md) and scores the
suggestions against its gold layer with `annotations/learning/scoring.py`: exact mention P/R/F1; event triggers
(type + overlapping trigger); arguments (role + overlapping span, inside matched events); stance
(label + holder + target); the share of suggested events lacking a required role. `--by-type` adds
trigger scores per event type and argument scores per role. Articles in a language the pipeline
skips count with no suggestions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "en_train.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--by-type", action="store_true", help="trigger scores per event type, arguments per role")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} is missing")

    # Django only for the settings (the model the workers load); the pipeline itself reads no database.
    workdir = Path(tempfile.mkdtemp(prefix="workbench-score-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4().hex}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from django.conf import settings

    from annotations.learning.scoring import gold_document, predicted_document, required_roles, score_documents
    from annotations.nlp import Preannotator, load_actor_seeds

    schema = json.loads((ROOT / "seeds" / "schema.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    # One pipeline per language of the corpus, as the jobs run them (settings.SPACY_MODELS)
    languages = sorted({row.get("language") or "en" for row in rows})
    annotators = {
        language: Preannotator(
            schema=schema,
            actors=load_actor_seeds(),
            model=settings.SPACY_MODEL if language == "en" else settings.SPACY_MODELS.get(language),
            language=language,
        )
        for language in languages
    }
    annotator = annotators[languages[0]]
    started = time.perf_counter()
    by_index = {}
    for language, lang_annotator in annotators.items():
        picked = [i for i, row in enumerate(rows) if (row.get("language") or "en") == language]
        for i, result in zip(picked, lang_annotator.annotate((rows[i]["text"], language) for i in picked), strict=True):
            by_index[i] = result
    results = [by_index[i] for i in range(len(rows))]
    elapsed = time.perf_counter() - started
    skipped = sum(1 for r in results if r.skipped)
    scores = score_documents(
        ((gold_document(row), predicted_document(result)) for row, result in zip(rows, results, strict=True)),
        required_roles(schema),
    )

    def prf(c) -> dict[str, float | int]:
        return {
            "precision": round(c.precision, 3),
            "recall": round(c.recall, 3),
            "f1": round(c.f1, 3),
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
        }

    figures = {
        "corpus": str(args.corpus),
        "articles": len(rows),
        "skipped": skipped,
        "model_version": annotator.model_version,
        "seconds": round(elapsed, 2),
        "mentions": prf(scores.mentions),
        "triggers": prf(scores.triggers),
        "arguments": prf(scores.arguments),
        "stances": prf(scores.stances),
        "stance_matched_share": round(scores.stance_matched_share, 3),
        "predicted_events": scores.predicted_events,
        "lacking_required_role_share": round(scores.lacking_required_role_share, 3),
        "triggers_by_type": {t: prf(c) for t, c in sorted(scores.triggers_by_type.items())},
        "arguments_by_role": {r: prf(c) for r, c in sorted(scores.arguments_by_role.items())},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.corpus.name}: {len(rows)} articles ({skipped} skipped by the pipeline), {elapsed:.1f} s")
    print(f"model version {annotator.model_version}")
    print(f"{'':28}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>6}{'FN':>6}")

    def line(name: str, c) -> None:
        print(f"{name:28}{c.precision:7.3f}{c.recall:7.3f}{c.f1:7.3f}{c.tp:6}{c.fp:6}{c.fn:6}")

    line("mentions (exact)", scores.mentions)
    line("event triggers", scores.triggers)
    line("arguments", scores.arguments)
    line("stance", scores.stances)
    print(f"stance items matched: {scores.stance_matched_share:.1%} of {scores.stances.tp + scores.stances.fn}")
    print(
        f"suggested events lacking a required role: {scores.lacking_required_role_share:.1%} "
        f"({scores.events_lacking_required_role} of {scores.predicted_events})"
    )
    if args.by_type:
        print("\ntriggers by type")
        for event_type, c in sorted(scores.triggers_by_type.items()):
            line(f"  {event_type}", c)
        print("arguments by role")
        for role, c in sorted(scores.arguments_by_role.items()):
            line(f"  {role}", c)


if __name__ == "__main__":
    main()

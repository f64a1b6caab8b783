"""The learning loop's bench: train on a share of the annotated corpus, gate, and compare on dev.

    .venv/bin/python bench/learning.py [--corpus ../shared/corpus/en_train.jsonl] [--fractions 0.25,0.5,1]
                                       [--iterations N] [--json]

For each fraction it makes a fresh project in a throwaway SQLite database (default schema and actor
registry, as `create_project` gives), imports the corpus as adjudicated gold (`import_articles
--annotations gold`), and runs a real training job in this process (`training_start`, the Celery
task run eagerly): the gold exported as a dataset version with the exports' story-aware splits,
the components trained on that share of the train split's stories, the gate deciding on the dev
articles (the same dev articles at every fraction). It prints, per component, dev F1 of the rules
alone, of the rules merged with the candidate component, and of the active pipeline after the
gate, with the training time and the training process's peak memory.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "en_train.jsonl"
COMPONENTS = ("mentions", "triggers", "arguments", "stance")


def f1(scores: dict[str, Any], name: str) -> float:
    return float((scores or {}).get(name, {}).get("f1", 0.0))


def run(corpus: Path, fraction: float, index: int) -> dict[str, Any]:
    from annotations.models import Job, ModelComponent
    from annotations.services.annotated_import import annotated_import
    from annotations.services.projects import project_create
    from annotations.services.training import training_start

    project = project_create(slug=f"learning-{index}", name=f"Learning bench {fraction:g}")
    imported_at = time.perf_counter()
    annotated_import(project=project, path=corpus, annotations="gold")
    import_seconds = time.perf_counter() - imported_at
    project.train_min_articles = 1
    project.save(update_fields=["train_min_articles"])
    started = time.perf_counter()
    job = training_start(project=project, fraction=fraction)  # runs on commit, eagerly, in this process
    job.refresh_from_db()
    wall = time.perf_counter() - started
    if job.status != Job.Status.SUCCEEDED:
        raise SystemExit(f"training job {job.pk} {job.status}: {job.error}\n{job.log}")
    result = job.result
    components = {c.name: c for c in ModelComponent.objects.filter(model__job=job)}
    return {
        "fraction": fraction,
        "train_articles": job.counts.get("train_articles"),
        "dev_articles": result["dev_articles"],
        "import_seconds": round(import_seconds, 1),
        "training_seconds": round(result["seconds"], 1),
        "job_seconds": round(wall, 1),
        "peak_memory_mb": round(result["peak_memory_mb"], 1),
        "components": {
            name: {
                "rules": round(f1(result["before"]["scores"], name), 3),
                "merged_candidate": round(f1(result["candidates"], name), 3) if name in result["candidates"] else None,
                "active_after_gate": round(f1(result["after"]["scores"], name), 3),
                "status": components[name].status if name in components else "skipped",
                "details": components[name].details if name in components else {},
            }
            for name in COMPONENTS
        },
        "pipeline_after": result["after"]["pipeline"],
        "log": job.log,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--fractions", default="0.25,0.5,1")
    parser.add_argument("--iterations", type=int, help="NER iterations (default: TRAIN_NER_ITERATIONS)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--log", action="store_true", help="print each training job's log")
    args = parser.parse_args()
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} is missing")
    fractions = [float(f) for f in args.fractions.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="workbench-learning-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["WORKBENCH_VAR_DIR"] = str(workdir / "var")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4().hex}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    if args.iterations:
        os.environ["TRAIN_NER_ITERATIONS"] = str(args.iterations)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = [run(args.corpus, fraction, i) for i, fraction in enumerate(fractions)]
    if args.json:
        print(json.dumps([{k: v for k, v in row.items() if k != "log"} for row in rows], indent=2))
        return
    for row in rows:
        if args.log:
            print(row["log"])
        print(
            f"\n{row['fraction']:.0%} of train: {row['train_articles']} train / {row['dev_articles']} dev articles; "
            f"training {row['training_seconds']} s (job {row['job_seconds']} s), "
            f"peak memory {row['peak_memory_mb']} MB; "
            f"active after the gate: {row['pipeline_after']}"
        )
        print(f"  {'component':10} {'rules':>7} {'merged':>7} {'active':>7}  status")
        for name, c in row["components"].items():
            merged = "—" if c["merged_candidate"] is None else f"{c['merged_candidate']:.3f}"
            print(f"  {name:10} {c['rules']:7.3f} {merged:>7} {c['active_after_gate']:7.3f}  {c['status']}")


if __name__ == "__main__":
    main()

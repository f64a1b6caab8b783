"""Pre-annotation throughput: bare `nlp.pipe` vs a full job (real workers + database), in one run.

    .venv/bin/python bench/preannotate.py [--articles 500] [--database URL] [--broker URL]

Prints words/s of bare `nlp.pipe` over the texts, of a full pre-annotation job with one worker
process, and with two; then the ratios. The job time runs from the job's creation to its last
chunk committed, with the workers already started and their model loaded.
Targets (DESIGN.md §7): full job ≥ 0.9 × bare pipe; 2 workers ≥ 1.8 × 1 worker.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_texts(n: int) -> list[str]:
    """N article texts made from the seeds, each different (so no duplicate is skipped)."""
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    bodies = [p.read_text(encoding="utf-8") for p in seeds]
    return [f"{bodies[i % len(bodies)]}\n\nReport {i}." for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--database", help="DATABASE_URL for the bench (default: a fresh SQLite file).")
    parser.add_argument("--broker", help="CELERY_BROKER_URL (default: the configured one).")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--chunk-size", type=int, default=25)
    args = parser.parse_args()

    # One BLAS thread per process, as in a worker pool with one process per core: otherwise a
    # single process borrows the second core and "2 workers vs 1" measures less than it should.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    workdir = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    os.environ["DATABASE_URL"] = args.database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if args.broker:
        os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ["CELERY_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from annotations.models import Job, Project
    from annotations.nlp import load_spacy_model
    from annotations.preannotation import preannotation_start
    from annotations.services import ArticleInput, articles_create, project_create

    call_command("migrate", verbosity=0)
    if not Path(settings.BASE_DIR / "seeds" / "actors.jsonl").exists():
        raise SystemExit("seeds/actors.jsonl is missing")
    from annotations.importing import actors_load_file

    actors_load_file(path=settings.BASE_DIR / "seeds" / "actors.jsonl")

    texts = build_texts(args.articles)
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} articles, {words:,} words; database {settings.DATABASES['default']['ENGINE'].split('.')[-1]}, "
          f"broker {settings.CELERY_BROKER_URL.split('://')[0]}")  # fmt: skip

    # Bare nlp.pipe, the model already loaded (as in a warm worker).
    nlp, _ = load_spacy_model(settings.SPACY_MODEL)
    list(nlp.pipe(texts[:20], batch_size=args.batch_size))
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=args.batch_size):
        pass
    bare = time.perf_counter() - started
    print(f"bare nlp.pipe           {words / bare:10,.0f} words/s  ({bare:.1f} s)")

    from tests.workers import WorkerProcess

    def run_job(concurrency: int) -> float:
        slug = f"bench-{concurrency}-{uuid.uuid4().hex[:6]}"
        project = project_create(slug=slug, name=slug)
        articles_create(project=project, articles=[ArticleInput(title=f"A{i}", text=t) for i, t in enumerate(texts)])
        worker = WorkerProcess(os.environ["CELERY_QUEUE"], concurrency=concurrency).start()
        try:
            # Warm up: one small job loads the model and builds the pipeline in every process.
            warm = project_create(slug=f"{slug}-warm", name="warm")
            articles_create(
                project=warm, articles=[ArticleInput(title=f"W{i}", text=t) for i, t in enumerate(texts[:40])]
            )
            wait(preannotation_start(project=warm, chunk_size=1).pk, Job)
            started = time.perf_counter()
            job = preannotation_start(project=Project.objects.get(slug=slug), chunk_size=args.chunk_size)
            wait(job.pk, Job)
            return time.perf_counter() - started
        finally:
            worker.stop()
            worker.log_path.unlink(missing_ok=True)

    one = run_job(1)
    print(f"full job, 1 worker      {words / one:10,.0f} words/s  ({one:.1f} s)")
    two = run_job(2)
    print(f"full job, 2 workers     {words / two:10,.0f} words/s  ({two:.1f} s)")
    print(f"ratio full job / bare pipe: {bare / one:.2f}   (target >= 0.9)")
    print(f"ratio 2 workers / 1:        {one / two:.2f}   (target >= 1.8)")


def wait(job_id: int, job_model: type) -> None:
    while True:
        job = job_model.objects.get(pk=job_id)
        if job.status == "failed":
            raise SystemExit(f"job {job_id} failed: {job.error}")
        if job.status == "succeeded":
            return
        time.sleep(0.05)


if __name__ == "__main__":
    main()

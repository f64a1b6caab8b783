"""Pre-annotation throughput: bare `nlp.pipe` vs a full job (real workers + database), in one run.

    .venv/bin/python bench/preannotate.py [--articles 500] [--database URL] [--broker URL]

Prints words/s over the same texts, in this order:
- bare `nlp.pipe`: the trained model alone;
- the NLP the job runs, in this process without a database: the same `nlp.pipe` stream plus the
  gazetteer, event rules and stance cues (`Preannotator.annotate`), i.e. the same components;
- a full pre-annotation job with one worker process, and with two;
then the ratios. The job time runs from the job's creation to its last chunk committed, with the
workers already started and their model loaded. Each line also gives words per CPU-second (this
process for the in-process lines; every process of the worker for the jobs, read from /proc, not
counting the database server), which moves much less than wall time when other work shares the
machine; the load average is printed at the start and the end.
Targets (DESIGN.md §7): full job ≥ 0.9 × bare pipe; 2 workers ≥ 1.8 × 1 worker. The job's
overhead is measured against the NLP with the same components; the ratio to the model alone is
printed too (it also counts the rules' own cost).
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
    from annotations.preannotation import actor_entries, get_preannotator, preannotation_start
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

    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def report(what: str, wall: float, cpu: float | None) -> None:
        per_cpu = f"{words / cpu:10,.0f} words/CPU-s" if cpu else ""
        print(f"{what:24}{words / wall:10,.0f} words/s  ({wall:5.1f} s)  {per_cpu}")

    # Bare nlp.pipe, the model already loaded (as in a warm worker).
    nlp, _ = load_spacy_model(settings.SPACY_MODEL)
    list(nlp.pipe(texts[:20], batch_size=args.batch_size))
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in nlp.pipe(texts, batch_size=args.batch_size):
        pass
    bare, bare_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    report("bare nlp.pipe", bare, bare_cpu)

    # The same stream with the job's rules: the pipeline a worker builds for the project's schema
    # and the actor registry (warm, as in a worker), no database.
    schema = project_create(slug=f"bench-nlp-{uuid.uuid4().hex[:6]}", name="nlp").label_schema
    annotator = get_preannotator(schema=schema, actors=actor_entries())
    list(annotator.annotate(((t, "en") for t in texts[:20]), batch_size=args.batch_size))
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in annotator.annotate(((t, "en") for t in texts), batch_size=args.batch_size):
        pass
    nlp_rules, nlp_rules_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    report("nlp.pipe + rules", nlp_rules, nlp_rules_cpu)

    from tests.workers import WorkerProcess

    def run_job(concurrency: int) -> tuple[float, float | None]:
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
            assert worker.process is not None
            started, cpu_started = time.perf_counter(), group_cpu(worker.process.pid)
            job = preannotation_start(project=Project.objects.get(slug=slug), chunk_size=args.chunk_size)
            wait(job.pk, Job)
            cpu_ended = group_cpu(worker.process.pid)
            cpu = cpu_ended - cpu_started if cpu_started is not None and cpu_ended is not None else None
            return time.perf_counter() - started, cpu
        finally:
            worker.stop()
            worker.log_path.unlink(missing_ok=True)

    one, one_cpu = run_job(1)
    report("full job, 1 worker", one, one_cpu)
    two, two_cpu = run_job(2)
    report("full job, 2 workers", two, two_cpu)
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"ratio full job / nlp.pipe + rules: {nlp_rules / one:.2f}   (target >= 0.9: the job's overhead)")
    print(f"ratio full job / bare nlp.pipe:    {bare / one:.2f}   (also counts the rules)")
    print(f"ratio 2 workers / 1:               {one / two:.2f}   (target >= 1.8)")
    if one_cpu:
        print(
            f"CPU ratios, 1 worker: {nlp_rules_cpu / one_cpu:.2f} of nlp.pipe + rules, {bare_cpu / one_cpu:.2f} of bare"
        )


def group_cpu(pgid: int) -> float | None:
    """CPU seconds used so far by every process of a process group (Linux /proc); None elsewhere."""
    total = 0
    try:
        stats = list(Path("/proc").glob("[0-9]*/stat"))
    except OSError:
        return None
    if not stats:
        return None
    for stat in stats:
        try:
            # Fields after the command name (which may hold spaces): state is 3rd, pgrp 5th, utime 14th, stime 15th.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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

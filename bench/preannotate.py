"""Pre-annotation throughput: bare `nlp.pipe` vs a full job (real workers + database), in one run.

    .venv/bin/python bench/preannotate.py [--articles 500] [--language en|fr] [--database URL] [--broker URL]

With `--language fr` the texts are French articles and everything runs the French pipeline
(settings.SPACY_MODELS["fr"], seeds/event_patterns.fr.json). Prints words/s over the same texts, in this order:
- bare `nlp.pipe`: the trained model alone;
- the NLP the job runs, in this process without a database: the same `nlp.pipe` stream plus the
  gazetteer, event rules and stance cues (`Preannotator.annotate`), i.e. the same components;
- a full pre-annotation job with one worker process, and with two;
then the ratios. The job time runs from the job's creation to its last chunk committed, with the
workers (one with one process, one with two, each on its own queue) already started and their
model loaded. The texts go through in rounds (--rounds slices, each through all four in turn),
so that a change in the machine's load during the run weighs on every line alike. Each line also
gives words per CPU-second (this process for the in-process lines; every process of the worker for
the jobs, read from /proc, not counting the database server); the load average is printed at the
start and the end.
Targets (DESIGN.md §7): full job ≥ 0.9 × bare pipe; 2 workers ≥ 1.8 × 1 worker. The job's
overhead is measured against the NLP with the same components; the ratio to the model alone is
printed too (it also counts the rules' own cost).
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


FRENCH_CORPUS = ROOT.parent / "shared" / "corpus" / "fr_train.jsonl"


def build_texts(n: int, language: str = "en") -> list[str]:
    """N article texts, each different (so no duplicate is skipped): English from the seeds; French from
    the French articles of ../shared/corpus/fr_train.jsonl (read, never copied), or without it the
    French fixture articles of tests/fixtures/fr/."""
    if language == "en":
        bodies = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    elif language == "fr" and FRENCH_CORPUS.exists():
        lines = FRENCH_CORPUS.read_text(encoding="utf-8").splitlines()
        bodies = [json.loads(line)["text"] for line in lines if line.strip()]
    elif language == "fr":
        bodies = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "fr").glob("*.txt"))]
    else:
        raise SystemExit(f"no bench texts for {language!r}; use en or fr")
    ending = "Rapport" if language == "fr" else "Report"
    return [f"{bodies[i % len(bodies)]}\n\n{ending} {i}." for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--database", help="DATABASE_URL for the bench (default: a fresh SQLite file).")
    parser.add_argument("--broker", help="CELERY_BROKER_URL (default: the configured one).")
    parser.add_argument("--language", default="en", help="en (the seeds) or fr (French articles, French pipeline)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--chunk-size", type=int, default=25)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="slices of the texts, each through all four (more: smaller jobs, whose tail lowers 2 vs 1)",
    )
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
    # The workers run as in production: DEBUG off (with it on, Django keeps every query it runs
    # in memory) and database connections kept between tasks.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", f"bench-only-{uuid.uuid4().hex}")
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    from annotations.models import Job
    from annotations.nlp import load_spacy_model
    from annotations.services.actors import actor_entries
    from annotations.services.articles import ArticleInput, articles_create
    from annotations.services.preannotation import get_preannotator, preannotation_start
    from annotations.services.projects import project_create

    call_command("migrate", verbosity=0)
    if not Path(settings.BASE_DIR / "seeds" / "actors.jsonl").exists():
        raise SystemExit("seeds/actors.jsonl is missing")
    from annotations.services.actors import actors_load_file

    actors_load_file(path=settings.BASE_DIR / "seeds" / "actors.jsonl")

    language = args.language
    texts = build_texts(args.articles, language)
    words = sum(len(t.split()) for t in texts)
    engine = settings.DATABASES["default"]["ENGINE"].split(".")[-1]
    print(f"{len(texts)} articles ({language}), {words:,} words; database {engine}, "
          f"broker {settings.CELERY_BROKER_URL.split('://')[0]}")  # fmt: skip

    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    def report(what: str, wall: float, cpu: float | None) -> None:
        per_cpu = f"{words / cpu:10,.0f} words/CPU-s" if cpu else ""
        print(f"{what:24}{words / wall:10,.0f} words/s  ({wall:5.1f} s)  {per_cpu}")

    # Warm, as in a worker: the model loaded, and the pipeline a worker builds for the project's
    # schema and the actor registry (model + gazetteer + event rules + stance cues).
    model = settings.SPACY_MODEL if language == "en" else settings.SPACY_MODELS[language]
    nlp, trained = load_spacy_model(model)
    if not trained:
        raise SystemExit(f"spaCy model {model!r} is not installed")
    print(f"model {model}")
    schema = project_create(slug=f"bench-nlp-{uuid.uuid4().hex[:6]}", name="nlp").label_schema
    annotator = get_preannotator(schema=schema, actors=actor_entries(), language=language)
    list(annotator.annotate(((t, language) for t in texts[:20]), batch_size=args.batch_size))

    from tests.workers import WorkerProcess

    project = project_create(slug=f"bench-{uuid.uuid4().hex[:6]}", name="bench")
    inputs = [ArticleInput(title=f"A{i}", text=t, language=language) for i, t in enumerate(texts)]
    articles_create(project=project, articles=inputs)
    article_ids = list(project.articles.order_by("id").values_list("id", flat=True))
    workers = {n: WorkerProcess(f"{os.environ['CELERY_QUEUE']}-{n}", concurrency=n).start() for n in (1, 2)}

    def on_queue(n: int) -> Any:
        # Where this process publishes a job's first task; the worker enqueues its chunks on its own queue.
        return override_settings(CELERY_TASK_DEFAULT_QUEUE=workers[n].queue)

    def run_job(n: int, ids: list[int]) -> tuple[float, float | None]:
        pid = workers[n].process.pid  # type: ignore[union-attr]
        started, cpu_started = time.perf_counter(), group_cpu(pid)
        with on_queue(n):
            job = preannotation_start(project=project, article_ids=ids, chunk_size=args.chunk_size)
        wait(job.pk, Job)
        wall, cpu_ended = time.perf_counter() - started, group_cpu(pid)
        return wall, (cpu_ended - cpu_started if cpu_started is not None and cpu_ended is not None else None)

    walls: dict[str, float] = dict.fromkeys(("bare", "rules", "one", "two"), 0.0)
    cpus: dict[str, float | None] = dict.fromkeys(walls, 0.0)

    def add(key: str, wall: float, cpu: float | None) -> None:
        walls[key] += wall
        previous = cpus[key]
        cpus[key] = None if previous is None or cpu is None else previous + cpu

    try:
        # Warm up: one small job per worker loads the model and builds the pipeline in every process.
        warm = project_create(slug=f"{project.slug}-warm", name="warm")
        warm_inputs = [ArticleInput(title=f"W{i}", text=t, language=language) for i, t in enumerate(texts[:40])]
        articles_create(project=warm, articles=warm_inputs)
        for n in workers:
            with on_queue(n):
                wait(preannotation_start(project=warm, chunk_size=1).pk, Job)
        # Rounds over slices of the texts, each slice through all four, so that a change in the
        # machine's load during the run weighs on every line alike.
        step = -(-len(texts) // args.rounds)
        for start in range(0, len(texts), step):
            part, ids = texts[start : start + step], article_ids[start : start + step]
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in nlp.pipe(part, batch_size=args.batch_size):
                pass
            add("bare", time.perf_counter() - started, time.process_time() - cpu_started)
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in annotator.annotate(((t, language) for t in part), batch_size=args.batch_size):
                pass
            add("rules", time.perf_counter() - started, time.process_time() - cpu_started)
            add("one", *run_job(1, ids))
            add("two", *run_job(2, ids))
    finally:
        for worker in workers.values():
            worker.stop()
            worker.log_path.unlink(missing_ok=True)

    report("bare nlp.pipe", walls["bare"], cpus["bare"])
    report("nlp.pipe + rules", walls["rules"], cpus["rules"])
    report("full job, 1 worker", walls["one"], cpus["one"])
    report("full job, 2 workers", walls["two"], cpus["two"])
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    one, two = walls["one"], walls["two"]
    print(f"ratio full job / nlp.pipe + rules: {walls['rules'] / one:.2f}   (target >= 0.9: the job's overhead)")
    print(f"ratio full job / bare nlp.pipe:    {walls['bare'] / one:.2f}   (also counts the rules)")
    print(f"ratio 2 workers / 1:               {one / two:.2f}   (target >= 1.8)")
    one_cpu, rules_cpu, bare_cpu = cpus["one"], cpus["rules"], cpus["bare"]
    if one_cpu and rules_cpu and bare_cpu:
        print(f"CPU ratios, 1 worker: {rules_cpu / one_cpu:.2f} of nlp.pipe + rules, {bare_cpu / one_cpu:.2f} of bare")


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

"""Article import throughput on PostgreSQL, story grouping included, against a bare COPY of the same rows.

    .venv/bin/python bench/importing.py [--articles 10000] [--runs 3]
                                        [--pg-url postgres://postgres@127.0.0.1:5432] [--keep] [--profile]

Creates the database workbench_bench_import (dropped at the end unless --keep) and migrates it.
Writes --articles news-like texts (`generated_texts` of bench/export.py: Zipf-distributed words
with stop words, a third of them rewriting an earlier one) to a temporary .jsonl file, each with
a title, source, URL, published date and a dateline in its metadata. Then, in this process,
--runs times, on emptied tables:

- **import**: the file through `importing.import_paths`, what `manage.py import_articles` runs
  (read, checked, stored by `articles_create` in batches of
  `importing.IMPORT_BATCH_SIZE`, in one transaction), story grouping included: articles/s,
  the grouping's share (`stories.plan_batch` and `DatabaseStories.save`, as bench/export.py
  counts it) and the stories found;
- **bare COPY**: the rows that import stored (articles with their story keys and fingerprints,
  and their anchors in primary-key order) written again with COPY into another project of the
  same tables, a transaction per 1,000 articles, from COPY data read out before timing: what
  storing them costs the database, without Python's per-article work.

The machine is shared, so each run prints the ratio import time / bare COPY time, the CPU time
of this process and of its PostgreSQL backend, and the load average. --profile adds one import
under cProfile (not timed) and prints its 30 most expensive functions.

Target (DESIGN.md §7): import ≥ 2,000 articles/s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import export  # noqa: E402  (bench/export.py: the generated texts, creating and dropping the database)

DATABASE = export.DATABASE = "workbench_bench_import"  # its helpers, on this bench's own database
BATCH = 1000
TICKS = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def backend_seconds() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (it runs on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def write_articles(path: Path, count: int) -> None:
    """The generated texts as a .jsonl file of articles, with the fields an outlet's feed has."""
    first = date(2024, 1, 1)
    with path.open("wb") as out:
        for i, text in enumerate(export.generated_texts(count)):
            published = first + timedelta(days=i % 365)
            article = {
                "title": f"Generated report {i}",
                "text": text,
                "source": f"outlet-{i % 37}",
                "url": f"https://outlet-{i % 37}.example/news/{i}",
                "published": published.isoformat(),
                "metadata": {"dateline": f"Published on: {published:%B %d, %Y}"},
            }
            out.write(orjson.dumps(article) + b"\n")


def empty_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE annotations_articleanchor, annotations_article RESTART IDENTITY CASCADE")
        cursor.execute("VACUUM ANALYZE annotations_article, annotations_articleanchor")


class Grouping:
    """Seconds spent in story grouping while installed (the functions bench/export.py times:
    `plan_batch` and `DatabaseStories.save`)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def timed(self, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return wrapper

    def __enter__(self) -> Grouping:
        from annotations import stories
        from annotations.services import articles as article_services

        self.saved = article_services.plan_batch, stories.DatabaseStories.save
        article_services.plan_batch = self.timed(self.saved[0])
        stories.DatabaseStories.save = self.timed(self.saved[1])
        return self

    def __exit__(self, *exc: object) -> None:
        from annotations import stories
        from annotations.services import articles as article_services

        article_services.plan_batch, stories.DatabaseStories.save = self.saved


def import_all(project, path: Path, count: int) -> None:
    """What `manage.py import_articles` runs."""
    from annotations.services.imports import import_paths

    report = import_paths(project=project, paths=[path])
    assert (report.imported, report.duplicates, report.errors) == (count, 0, []), report.summary()


def copy_out(query: str) -> bytes:
    from django.db import connection

    with connection.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
        return b"".join(copy)


def payloads(project_id: int, target_id: int) -> list[tuple[bytes, bytes]]:
    """Per batch of the project's articles, COPY data of its article rows and its anchors for
    `target_id` (ids moved past the last article's): made before the bare COPY is timed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM annotations_article WHERE project_id = %s ORDER BY id", [project_id])
        ids = [pk for (pk,) in cursor.fetchall()]
    offset = ids[-1]
    columns = (
        "title, text, source, url, published, language, content_hash, story_key, story_bigrams, metadata,"
        " imported_from, created_at"
    )
    found = []
    for start in range(0, len(ids), BATCH):
        first, last = ids[start], ids[min(start + BATCH, len(ids)) - 1]
        where = f"project_id = {project_id} AND {{}} BETWEEN {first} AND {last}"
        articles = copy_out(
            f"SELECT id + {offset}, {target_id}, {columns} FROM annotations_article"
            f" WHERE {where.format('id')} ORDER BY id"
        )
        anchors = copy_out(
            f"SELECT {target_id}, hash, article_id + {offset} FROM annotations_articleanchor"
            f" WHERE {where.format('article_id')} ORDER BY hash, article_id"  # as `DatabaseStories.save` writes them
        )
        found.append((articles, anchors))
    return found


def bare_copy(batches: list[tuple[bytes, bytes]]) -> float:
    """Seconds to COPY the prepared rows in, a batch per transaction."""
    from django.db import connection, transaction

    started = time.perf_counter()
    for articles, anchors in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(
                "COPY annotations_article (id, project_id, title, text, source, url, published, language,"
                " content_hash, story_key, story_bigrams, metadata, imported_from, created_at) FROM STDIN"
            ) as copy:
                copy.write(articles)
            with cursor.copy("COPY annotations_articleanchor (project_id, hash, article_id) FROM STDIN") as copy:
                copy.write(anchors)
    return time.perf_counter() - started


def run(number: int, path: Path, count: int) -> float:
    from annotations.models import Article
    from annotations.services.projects import project_create

    empty_tables()
    started_load = load()
    project = project_create(slug=f"bench-import-{number}", name="Import bench")
    cpu, server = time.process_time(), backend_seconds()
    with Grouping() as grouping:
        started = time.perf_counter()
        import_all(project, path, count)
        elapsed = time.perf_counter() - started
    cpu, server = time.process_time() - cpu, backend_seconds() - server
    stories = Article.objects.filter(project=project).values("story_key").distinct().count()

    baseline = project_create(slug=f"bench-copy-{number}", name="Bare COPY")
    batches = payloads(project.pk, baseline.pk)
    anchors = sum(payload.count(b"\n") for _, payload in batches)
    copy_seconds = bare_copy(batches)
    assert Article.objects.filter(project=baseline).count() == count

    print(
        f"run {number}: import {count / elapsed:7,.0f} articles/s ({elapsed:5.2f} s; grouping "
        f"{grouping.seconds / elapsed:4.0%}, {grouping.seconds / count * 1e6:4.0f} µs/article; {stories:,} stories)"
        f" | bare COPY {count / copy_seconds:7,.0f} articles/s ({copy_seconds:4.2f} s, {anchors:,} anchors)"
        f" | ratio {elapsed / copy_seconds:4.2f}"
        f" | CPU µs/article: client {cpu / count * 1e6:4.0f}, server {server / count * 1e6:4.0f}"
        f" | load {started_load} → {load()}"
    )
    return elapsed / copy_seconds


def profile(path: Path, count: int) -> None:
    from annotations.services.projects import project_create

    empty_tables()
    project = project_create(slug="bench-import-profile", name="Import bench (profile)")
    profiler = cProfile.Profile()
    profiler.enable()
    import_all(project, path, count)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    parser.add_argument("--profile", action="store_true", help="also profile one import with cProfile")
    args = parser.parse_args()
    pg_url = args.pg_url.rstrip("/")

    export.create_database(pg_url)
    os.environ |= {"DATABASE_URL": f"{pg_url}/{DATABASE}", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "workbench.settings"}
    os.environ.setdefault("SECRET_KEY", "bench-only")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from annotations import stories

        call_command("migrate", verbosity=0)
        stories.bigrams("warm up the word table")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "articles.jsonl"
            write_articles(path, args.articles)
            print(
                f"{args.articles:,} generated articles ({path.stat().st_size / 2**20:.0f} MiB of JSONL); load {load()}"
            )
            ratios = [run(number, path, args.articles) for number in range(1, args.runs + 1)]
            print(f"ratio import / bare COPY: {min(ratios):.2f}–{max(ratios):.2f}")
            if args.profile:
                profile(path, args.articles)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            export.drop_database(pg_url)


if __name__ == "__main__":
    main()

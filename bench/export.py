"""Export throughput from PostgreSQL, against a bare COPY of the same rows; and import throughput.

    .venv/bin/python bench/export.py [--articles 100000] [--import-articles 10000]
                                     [--pg-url postgres://postgres@127.0.0.1:5432] [--keep]

Creates the database workbench_bench_export (dropped at the end unless --keep), migrates it and
fills one project with N articles, each with a gold layer of ~30 mentions, 5 events of 2
arguments and 2 stances, written with COPY (not the ORM). Then, in this process:

- a bare `COPY (SELECT …) TO STDOUT` of those rows (articles + layers, mentions, events,
  arguments, stances), consumed and thrown away;
- the JSONL export through `exporting.export_stream` (the generator the API streams), consumed
  the same way, --runs times: articles/s, time to first byte, and memory: peak RSS (ru_maxrss)
  and the growth of VmRSS sampled every 20 ms during the export;
- with --import-articles M (default 10,000; 0 to skip): M generated articles, a third of them
  rewrites of earlier ones, imported through `articles_create` in batches of 1,000
  (as `import_articles` does), story grouping included; articles/s and the grouping's share.

Targets (DESIGN.md §7): export ≥ 5,000 articles/s, peak memory < 300 MB, first byte < 1 s;
import ≥ 2,000 articles/s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import sys
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "workbench_bench_export"
ENTITY_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "DATE")
EVENT_TYPES = ("AGREE", "AID", "MEET", "ACCUSE", "DEPLOY")
STAMP = "2024-01-01 00:00:00+00"
MENTIONS, EVENTS, STANCES = 30, 5, 2


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """The largest VmRSS seen while running, sampled every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_kib()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib())
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, rss_kib())


def create_database(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def drop_database(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


# --- Filling the database with COPY -----------------------------------------------------------


# What adjudication writes on gold items (--provenance), in a few variants.
PROVENANCE = [
    orjson.dumps(
        {"strategy": strategy, "annotators": annotators, "reviewer": "chen", "at": f"2024-01-02T09:3{n}:00+00:00"}
    ).decode()
    for n, (strategy, annotators) in enumerate(
        [("unanimous", ["amina", "boris"]), ("majority", ["amina", "boris", "dara"]), ("picked", ["boris"]),
         ("manual", [])]
    )
]  # fmt: skip


def fill(project_id: int, count: int, actor_ids: list[int], with_provenance: bool = False) -> None:
    """`count` adjudicated gold layers with their articles and annotations, one COPY per table, ids from 1.

    Article i's k-th mention has the id (i - 1) * MENTIONS + k + 1 (events alike), so each table
    is written in its own pass without keeping the others' ids. Items carry a provenance only
    `with_provenance` (otherwise `{}`, as items written before adjudication recorded one).
    """
    from django.db import connection

    from annotations.services.articles import content_hash

    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    spans = [[m.span() for m in re.finditer(r"\w{3,}", text)] for text in seeds]
    titles = [text.strip().splitlines()[0] for text in seeds]

    def chosen(i: int) -> tuple[str, list[tuple[int, int]]]:
        """Article i's seed text and the spans of its mentions, then of its event triggers."""
        seed = i % len(seeds)
        return seeds[seed], random.Random(i).sample(spans[seed], MENTIONS + EVENTS)

    def mention_id(i: int, k: int) -> int:
        return (i - 1) * MENTIONS + k + 1

    def provenance(pk: int) -> str:
        return PROVENANCE[pk % len(PROVENANCE)] if with_provenance else "{}"

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no per-row FK triggers while loading
        with cursor.copy(
            "COPY annotations_article (id, project_id, title, text, source, url, published, language, content_hash,"
            " story_key, story_bigrams, metadata, imported_from, created_at) FROM STDIN"
        ) as copy:
            story = ""
            for i in range(1, count + 1):
                seed = i % len(seeds)
                text = f"{seeds[seed]}\n\nReport {i}."
                digest = content_hash(text)
                story = digest if seed in (0, 2, 3) or not story else story  # 000, 001, 004: one story
                copy.write_row(
                    (i, project_id, f"{titles[seed]} #{i}", text, "bench", "", "2024-04-12", "en", digest, story, b"",
                     '{"dateline": "Published on: April 12, 2023"}', "bench", STAMP)
                )  # fmt: skip
        with cursor.copy(
            "COPY annotations_layer (id, article_id, kind, annotator_id, model_version, status, version, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for i in range(1, count + 1):
                copy.write_row((i, i, "gold", None, "", "adjudicated", 1, STAMP, STAMP))
        with cursor.copy(
            'COPY annotations_mention (id, layer_id, label, start, "end", text, actor_id, score, provenance,'
            " created_at) FROM STDIN"
        ) as copy:
            for i in range(1, count + 1):
                text, picked = chosen(i)
                for k, (start, end) in enumerate(picked[:MENTIONS]):
                    pk = mention_id(i, k)
                    actor = actor_ids[pk % len(actor_ids)] if actor_ids and pk % 5 == 0 else None
                    label = ENTITY_LABELS[pk % len(ENTITY_LABELS)]
                    copy.write_row((pk, i, label, start, end, text[start:end], actor, None, provenance(pk), STAMP))
        with cursor.copy(
            "COPY annotations_event (id, layer_id, event_type, trigger_start, trigger_end, trigger_text, mode,"
            " realis, contexts, score, provenance, created_at) FROM STDIN"
        ) as copy:
            for i in range(1, count + 1):
                text, picked = chosen(i)
                for n, (start, end) in enumerate(picked[MENTIONS:]):
                    mode = "military" if n % 2 else ""
                    pk = (i - 1) * EVENTS + n + 1
                    copy.write_row(
                        (pk, i, EVENT_TYPES[n], start, end, text[start:end], mode, "actual", '["military"]', None,
                         provenance(pk), STAMP)
                    )  # fmt: skip
        with cursor.copy("COPY annotations_eventargument (id, event_id, role, mention_id) FROM STDIN") as copy:
            for i in range(1, count + 1):
                for n in range(EVENTS):
                    event = (i - 1) * EVENTS + n + 1
                    copy.write_row((2 * event - 1, event, "actor", mention_id(i, 2 * n)))
                    copy.write_row((2 * event, event, "recipient", mention_id(i, 2 * n + 1)))
        with cursor.copy(
            "COPY annotations_stance (id, layer_id, holder_id, target_id, target_actor_id, label, scope,"
            " evidence_start, evidence_end, evidence_text, score, provenance, created_at) FROM STDIN"
        ) as copy:
            for i in range(1, count + 1):
                text = seeds[i % len(seeds)]
                copy.write_row(
                    (2 * i - 1, i, None, mention_id(i, 0), None, "AGAINST", "document", None, None, "", None,
                     provenance(2 * i - 1), STAMP)
                )  # fmt: skip
                copy.write_row(
                    (2 * i, i, mention_id(i, 1), mention_id(i, 2), None, "FAVOR", "sentence", 0, 40, text[0:40], 0.75,
                     provenance(2 * i), STAMP)
                )  # fmt: skip
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("article", "layer", "mention", "event", "eventargument", "stance"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('annotations_{table}', 'id'),"
                f" (SELECT max(id) FROM annotations_{table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as a database that has been running a while: visibility map, statistics
    print(
        f"filled {count:,} articles, {count * MENTIONS:,} mentions, {count * EVENTS:,} events, "
        f"{count * EVENTS * 2:,} arguments, {count * STANCES:,} stances with COPY in "
        f"{time.perf_counter() - started:.0f} s"
    )


# --- Measuring --------------------------------------------------------------------------------


def bare_copy(project_id: int) -> tuple[float, int]:
    """Seconds and bytes of COPY … TO STDOUT of the exported rows, read in this process."""
    from django.db import connection

    gold = f"SELECT l.id FROM annotations_layer l JOIN annotations_article a ON a.id = l.article_id WHERE a.project_id = {project_id} AND l.kind = 'gold'"  # noqa: E501
    queries = [
        "SELECT a.id, a.content_hash, a.story_key, a.title, a.text, a.source, a.url, a.published, a.language,"
        " a.metadata, l.id, l.kind, l.model_version, l.status, u.username, l.adjudicated_at"
        " FROM annotations_layer l JOIN annotations_article a ON a.id = l.article_id"
        " LEFT JOIN auth_user u ON u.id = l.adjudicated_by_id"
        f" WHERE a.project_id = {project_id} AND l.kind = 'gold' ORDER BY a.id",
        "SELECT m.id, m.layer_id, m.label, m.start, m.end, m.text, m.score, ac.name, ac.country, ac.sector,"
        " ac.wikidata_id, m.provenance FROM annotations_mention m LEFT JOIN annotations_actor ac ON ac.id = m.actor_id"
        f" WHERE m.layer_id IN ({gold})",
        "SELECT e.id, e.layer_id, e.event_type, e.trigger_start, e.trigger_end, e.trigger_text, e.mode, e.realis,"
        f" e.contexts, e.score, e.provenance FROM annotations_event e WHERE e.layer_id IN ({gold})",
        "SELECT g.event_id, g.role, g.mention_id FROM annotations_eventargument g JOIN annotations_event e"
        f" ON e.id = g.event_id WHERE e.layer_id IN ({gold})",
        "SELECT s.id, s.layer_id, s.holder_id, s.target_id, s.label, s.scope, s.evidence_start, s.evidence_end,"
        " s.evidence_text, s.score, s.provenance, ac.name, ac.country, ac.sector, ac.wikidata_id"
        " FROM annotations_stance s"
        f" LEFT JOIN annotations_actor ac ON ac.id = s.target_actor_id WHERE s.layer_id IN ({gold})",
    ]
    size = 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for query in queries:
            with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for block in copy:
                    size += len(block)
    return time.perf_counter() - started, size


def export(project, count: int) -> float:
    from annotations.exports.runner import export_request, export_stream

    sampler = RssSampler()
    before = rss_kib()
    sampler.start()
    started = time.perf_counter()
    first = None
    size = lines = 0
    for data in export_stream(export_request(project=project, format="jsonl")):
        if first is None and data:
            first = time.perf_counter() - started
        size += len(data)
        lines += data.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = sampler.stop()
    assert lines == count, (lines, count)
    print(f"JSONL export            {count / elapsed:10,.0f} articles/s  ({elapsed:.1f} s, {size / 2**20:,.0f} MiB)")
    print(f"  time to first byte    {first:10.3f} s")
    growth = (peak - before) / 1024
    print(f"  RSS before / peak     {before / 1024:10,.0f} / {peak / 1024:,.0f} MiB  (growth {growth:,.0f} MiB)")
    print(f"  ru_maxrss             {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:10,.0f} MiB")
    return elapsed


# --- Import -----------------------------------------------------------------------------------


def generated_texts(count: int, seed: int = 1) -> list[str]:
    """News-like texts: Zipf-distributed words with stop words between them; a third of them
    rewrite an earlier text (runs of three of its words, about 15 % of it, in new surroundings)."""
    from annotations.stories import stop_words

    rng = random.Random(seed)
    letters, vowels = "bcdfghjklmnprstvz", "aeiou"
    vocabulary = [
        "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(rng.randint(2, 4))) for _ in range(40_000)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    stop = sorted(stop_words())
    content: list[list[str]] = []
    texts = []
    for _ in range(count):
        words = rng.choices(vocabulary, weights=weights, k=260)
        if content and rng.random() < 0.33:
            base = content[rng.randrange(len(content))]
            for _ in range(len(base) * 15 // 300):
                at, to = rng.randrange(len(base) - 3), rng.randrange(len(words) - 3)
                words[to : to + 3] = base[at : at + 3]
        content.append(words)
        texts.append(" ".join(w + (" " + rng.choice(stop) if rng.random() < 0.8 else "") for w in words) + ".")
    return texts


def import_articles(count: int) -> None:
    from django.db import transaction

    from annotations import stories
    from annotations.models import Article, Project
    from annotations.services import articles as article_services
    from annotations.services.articles import ArticleInput, articles_create
    from annotations.services.projects import project_create

    texts = generated_texts(count)
    project = project_create(slug="bench-import", name="Import bench")
    inputs = [ArticleInput(title=f"Generated {i}", text=text) for i, text in enumerate(texts)]
    stories.bigrams("warm up the word table")
    spent = {"grouping": 0.0}
    plan, save = article_services.plan_batch, stories.DatabaseStories.save

    def timed_plan(*args, **kwargs):
        started = time.perf_counter()
        try:
            return plan(*args, **kwargs)
        finally:
            spent["grouping"] += time.perf_counter() - started

    def timed_save(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return save(self, *args, **kwargs)
        finally:
            spent["grouping"] += time.perf_counter() - started

    article_services.plan_batch, stories.DatabaseStories.save = timed_plan, timed_save
    started = time.perf_counter()
    for start in range(0, count, 1000):
        with transaction.atomic():
            articles_create(project=project, articles=inputs[start : start + 1000], imported_from="bench")
    elapsed = time.perf_counter() - started
    article_services.plan_batch, stories.DatabaseStories.save = plan, save
    groups = Article.objects.filter(project=project).values("story_key").distinct().count()
    print(
        f"import                  {count / elapsed:10,.0f} articles/s  ({elapsed:.1f} s; story grouping "
        f"{spent['grouping'] / elapsed:.0%} of it, {spent['grouping'] / count * 1e6:.0f} µs/article; "
        f"{groups:,} stories)"
    )
    Project.objects.filter(pk=project.pk).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--import-articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2, help="export runs (the machine may be busy: best is kept)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    parser.add_argument(
        "--reuse", action="store_true", help=f"export the {DATABASE} database kept by --keep again (no fill; kept)"
    )
    parser.add_argument(
        "--provenance", action="store_true", help="give every item an adjudication provenance (default: {})"
    )
    args = parser.parse_args()
    pg_url = args.pg_url.rstrip("/")

    if not args.reuse:
        create_database(pg_url)
    os.environ["DATABASE_URL"] = f"{pg_url}/{DATABASE}"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "workbench.settings"
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from annotations.models import Actor, Article, Project
        from annotations.services.actors import actors_load_file
        from annotations.services.projects import project_create

        call_command("migrate", verbosity=0)
        if args.reuse:
            project = Project.objects.get(slug="bench-export")
            args.articles = Article.objects.filter(project=project).count()
        else:
            actors_load_file(path=Path(settings.SEEDS_DIR) / "actors.jsonl")
            project = project_create(slug="bench-export", name="Export bench")
            actor_ids = list(Actor.objects.values_list("pk", flat=True))
            fill(project.pk, args.articles, actor_ids, with_provenance=args.provenance)

        copy_seconds, copy_bytes = bare_copy(project.pk)
        rate, mib = args.articles / copy_seconds, copy_bytes / 2**20
        print(f"bare COPY … TO STDOUT   {rate:10,.0f} articles/s  ({copy_seconds:.1f} s, {mib:,.0f} MiB)")
        seconds = min(export(project, args.articles) for _ in range(args.runs))
        print(f"ratio export / bare COPY time: {seconds / copy_seconds:.1f}  (best of {args.runs})")
        if args.import_articles:
            import_articles(args.import_articles)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            drop_database(pg_url)


if __name__ == "__main__":
    main()

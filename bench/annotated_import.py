"""Annotated import throughput: the shared corpus's en_train.jsonl (adjudicated gold) into a fresh project.

    .venv/bin/python bench/annotated_import.py [--db sqlite|postgres] [--runs 3]
        [--pg-url postgres://postgres@127.0.0.1:5432] [--file ../shared/corpus/en_train.jsonl]

SQLite: a temporary database file. PostgreSQL: creates the database workbench_bench_annotated
(dropped at the end). Each run imports the file into a new project through
`annotated_import` (what `manage.py import_articles --annotations gold` runs: read, every item
through the item services, the layer adjudicated) and prints articles/s and items/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "workbench_bench_annotated"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--file", type=Path, default=ROOT.parent / "shared" / "corpus" / "en_train.jsonl")
    args = parser.parse_args()
    temporary = tempfile.TemporaryDirectory(prefix="wt-import-bench-")
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
            admin.execute(f"CREATE DATABASE {DATABASE}")
        os.environ["DATABASE_URL"] = f"{args.pg_url}/{DATABASE}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{temporary.name}/bench.sqlite3"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from annotations.services.annotated_import import annotated_import
    from annotations.services.projects import project_create

    try:
        call_command("migrate", verbosity=0)
        for run in range(1, args.runs + 1):
            project = project_create(slug=f"bench-{run}", name=f"Bench {run}")
            began = time.perf_counter()
            outcome = annotated_import(project=project, path=args.file, annotations="gold")
            took = time.perf_counter() - began
            items = outcome.mentions + outcome.events + outcome.arguments + outcome.stances
            print(
                f"{args.db} run {run}: {outcome.articles} articles, {items} items in {took:.2f} s: "
                f"{outcome.articles / took:.1f} articles/s, {items / took:.0f} items/s"
            )
    finally:
        connections.close_all()
        if args.db == "postgres":
            import psycopg

            with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        temporary.cleanup()


if __name__ == "__main__":
    main()

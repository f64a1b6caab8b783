"""`manage.py load_actors FILE…`: add or update actors of the registry from JSON Lines or CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.errors import ImportFailed
from annotations.services.actors import actors_load_file


class Command(BaseCommand):
    help = (
        "Load a team's actor registry: .jsonl (one actor per line) or .csv (a header row with name, kind and "
        "optionally aliases separated by |, country, sector, wikidata_id, description). Actors are matched by "
        "name: new ones are added, known ones updated. Each file loads whole or not at all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="Registry files (.jsonl or .csv).")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        failed = 0
        for path in files:
            try:
                loaded = actors_load_file(path=path)
            except ImportFailed as exc:
                failed += 1
                for error in exc.errors:
                    self.stderr.write(error)
                continue
            self.stdout.write(
                f"{path}: created {loaded.created}, updated {loaded.updated}, unchanged {loaded.unchanged}"
            )
        if failed:
            raise CommandError(f"{failed} file(s) not loaded; see the errors above")

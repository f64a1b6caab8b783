"""`manage.py promote_gold`: a machine layer copied into gold for a set of articles (bootstrapping)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.selectors import filter_stage
from annotations.services.gold import gold_promote


class Command(BaseCommand):
    help = (
        "Promote a machine layer to gold for a set of articles: complete events only (or, with "
        "--not-stated-missing, missing required roles marked 'not stated'), provenance 'promoted'. "
        "Adjudicated gold is never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--layer", default="machine:latest", help="machine:latest (default) or machine:VERSION.")
        parser.add_argument("--articles", default="", help="Comma-separated article ids (default: all).")
        parser.add_argument("--stage", default="", help="Only articles at this stage (unassigned, assigned, …).")
        parser.add_argument("--not-stated-missing", action="store_true", help="Keep incomplete events.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project {options['project']!r}")
        layer = options["layer"]
        if not layer.startswith("machine:") or layer == "machine:":
            raise CommandError(f"--layer must be machine:latest or machine:VERSION, not {layer!r}")
        version = None if layer == "machine:latest" else layer.removeprefix("machine:")
        articles = project.articles.all()
        try:
            if options["articles"]:
                ids = [int(part) for part in options["articles"].split(",") if part.strip()]
                articles = articles.filter(pk__in=ids)
            if options["stage"]:
                articles = filter_stage(articles, options["stage"])
            result = gold_promote(
                project=project,
                model_version=version,
                articles=articles,
                not_stated_missing=options["not_stated_missing"],
            )
        except ValueError as exc:
            raise CommandError(f"--articles must be comma-separated ids: {exc}") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(json.dumps(result.as_json(), indent=2))

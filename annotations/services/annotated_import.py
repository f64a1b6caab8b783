"""The annotated import: a native JSONL file (what the JSONL export writes) into a layer of a project.

Articles are stored through the article services and every item through the item services, so the
schema is checked; exporting what was imported gives back the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.errors import ImportFailed
from annotations.exports.base import (
    ExportOptionError,
)
from annotations.importers.base import json_lines, validation_messages
from annotations.importers.jsonl import FIELDS as ARTICLE_FIELDS
from annotations.importers.jsonl import article_from
from annotations.models import Actor, Article, Event, Layer, Mention, Project, Stance
from annotations.services.actors import actor_upsert
from annotations.services.articles import (
    articles_create,
)
from annotations.services.items import (
    event_create,
    mention_create,
    stance_create,
)
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status


@dataclass
class CorpusImport:
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    mentions: int = 0
    events: int = 0
    stances: int = 0


LAYER_KINDS = ("gold", "annotator", "machine")


def _target_layer(article: Article, record: dict[str, Any], layer_kind: str) -> Layer:
    if layer_kind == "gold":
        return layer_gold(article=article)
    source = record.get("layer") or {}
    if layer_kind == "annotator":
        username = source.get("annotator")
        user = get_user_model().objects.filter(username=username).first() if username else None
        if user is None:
            raise ExportOptionError("layer", f"annotator layer of unknown user {username!r}")
        return layer_for_annotator(article=article, annotator=user)
    version = source.get("model_version")
    if not version:
        raise ExportOptionError("layer", "a machine layer needs layer.model_version")
    # No service creates an empty machine layer yet (pre-annotation replaces whole layers).
    layer, _ = Layer.objects.get_or_create(article=article, kind=Layer.Kind.MACHINE, model_version=version)
    return layer


def _actor_for(value: Any, kind: str) -> Actor | None:
    if not value:
        return None
    actor = Actor.objects.filter(name=value["name"]).first()
    if actor is None:
        actor, _ = actor_upsert(
            name=value["name"],
            kind=kind,
            country=value.get("country") or "",
            sector=value.get("sector") or "",
            wikidata_id=value.get("wikidata_id") or "",
        )
    return actor


def _keep_provenance(model: type[Mention | Event | Stance], pk: int, item: dict[str, Any]) -> None:
    """The exported item's adjudication provenance, written onto the item just created."""
    provenance = item.get("provenance")
    if provenance:
        if not isinstance(provenance, dict):
            raise TypeError(f"provenance must be an object, got {provenance!r}")
        model.objects.filter(pk=pk).update(provenance=provenance)


def _import_annotations(layer: Layer, record: dict[str, Any], outcome: CorpusImport) -> None:
    mention_ids: dict[str, int] = {}
    for mention in record.get("mentions") or []:
        created = mention_create(
            layer=layer,
            label=mention["label"],
            start=mention["start"],
            end=mention["end"],
            text=mention.get("text"),
            actor=_actor_for(mention.get("actor"), mention["label"]),
            score=mention.get("score"),
        )
        _keep_provenance(Mention, created.pk, mention)
        mention_ids[mention["id"]] = created.pk
        outcome.mentions += 1
    for event in record.get("events") or []:
        trigger = event["trigger"]
        created_event = event_create(
            layer=layer,
            event_type=event["type"],
            trigger_start=trigger["start"],
            trigger_end=trigger["end"],
            trigger_text=trigger.get("text"),
            mode=event.get("mode") or "",
            realis=event.get("realis") or "actual",
            contexts=event.get("contexts") or [],
            arguments=[(a["role"], mention_ids[a["mention"]]) for a in event.get("arguments") or []],
            not_stated=event.get("not_stated") or [],
            score=event.get("score"),
        )
        _keep_provenance(Event, created_event.pk, event)
        outcome.events += 1
    for stance in record.get("stances") or []:
        evidence = stance.get("evidence") or {}
        created_stance = stance_create(
            layer=layer,
            label=stance["label"],
            holder_id=mention_ids[stance["holder"]] if stance.get("holder") else None,
            target_id=mention_ids[stance["target"]] if stance.get("target") else None,
            target_actor=_actor_for(stance.get("target_actor"), "ORG"),
            scope=stance.get("scope") or "sentence",
            evidence_start=evidence.get("start"),
            evidence_end=evidence.get("end"),
            evidence_text=evidence.get("text"),
            score=stance.get("score"),
        )
        _keep_provenance(Stance, created_stance.pk, stance)
        outcome.stances += 1
    source = record.get("layer") or {}
    status = source.get("status")
    if status == Layer.Status.ADJUDICATED and layer.kind != Layer.Kind.GOLD:
        status = Layer.Status.DONE
    layer.refresh_from_db(fields=["status", "version"])
    if status and status != layer.status:
        reviewer = source.get("adjudicated_by")
        by = get_user_model().objects.filter(username=reviewer).first() if reviewer else None
        layer_set_status(layer=layer, status=status, by=by)
    if layer.status == Layer.Status.ADJUDICATED:
        # When it was adjudicated, as exported (the service stamps the time of the import).
        moment = source.get("adjudicated_at")
        Layer.objects.filter(pk=layer.pk).update(adjudicated_at=datetime.fromisoformat(moment) if moment else None)


def corpus_import_jsonl(*, project: Project, path: Path, layer_kind: str = "gold") -> CorpusImport:
    """Import a native JSONL export: articles and their annotations, into one layer per article.

    The article fields go through the JSONL article reader's checks; mentions, events and
    stances through the write services (their provenance, when the line has one, written back
    onto them), into the article's gold layer (or, with `layer_kind`, the exported annotator's or
    model version's layer), which takes the exported status (and, adjudicated, the exported time
    and the reviewer when a user of that name exists). Atomic: any error (reported with
    file:line) rolls the whole file back. An article already in the project is skipped with its
    annotations and reported as a duplicate.
    """
    if layer_kind not in LAYER_KINDS:
        raise ExportOptionError("layer_kind", f"unknown layer kind {layer_kind!r}; use {', '.join(LAYER_KINDS)}")
    outcome = CorpusImport()
    errors: list[str] = []
    with transaction.atomic():
        for number, record in json_lines(path, errors):
            where = f"{path}:{number}"
            article_input, problems = article_from({k: v for k, v in record.items() if k in ARTICLE_FIELDS}, where)
            if article_input is None or problems:
                errors += problems
                continue
            try:
                with transaction.atomic():
                    stored = articles_create(project=project, articles=[article_input], imported_from=str(path))
                    if not stored.imported:
                        outcome.duplicates += stored.duplicates
                        continue
                    article = stored.imported[0]
                    _import_annotations(_target_layer(article, record, layer_kind), record, outcome)
                    outcome.articles += 1
            except ValidationError as exc:
                errors += [f"{where}: {message}" for message in validation_messages(exc)]
            except (KeyError, TypeError, ValueError) as exc:
                errors.append(f"{where}: malformed annotation ({type(exc).__name__}: {exc})")
        if errors:
            raise ImportFailed(errors)  # rolls back the lines that did import
    return outcome

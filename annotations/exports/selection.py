"""Which layer of which articles an export reads.

Selector syntax (`--layer`): `gold` (default), `annotator:USERNAME`, `machine:VERSION` or
`machine:latest` (the model version of the project's most recently written machine layer).
Articles without the selected layer are left out.

`since` selects by change, not by creation: every article whose selected layer changed after that
time (an item written, corrected or removed, a status set, an adjudication, a machine layer
replaced; `Layer.updated_at`, bumped by `services.layers.layer_touch`). What left the selection
since is told by `tombstones`: layers deleted (alone or with their article; the append-only
`Deletion` rows) and layers whose status no longer passes the status filter (a gold layer reopened
from adjudicated, a layer set back from done).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from annotations.exports.base import (
    ExportOptionError,
)
from annotations.models import Deletion, Layer, Mention, Project

LAYER_SELECTOR_HELP = "gold, annotator:USERNAME, machine:VERSION or machine:latest"


@dataclass(frozen=True)
class LayerSelector:
    kind: str  # gold | annotator | machine
    name: str = ""  # the annotator's username or the model version ("latest" until resolved)

    def __str__(self) -> str:
        return self.kind if not self.name else f"{self.kind}:{self.name}"


def parse_layer_selector(value: str) -> LayerSelector:
    text = value.strip() if isinstance(value, str) else ""
    kind, _, name = text.partition(":")
    if kind == "gold" and not name and ":" not in text:
        return LayerSelector("gold")
    if kind in ("annotator", "machine") and name.strip():
        return LayerSelector(kind, name.strip())
    raise ExportOptionError("layer", f"{value!r} is not a layer selector; use {LAYER_SELECTOR_HELP}")


def parse_since(value: str | datetime | None) -> datetime | None:
    """An ISO date or date-time; without a zone it is read in the project's TIME_ZONE."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ExportOptionError(
                "since", f"{value!r} is not an ISO date or date-time (such as 2024-04-12 or 2024-04-12T08:00:00Z)"
            ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# The gold layer is gold once a reviewer has adjudicated it: that is what a gold export takes
# unless a status is asked for.
DEFAULT_GOLD_STATUSES = ("adjudicated",)


def parse_statuses(value: str | Sequence[str] | None, *, layer: LayerSelector | None = None) -> tuple[str, ...]:
    """Layer statuses to keep ('done,adjudicated'); 'all' or empty keeps every status.

    Not given (None): adjudicated gold layers for the gold selector, every status otherwise.
    """
    if value is None:
        return DEFAULT_GOLD_STATUSES if layer is not None and layer.kind == "gold" else ()
    items = value.split(",") if isinstance(value, str) else list(value)
    statuses = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [s for s in statuses if s not in Layer.Status.values and s != "all"]
    if unknown:
        raise ExportOptionError(
            "status",
            f"unknown layer status {', '.join(map(repr, unknown))}; allowed: {', '.join(Layer.Status.values)} or all",
        )
    return () if "all" in statuses else statuses


@dataclass(frozen=True)
class Selection:
    """A resolved selection: `model_version` is set for machine layers, `annotator_id` for annotators.

    `empty` means nothing can match (machine:latest in a project without machine layers).
    """

    project: Project
    layer: LayerSelector
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    annotator_id: int | None = None
    model_version: str = ""
    empty: bool = False
    # Only articles in this language (an ISO 639-1 code such as "fr", or "und"); "" for every language.
    language: str = ""


def latest_model_version(project: Project) -> str | None:
    """The model version of the project's most recently written machine layer (`machine:latest`)."""
    return (
        Layer.objects.filter(article__project=project, kind=Layer.Kind.MACHINE)
        .order_by("-created_at", "-id")
        .values_list("model_version", flat=True)
        .first()
    )


LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


def parse_language(value: str | None) -> str:
    """An export's language filter: an ISO 639-1 code ("en", "fr"), "und" (undetermined), or ""/"all"."""
    language = (value or "").strip().lower()
    if language in ("", "all"):
        return ""
    if not LANGUAGE_RE.fullmatch(language):
        raise ExportOptionError(
            "language", f"{value!r} is not a language code; use an ISO 639-1 code such as en or fr, und, or all"
        )
    return language


def selection_resolve(
    *,
    project: Project,
    layer: LayerSelector,
    statuses: tuple[str, ...] = (),
    since: datetime | None = None,
    language: str = "",
) -> Selection:
    """Look up the annotator or the latest model version.

    The annotator is looked up among the project's members and the users with an annotator layer (or
    a deleted one) in it: any other name, an unknown one or a user of other projects alike, is an
    error, so the answer tells nothing about who has an account."""
    if layer.kind == "annotator":
        in_project = (
            Q(memberships__project=project)
            | Q(pk__in=Layer.objects.filter(article__project=project, kind="annotator").values("annotator_id"))
            | Q(pk__in=Deletion.objects.filter(project_id=project.pk, kind="annotator").values("annotator_id"))
        )
        users = get_user_model().objects.filter(in_project, username=layer.name)
        user_id = users.values_list("pk", flat=True).first()
        if user_id is None:
            raise ExportOptionError("layer", f"no annotator named {layer.name!r} in project {project.slug!r}")
        return Selection(project, layer, statuses, since, annotator_id=user_id, language=language)
    if layer.kind == "machine":
        version = layer.name
        if version == "latest":
            version = latest_model_version(project) or ""
        return Selection(project, layer, statuses, since, model_version=version, empty=not version, language=language)
    return Selection(project, layer, statuses, since, language=language)


def selected_layers(selection: Selection) -> QuerySet[Layer]:
    layers = Layer.objects.filter(article__project=selection.project, kind=selection.layer.kind)
    if selection.empty:
        return layers.none()
    if selection.annotator_id is not None:
        layers = layers.filter(annotator_id=selection.annotator_id)
    if selection.model_version:
        layers = layers.filter(model_version=selection.model_version)
    if selection.statuses:
        layers = layers.filter(status__in=selection.statuses)
    if selection.since is not None:
        layers = layers.filter(updated_at__gt=selection.since)
    if selection.language:
        layers = layers.filter(article__language=selection.language)
    return layers


def _selector_layers(selection: Selection, model: type[Layer] | type[Deletion]) -> QuerySet[Any]:
    """Rows of `model` of the selector's kind, annotator and model version (any status, any time)."""
    rows = model.objects.filter(kind=selection.layer.kind)
    if selection.annotator_id is not None:
        rows = rows.filter(annotator_id=selection.annotator_id)
    if selection.model_version:
        rows = rows.filter(model_version=selection.model_version)
    return rows


def tombstones(selection: Selection) -> list[tuple[str, datetime]]:
    """(article key, when) of what left the selection after `since`, oldest first, one per key:
    deleted layers and articles, and layers changed since whose status no longer passes the filter.
    Keys the export holds now (an article deleted and imported again) are not tombstoned. Without
    `since` (a full export) there are none."""
    if selection.since is None or selection.empty:
        return []
    exported = selected_layers(selection).values("article__content_hash")
    deleted = (
        _selector_layers(selection, Deletion)
        .filter(project=selection.project, at__gt=selection.since)
        .exclude(key__in=exported)
        .values_list("key", "at")
    )
    found: dict[str, datetime] = {}
    for key, at in deleted:
        found[key] = max(at, found.get(key, at))
    if selection.statuses:
        left = (
            _selector_layers(selection, Layer)
            .filter(article__project=selection.project, updated_at__gt=selection.since)
            .exclude(status__in=selection.statuses)
            .exclude(article__content_hash__in=exported)
            .values_list("article__content_hash", "updated_at")
        )
        for key, at in left:
            found[key] = max(at, found.get(key, at))
    return sorted(found.items(), key=lambda item: (item[1], item[0]))


def entity_labels_in(layers: QuerySet[Layer]) -> set[str]:
    return set(Mention.objects.filter(layer__in=layers).values_list("label", flat=True).distinct())


def story_sizes(layers: QuerySet[Layer]) -> list[tuple[str, int]]:
    """(story key, selected layers) per story, an article without a story key being its own story
    under its content hash: one aggregate query, no article text (what the split assignment reads)."""
    story = Coalesce(NullIf(F("article__story_key"), Value("")), F("article__content_hash"))
    grouped = layers.order_by().values(story=story).annotate(articles=Count("id"))
    return list(grouped.values_list("story", "articles"))

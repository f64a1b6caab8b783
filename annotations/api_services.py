"""Write services the REST API needs beyond `annotations.services`.

- suggestion decisions: accept (copy a machine item into an annotator's or the gold layer with
  `annotations.copying`, through the annotation services, so the schema is checked) or reject,
  each recorded as a SuggestionDecision (a learning record with a snapshot of the suggestion);
- stance updates;
- dataset versions: an export run to a file under MEDIA_ROOT, with its sha256 and counts;
- article import from an uploaded JSON Lines file, through the JSONL reader and `articles_create`.

Keyword-only, one transaction each, errors name the field (see `annotations.errors`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.text import slugify

from annotations.copying import ItemCopier, ProvenanceOf, with_copied_rows
from annotations.errors import ImportFailed, InvalidAnnotation, VersionConflict
from annotations.exporting import ExportRequest, export_documents, export_request, writer_context
from annotations.exports.base import ExportDocument, concatenated, zip_stream
from annotations.importers import jsonl as jsonl_reader
from annotations.importing import IMPORT_BATCH_SIZE
from annotations.models import (
    Actor,
    Article,
    DatasetVersion,
    Event,
    Layer,
    Mention,
    Project,
    Stance,
    SuggestionDecision,
)
from annotations.review import Strategy, provenance
from annotations.schema import LabelSchema
from annotations.services import (
    _layer_touch,  # the one optimistic-concurrency check; a decision batch bumps the version once
    articles_create,
)
from annotations.validation import validate_span, validate_stance_label

# --- Suggestions ----------------------------------------------------------------------------

ItemKind = SuggestionDecision.ItemKind
Decision = SuggestionDecision.Decision

SUGGESTION_MODELS: dict[str, type[Model]] = {
    ItemKind.MENTION: Mention,
    ItemKind.EVENT: Event,
    ItemKind.STANCE: Stance,
}
# The field that `label` means for each kind of suggestion (bulk decisions by label).
LABEL_FIELDS = {ItemKind.MENTION: "label", ItemKind.EVENT: "event_type", ItemKind.STANCE: "label"}


@dataclass(frozen=True)
class SuggestionRef:
    kind: str
    id: int


@dataclass
class DecisionResult:
    layer: Layer
    decisions: list[SuggestionDecision] = field(default_factory=list)


def _machine_items(kind: str, article_id: int, model_version: str | None = None) -> Any:
    """The machine items of one kind on an article, with what a snapshot and a copy read."""
    model = SUGGESTION_MODELS[kind]
    items = model.objects.filter(layer__article_id=article_id, layer__kind=Layer.Kind.MACHINE)  # type: ignore[attr-defined]
    if model_version:
        items = items.filter(layer__model_version=model_version)
    return with_copied_rows(kind, items.select_related("layer"))


def _mention_snapshot(mention: Mention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {
        "id": mention.pk,
        "label": mention.label,
        "start": mention.start,
        "end": mention.end,
        "text": mention.text,
        "score": mention.score,
        "actor": mention.actor.name if mention.actor_id and mention.actor else None,
    }


def suggestion_snapshot(kind: str, item: Any) -> dict[str, Any]:
    """What the suggestion was, kept with the decision (a later run may replace the item)."""
    if kind == ItemKind.MENTION:
        return _mention_snapshot(item) or {}
    if kind == ItemKind.EVENT:
        return {
            "event_type": item.event_type,
            "trigger": {"start": item.trigger_start, "end": item.trigger_end, "text": item.trigger_text},
            "mode": item.mode,
            "realis": item.realis,
            "contexts": list(item.contexts),
            "score": item.score,
            "arguments": [{"role": a.role, "mention": _mention_snapshot(a.mention)} for a in item.arguments.all()],
        }
    evidence = None
    if item.evidence_start is not None:
        evidence = {"start": item.evidence_start, "end": item.evidence_end, "text": item.evidence_text}
    return {
        "label": item.label,
        "scope": item.scope,
        "holder": _mention_snapshot(item.holder),
        "target": _mention_snapshot(item.target),
        "target_actor": item.target_actor.name if item.target_actor_id else None,
        "evidence": evidence,
        "score": item.score,
    }


def suggestion_label(kind: str, item: Any) -> str:
    return str(getattr(item, LABEL_FIELDS[kind]))


def _check_version(layer: Layer, expected_version: int) -> None:
    current = Layer.objects.filter(pk=layer.pk).values_list("version", flat=True).get()
    if current != expected_version:
        raise VersionConflict(layer_id=layer.pk, expected=expected_version, current=current)


def _accepted_provenance(layer: Layer, user: AbstractBaseUser, items: Sequence[tuple[str, Any]]) -> ProvenanceOf | None:
    """Gold items made from suggestions record who accepted them, from which model version, and when.

    Every item of one decision (with the mentions copied along with an event or a stance) shares
    the record; a decision over suggestions of several model versions names them all.
    """
    if layer.kind != Layer.Kind.GOLD:
        return None
    record = provenance(
        Strategy.ACCEPTED,
        reviewer=user,
        model_version=", ".join(sorted({item.layer.model_version for _, item in items})),
    )
    return lambda key: record


@transaction.atomic
def _decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    items: Sequence[tuple[str, Any]],
    expected_version: int,
) -> DecisionResult:
    if layer.kind == Layer.Kind.MACHINE:
        raise InvalidAnnotation(
            "layer", "suggestions are accepted into an annotator or gold layer, not a machine layer"
        )
    if decision not in Decision.values or decision == Decision.CORRECT:
        raise InvalidAnnotation("decision", f"unknown decision {decision!r}; use accept or reject")
    if not items:
        _check_version(layer, expected_version)  # nothing to decide: the version stays
        return DecisionResult(layer=layer)
    _layer_touch(layer, expected_version)
    # A machine layer holds a stance per evidence sentence: each accepted one keeps its own.
    copier = (
        ItemCopier(layer, provenance=_accepted_provenance(layer, user, items), stance_evidence=True)
        if decision == Decision.ACCEPT
        else None
    )
    rows = [
        SuggestionDecision(
            layer=layer,
            user=user,
            item_kind=kind,
            decision=decision,
            model_version=item.layer.model_version,
            suggestion_id=item.pk,
            label=suggestion_label(kind, item),
            suggestion=suggestion_snapshot(kind, item),
            result_id=copier.copy(kind, item) if copier is not None else None,
        )
        for kind, item in items
    ]
    SuggestionDecision.objects.bulk_create(rows)
    layer.refresh_from_db(fields=["version", "status", "updated_at"])
    return DecisionResult(layer=layer, decisions=rows)


def suggestions_decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    items: Sequence[SuggestionRef],
    model_version: str | None = None,
    expected_version: int,
) -> DecisionResult:
    """Accept or reject these machine items of the layer's article (in the order given)."""
    if not items:
        raise InvalidAnnotation("items", "name at least one suggestion")
    found: dict[tuple[str, int], Any] = {}
    for kind in {ref.kind for ref in items}:
        if kind not in SUGGESTION_MODELS:
            raise InvalidAnnotation("kind", f"unknown suggestion kind {kind!r}; use mention, event or stance")
        wanted = {ref.id for ref in items if ref.kind == kind}
        for item in _machine_items(kind, layer.article_id, model_version).filter(pk__in=wanted):
            found[(kind, item.pk)] = item
    resolved: dict[tuple[str, int], tuple[str, Any]] = {}  # in the order given, each item once
    for index, ref in enumerate(items):
        item = found.get((ref.kind, ref.id))
        if item is None:
            where = f" from model version {model_version!r}" if model_version else ""
            raise InvalidAnnotation(
                f"items[{index}].id", f"no machine {ref.kind} {ref.id}{where} on article {layer.article_id}"
            )
        resolved.setdefault((ref.kind, ref.id), (ref.kind, item))
    return _decide(
        layer=layer, user=user, decision=decision, items=list(resolved.values()), expected_version=expected_version
    )


def machine_layer_for(*, article: Article, model_version: str | None = None) -> Layer:
    """The article's machine layer of that model version, or its most recent one."""
    layers = Layer.objects.filter(article=article, kind=Layer.Kind.MACHINE)
    if model_version:
        layer = layers.filter(model_version=model_version).first()
        if layer is None:
            raise InvalidAnnotation("model_version", f"article {article.pk} has no suggestions of {model_version!r}")
        return layer
    layer = layers.order_by("-created_at", "-id").first()
    if layer is None:
        raise InvalidAnnotation("model_version", f"article {article.pk} has no machine suggestions yet")
    return layer


def suggestions_bulk_decide(
    *,
    layer: Layer,
    user: AbstractBaseUser,
    decision: str,
    kind: str | None = None,
    label: str | None = None,
    model_version: str | None = None,
    expected_version: int,
) -> DecisionResult:
    """Accept or reject every undecided suggestion of one machine layer: of a kind, of a label, or all.

    Mentions come first, so an accepted event or stance reuses the mentions accepted with it.
    Suggestions this layer already decided on (same model version) are left alone.
    """
    if kind is not None and kind not in SUGGESTION_MODELS:
        raise InvalidAnnotation("kind", f"unknown suggestion kind {kind!r}; use mention, event or stance")
    if label is not None and kind is None:
        raise InvalidAnnotation("kind", "a bulk decision by label needs the kind (mention, event or stance)")
    machine = machine_layer_for(article=layer.article, model_version=model_version)
    decided = set(
        SuggestionDecision.objects.filter(layer=layer, model_version=machine.model_version).values_list(
            "item_kind", "suggestion_id"
        )
    )
    items: list[tuple[str, Any]] = []
    for item_kind in [kind] if kind else list(SUGGESTION_MODELS):
        candidates = _machine_items(item_kind, layer.article_id).filter(layer=machine)
        if label is not None:
            candidates = candidates.filter(**{LABEL_FIELDS[item_kind]: label})
        items += [(item_kind, item) for item in candidates if (item_kind, item.pk) not in decided]
    return _decide(layer=layer, user=user, decision=decision, items=items, expected_version=expected_version)


# --- Stances --------------------------------------------------------------------------------

_UNCHANGED: Any = ...


@transaction.atomic
def stance_update(
    *,
    stance: Stance,
    label: str | None = None,
    holder_id: int | None = _UNCHANGED,
    target_id: int | None = _UNCHANGED,
    target_actor: Actor | None = _UNCHANGED,
    scope: str | None = None,
    evidence_start: int | None = _UNCHANGED,
    evidence_end: int | None = _UNCHANGED,
    evidence_text: str | None = None,
    expected_version: int | None = None,
) -> Stance:
    """Change a stance; what is not given stays. The same checks as `stance_create`."""
    layer = stance.layer
    schema = LabelSchema(layer.article.project.label_schema)
    new_label = stance.label if label is None else label
    validate_stance_label(schema, new_label)
    new_scope = stance.scope if scope is None else scope
    if new_scope not in Stance.Scope.values:
        raise InvalidAnnotation("scope", f"unknown scope {new_scope!r}; allowed: {', '.join(Stance.Scope.values)}")
    new_holder = stance.holder_id if holder_id is _UNCHANGED else holder_id
    new_target = stance.target_id if target_id is _UNCHANGED else target_id
    new_actor = stance.target_actor if target_actor is _UNCHANGED else target_actor
    for name, mention_id in (("holder", new_holder), ("target", new_target)):
        if mention_id is not None and (not isinstance(mention_id, int) or isinstance(mention_id, bool)):
            raise InvalidAnnotation(name, f"mention id must be an integer, got {mention_id!r}")
    mentions = Mention.objects.in_bulk([i for i in (new_holder, new_target) if i is not None])
    for name, mention_id in (("holder", new_holder), ("target", new_target)):
        if mention_id is not None and (mention_id not in mentions or mentions[mention_id].layer_id != layer.pk):
            raise InvalidAnnotation(name, f"mention {mention_id} does not exist in this layer")
    if new_target is None and new_actor is None:
        raise InvalidAnnotation("target", "a stance needs a target mention or a target actor")
    start = stance.evidence_start if evidence_start is _UNCHANGED else evidence_start
    end = stance.evidence_end if evidence_end is _UNCHANGED else evidence_end
    quoted = ""
    if start is not None or end is not None:
        quoted = validate_span(layer.article.text, start, end, evidence_text, field="evidence")
    _layer_touch(layer, expected_version)
    stance.label, stance.scope = new_label, new_scope
    stance.holder_id, stance.target_id, stance.target_actor = new_holder, new_target, new_actor
    stance.evidence_start, stance.evidence_end, stance.evidence_text = start, end, quoted
    stance.save()
    return stance


# --- Dataset versions -----------------------------------------------------------------------


@dataclass
class ExportCounts:
    """What an export holds: articles (one layer each), annotations, articles per split."""

    splits: tuple[str, ...]
    totals: Counter[str] = field(default_factory=Counter)
    per_split: Counter[str] = field(default_factory=Counter)

    def count(self, documents: Iterable[ExportDocument]) -> Iterator[ExportDocument]:
        for document in documents:
            if document["split"] in self.splits:
                self.totals["articles"] += 1
                self.totals["mentions"] += len(document["mentions"])
                self.totals["events"] += len(document["events"])
                self.totals["arguments"] += sum(len(e["arguments"]) for e in document["events"])
                self.totals["stances"] += len(document["stances"])
                self.per_split[document["split"]] += 1
            yield document

    def as_json(self) -> dict[str, Any]:
        totals = {key: self.totals[key] for key in ("articles", "mentions", "events", "arguments", "stances")}
        return {**totals, "splits": {split: self.per_split[split] for split in self.splits}}


def export_stream_counted(request: ExportRequest, counts: ExportCounts) -> Iterator[bytes]:
    """`exporting.export_stream`, counting the documents as they pass (one pass, same bytes)."""
    chunks = request.format.write(counts.count(export_documents(request)), writer_context(request))
    return zip_stream(chunks) if request.is_archive else concatenated(chunks)


DATASET_NAME_MAX = DatasetVersion._meta.get_field("name").max_length or 100


def dataset_version_create(
    *,
    project: Project,
    name: str,
    format: str,
    layer: str = "gold",
    split: str | Sequence[str] | None = "all",
    ratios: str | Sequence[float] = "0.8,0.1,0.1",
    since: str | None = None,
    status: str | Sequence[str] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> DatasetVersion:
    """Run the export to a file under MEDIA_ROOT/datasets/<project>/ and record it immutably."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": ["is empty"]})
    if len(name) > DATASET_NAME_MAX:
        raise ValidationError({"name": [f"has {len(name)} characters, over the limit of {DATASET_NAME_MAX}"]})
    taken = f"project {project.slug!r} already has a dataset version named {name!r}; versions are immutable"
    if DatasetVersion.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": [taken]})
    request = export_request(
        project=project, format=format, layer=layer, split=split, ratios=ratios, since=since, status=status
    )
    counts = ExportCounts(splits=request.splits)
    folder = f"datasets/{project.slug}"
    directory = Path(default_storage.path(folder))
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".partial-", delete=False) as handle:
        try:
            for data in export_stream_counted(request, counts):
                handle.write(data)
                digest.update(data)
                size += len(data)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    sha256 = digest.hexdigest()
    extension = ".zip" if request.is_archive else f".{request.format.extension}"
    stored = default_storage.get_available_name(f"{folder}/{slugify(name) or 'dataset'}-{sha256[:12]}{extension}")
    os.replace(handle.name, default_storage.path(stored))
    params = {
        "layer": str(request.selection.layer),
        "split": list(request.splits),
        "ratios": str(request.ratios),
        "since": request.selection.since.isoformat() if request.selection.since else None,
        "status": list(request.selection.statuses),
        "filename": f"{slugify(name) or 'dataset'}-{request.filename}",
        "media_type": request.media_type,
    }
    try:
        with transaction.atomic():
            return DatasetVersion.objects.create(
                project=project,
                name=name,
                format=request.format.name,
                params=params,
                counts=counts.as_json(),
                sha256=sha256,
                size=size,
                file=stored,
                created_by=created_by,
            )
    except IntegrityError:
        default_storage.delete(stored)  # another request took the name meanwhile
        raise ValidationError({"name": [taken]}) from None


# --- Article import -------------------------------------------------------------------------


@dataclass
class ArticleImport:
    imported: list[Article]
    duplicates: list[str]


def articles_import_jsonl(*, project: Project, path: Path, source_name: str) -> ArticleImport:
    """Import a JSON Lines file of articles, all or nothing; errors read `<source_name>:<line>: …`.

    The file is read by the JSONL article reader (the one `import_articles` uses) and stored by
    `articles_create`; exact duplicates are skipped and reported by title.
    """
    try:
        articles = jsonl_reader.read_articles(path)
    except ImportFailed as exc:
        raise ImportFailed([error.replace(str(path), source_name, 1) for error in exc.errors]) from None
    outcome = ArticleImport(imported=[], duplicates=[])
    try:
        with transaction.atomic():
            for start in range(0, len(articles), IMPORT_BATCH_SIZE):
                result = articles_create(
                    project=project,
                    articles=articles[start : start + IMPORT_BATCH_SIZE],
                    imported_from=f"api:{source_name}",
                )
                outcome.imported += result.imported
                outcome.duplicates += result.duplicates
    except IntegrityError:
        raise ImportFailed(
            [f"{source_name}: an article was stored by another import at the same time; send the file again"]
        ) from None
    return outcome

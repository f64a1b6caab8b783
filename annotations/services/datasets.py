"""Dataset versions: an export run to a stored file, with its sha256 and counts; immutable once made."""

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
from django.utils.text import slugify

from annotations.exports.base import ExportDocument, concatenated, zip_stream
from annotations.exports.runner import (
    ExportRequest,
    export_documents,
    export_request,
    writer_context,
)
from annotations.models import (
    DatasetVersion,
    Project,
)


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
                created_by_id=created_by.pk if created_by is not None else None,
            )
    except IntegrityError:
        default_storage.delete(stored)  # another request took the name meanwhile
        raise ValidationError({"name": [taken]}) from None

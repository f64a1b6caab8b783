"""Dataset versions: an export run to a stored file, with its sha256 and counts; immutable once made.

The counts are the export's manifest (`annotations.exports.manifest`): articles and items, per
split, label and language, what the format left out and any split left empty.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from annotations.exports.runner import check_export_splits, export_request, export_run
from annotations.models import (
    DatasetVersion,
    Project,
)
from annotations.services.changes import changes_jsonl
from annotations.storage import stored_delete, stored_save


def dataset_counts(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a dataset version records of its manifest: the totals and articles per split at the top
    (as before the manifest), then per split, label, language, what was left out and warnings."""
    keep = ("per_split", "labels", "languages", "split_assignment", "dropped", "warnings")
    return {**manifest["counts"], **{key: manifest[key] for key in keep}}


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
    seed: int | str | None = None,
    overlap: str | None = None,
    language: str | None = None,
    strict: bool = False,
    changes: bool = False,
    created_by: AbstractBaseUser | None = None,
) -> DatasetVersion:
    """Run the export, streamed to the storage as datasets/<project>/<name>-<random>.<ext>, and record
    it immutably with the sha256 and size computed on the way (annotations.storage).

    With `changes`, the project's change log up to the export's as-of time is stored next to it
    (`<file>.changes.jsonl`, one change per line) and named in `params["changes"]` with its sha256.

    A requested split left empty is a warning in the counts; with `strict` an EmptySplitsError
    (nothing stored). `params["until"]` is the export's as-of time (the next sync's `since`).
    """
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"name": ["is empty"]})
    if len(name) > DATASET_NAME_MAX:
        raise ValidationError({"name": [f"has {len(name)} characters, over the limit of {DATASET_NAME_MAX}"]})
    taken = f"project {project.slug!r} already has a dataset version named {name!r}; versions are immutable"
    if DatasetVersion.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": [taken]})
    request = export_request(
        project=project,
        format=format,
        layer=layer,
        split=split,
        ratios=ratios,
        since=since,
        status=status,
        seed=seed,
        overlap=overlap,
        language=language,
    )
    run = export_run(request)
    check_export_splits(run.manifest, strict=strict)
    extension = ".zip" if request.is_archive else f".{request.format.extension}"
    # A random part keeps two names that slugify alike apart (a bucket would otherwise overwrite).
    token = secrets.token_hex(6)
    stored = stored_save(f"datasets/{project.slug}/{slugify(name) or 'dataset'}-{token}{extension}", run.stream())
    params = {
        "layer": str(request.selection.layer),
        "split": list(request.splits),
        "ratios": str(request.ratios),
        "seed": request.seed,
        "overlap": request.overlap,
        "language": request.selection.language or "all",
        "since": request.selection.since.isoformat() if request.selection.since else None,
        "status": list(request.selection.statuses),
        "until": run.until.isoformat(),
        "filename": f"{slugify(name) or 'dataset'}-{request.filename}",
        "media_type": request.media_type,
    }
    sidecar: dict[str, Any] | None = None
    if changes:
        sidecar = _changes_store(project=project, until=run.until, name=f"{stored.name}.changes.jsonl")
        params["changes"] = sidecar
    try:
        with transaction.atomic():
            return DatasetVersion.objects.create(
                project=project,
                name=name,
                format=request.format.name,
                params=params,
                counts=dataset_counts(run.manifest.as_json()),
                sha256=stored.sha256,
                size=stored.size,
                file=stored.name,
                created_by_id=created_by.pk if created_by is not None else None,
            )
    except IntegrityError:
        stored_delete(stored.name)  # another request took the name meanwhile
        if sidecar is not None:
            stored_delete(sidecar["file"])
        raise ValidationError({"name": [taken]}) from None


@transaction.atomic
def dataset_version_delete(*, version: DatasetVersion) -> None:
    """Delete a dataset version and, once the row is gone, its stored file."""
    name = version.file.name
    sidecar = (version.params or {}).get("changes", {}).get("file")
    version.delete()
    if name:
        transaction.on_commit(lambda: stored_delete(name))
    if sidecar:
        transaction.on_commit(lambda: stored_delete(sidecar))


def _changes_store(*, project: Project, until: Any, name: str) -> dict[str, Any]:
    lines = list(changes_jsonl(project=project, until=until))
    saved = stored_save(name, iter(lines))
    return {"file": saved.name, "sha256": saved.sha256, "count": len(lines)}

"""Which reader handles which file, by suffix. Add a format here and in its own module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from annotations.importers import annotated_jsonl, brat, doccano, jsonl, labelstudio, txt
from annotations.importers.annotated import AnnotatedFile, ReadOptions
from annotations.json_limits import json_loads_bounded
from annotations.services.articles import ArticleInput

ArticleReader = Callable[[Path], list[ArticleInput]]

ARTICLE_READERS: dict[str, ArticleReader] = {
    ".jsonl": jsonl.read_articles,
    ".txt": txt.read_articles,
}


def article_reader_for(path: Path) -> ArticleReader | None:
    return ARTICLE_READERS.get(path.suffix.lower())


# Annotated corpora (`import_articles --annotations`): format name → reader(path, options, name).
AnnotatedReader = Callable[[Path, ReadOptions, str], AnnotatedFile]

ANNOTATED_READERS: dict[str, AnnotatedReader] = {
    "jsonl": annotated_jsonl.read,
    "brat": brat.read,
    "doccano": doccano.read,
    "labelstudio": labelstudio.read,
}


def annotated_format_for(path: Path) -> str | None:
    """The format of an annotated file or folder from its suffix (a folder: brat when it holds .ann
    files); a .jsonl is doccano when its first line has `label`/`labels`/`entities` and no `mentions`."""
    if path.is_dir():
        return "brat" if any(path.rglob("*.ann")) else None
    suffix = path.suffix.lower()
    if suffix == ".ann":
        return "brat"
    if suffix == ".json":
        return "labelstudio"
    if suffix == ".jsonl":
        try:
            with path.open("rb") as handle:
                first = next((line for line in handle if line.strip()), b"")
            record = json_loads_bounded(first)
        except (OSError, ValueError):
            return "jsonl"  # the reader reports what is wrong with it
        if isinstance(record, dict) and "mentions" not in record and {"label", "labels", "entities"} & set(record):
            return "doccano"
        return "jsonl"
    return None

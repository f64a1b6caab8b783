"""Import services: files of articles into a project, from paths (the command) or an upload (the API).

Each file is imported atomically (all its articles or none); a failed file does not stop the
others. Readers live in `annotations.importers`; every path stores what they read through one
batch loop (`articles_store`) into `articles_create`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotations.errors import ImportFailed
from annotations.importers import jsonl as jsonl_reader
from annotations.importers.base import validation_messages
from annotations.importers.catalog import ARTICLE_READERS, article_reader_for
from annotations.models import (
    Article,
    Project,
)
from annotations.services.articles import ArticleInput, ImportResult, articles_create

# Rows per INSERT / per duplicate look-up, all inside the one transaction of the file.
IMPORT_BATCH_SIZE = 1000


@dataclass
class FileImport:
    """What happened to one input path."""

    path: Path
    imported: int = 0
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    files: list[FileImport] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(len(f.duplicates) for f in self.files)

    @property
    def errors(self) -> list[str]:
        return [error for f in self.files for error in f.errors]

    def summary(self) -> str:
        return f"imported {self.imported}, duplicates {self.duplicates}, errors {len(self.errors)}"


def _expand(paths: Iterable[Path]) -> Iterator[tuple[Path, str | None]]:
    """Each input file with the error that stops it (None when it can be read).

    Folders are walked recursively; only files with a known suffix are taken from them, sorted.
    """
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and article_reader_for(p) is not None)
            if not found:
                yield path, f"{path}: no {' or '.join(sorted(ARTICLE_READERS))} files in this folder"
            files = found
        elif not path.exists():
            yield path, f"{path}: no such file or directory"
            continue
        else:
            files = [path]
        for file in files:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            if article_reader_for(file) is None:
                supported = ", ".join(sorted(ARTICLE_READERS))
                yield file, f"{file}: unsupported file type {file.suffix or '(none)'!r}; supported: {supported}"
            else:
                yield file, None


def articles_store(*, project: Project, articles: Sequence[ArticleInput], imported_from: str) -> ImportResult:
    """All of one file's articles in one transaction, `IMPORT_BATCH_SIZE` at a time (every import path
    ends here); duplicates are skipped and reported."""
    stored = ImportResult(imported=[], duplicates=[])
    with transaction.atomic():
        for start in range(0, len(articles), IMPORT_BATCH_SIZE):
            result = articles_create(
                project=project, articles=articles[start : start + IMPORT_BATCH_SIZE], imported_from=imported_from
            )
            stored.imported += result.imported
            stored.duplicates += result.duplicates
    return stored


def _store(project: Project, articles: Sequence[ArticleInput], path: Path) -> FileImport:
    stored = articles_store(project=project, articles=articles, imported_from=str(path))
    return FileImport(path=path, imported=len(stored.imported), duplicates=stored.duplicates)


def import_paths(*, project: Project, paths: Sequence[Path], language: str = "") -> ImportReport:
    """Import .txt / .jsonl files and folders of them into `project`, each file atomically.

    `language` (an ISO 639-1 code) overrides the files' own and the detected language of every article."""
    report = ImportReport()
    for path, problem in _expand(paths):
        if problem is not None:
            report.files.append(FileImport(path=path, errors=[problem]))
            continue
        reader = article_reader_for(path)
        assert reader is not None  # _expand only passes readable files without a problem
        try:
            articles = reader(path)
            if language:
                articles = [replace(article, language=language) for article in articles]
            report.files.append(_store(project, articles, path))
        except ImportFailed as exc:
            report.files.append(FileImport(path=path, errors=exc.errors))
        except ValidationError as exc:
            report.files.append(FileImport(path=path, errors=[f"{path}: {m}" for m in validation_messages(exc)]))
        except IntegrityError:
            # Another import stored one of these texts between our duplicate check and the insert.
            message = f"{path}: an article was stored by another import at the same time; run the import again"
            report.files.append(FileImport(path=path, errors=[message]))
    return report


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
    try:
        stored = articles_store(project=project, articles=articles, imported_from=f"api:{source_name}")
    except IntegrityError:
        raise ImportFailed(
            [f"{source_name}: an article was stored by another import at the same time; send the file again"]
        ) from None
    return ArticleImport(imported=stored.imported, duplicates=stored.duplicates)

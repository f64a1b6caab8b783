"""Import services: files of articles into a project, the actor registry, the demo bootstrap.

Each file is imported atomically (all its articles or none); a failed file does not stop the
others. Readers live in `annotations.importers`; these functions store what they read through
`annotations.services`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from annotations.errors import ImportFailed
from annotations.importers.actors import read_actors
from annotations.importers.base import validation_messages
from annotations.importers.catalog import ARTICLE_READERS, article_reader_for
from annotations.models import Project
from annotations.services import ArticleInput, actor_upsert, articles_create, membership_set, project_create

# The actor registry file looked for in the seeds folder by the demo bootstrap.
DEMO_ACTORS_FILE = "actors.jsonl"

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


def _store(project: Project, articles: Sequence[ArticleInput], path: Path) -> FileImport:
    """All articles of one file in one transaction; duplicates are skipped and reported."""
    outcome = FileImport(path=path)
    with transaction.atomic():
        for start in range(0, len(articles), IMPORT_BATCH_SIZE):
            result = articles_create(
                project=project, articles=articles[start : start + IMPORT_BATCH_SIZE], imported_from=str(path)
            )
            outcome.imported += len(result.imported)
            outcome.duplicates += result.duplicates
    return outcome


def import_paths(*, project: Project, paths: Sequence[Path]) -> ImportReport:
    """Import .txt / .jsonl files and folders of them into `project`, each file atomically."""
    report = ImportReport()
    for path, problem in _expand(paths):
        if problem is not None:
            report.files.append(FileImport(path=path, errors=[problem]))
            continue
        reader = article_reader_for(path)
        assert reader is not None  # _expand only passes readable files without a problem
        try:
            report.files.append(_store(project, reader(path), path))
        except ImportFailed as exc:
            report.files.append(FileImport(path=path, errors=exc.errors))
        except ValidationError as exc:
            report.files.append(FileImport(path=path, errors=[f"{path}: {m}" for m in validation_messages(exc)]))
        except IntegrityError:
            # Another import stored one of these texts between our duplicate check and the insert.
            message = f"{path}: an article was stored by another import at the same time; run the import again"
            report.files.append(FileImport(path=path, errors=[message]))
    return report


@dataclass(frozen=True)
class ActorLoad:
    created: int
    updated: int
    unchanged: int = 0


@transaction.atomic
def actors_load_file(*, path: Path) -> ActorLoad:
    """Create or update the actors of a JSON Lines file, all or none; errors name file and line."""
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    for actor in read_actors(path):
        try:
            with transaction.atomic():
                _, outcome = actor_upsert(**actor.upsert_kwargs())
        except ValidationError as exc:
            errors += [f"{path}:{actor.line}: {message}" for message in validation_messages(exc)]
            continue
        outcomes[outcome] += 1
    if errors:
        raise ImportFailed(errors)  # rolls back the lines that did load
    return ActorLoad(created=outcomes["created"], updated=outcomes["updated"], unchanged=outcomes["unchanged"])


# --- Demo bootstrap -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    password: str
    role: str
    is_staff: bool = True
    is_superuser: bool = False
    api_token: bool = False


@transaction.atomic
def user_ensure(*, username: str, password: str, is_staff: bool, is_superuser: bool) -> tuple[AbstractUser, str]:
    """Create the user, or bring an existing one in line; returns (user, what changed).

    The password is set only when it doesn't already work: re-hashing a working one would
    change the row (new salt) on every run.
    """
    user, created = get_user_model().objects.get_or_create(username=username)
    wanted = {"is_staff": is_staff, "is_superuser": is_superuser}
    changes = [] if created else [flag for flag, value in wanted.items() if getattr(user, flag) != value]
    user.is_staff, user.is_superuser = is_staff, is_superuser
    if created or not user.check_password(password):
        user.set_password(password)
        changes.append("password")
    if created or changes:
        user.save()
    if created:
        return user, "created"
    return user, f"updated {', '.join(changes)}" if changes else "unchanged"


@dataclass
class DemoReport:
    project: Project
    project_created: bool
    articles: ImportReport
    users: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    actors: ActorLoad | None = None
    actor_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.articles.errors + self.actor_errors


def demo_bootstrap(*, slug: str, name: str, seeds_dir: Path, users: dict[str, DemoUser]) -> DemoReport:
    """The demo project from the seed .txt files, its users, API tokens and the actor registry.

    Idempotent: a second run finds every article a duplicate and every user and token in place.
    """
    project = Project.objects.filter(slug=slug).first()
    project_created = project is None
    if project is None:
        project = project_create(slug=slug, name=name)
    report = DemoReport(
        project=project,
        project_created=project_created,
        articles=import_paths(project=project, paths=sorted(seeds_dir.glob("*.txt"))),
    )
    for username, demo in users.items():
        user, report.users[username] = user_ensure(
            username=username, password=demo.password, is_staff=demo.is_staff, is_superuser=demo.is_superuser
        )
        membership_set(project=project, user=user, role=demo.role)
        if demo.api_token:
            token, _ = Token.objects.get_or_create(user=user)
            report.tokens[username] = token.key
    actors_path = seeds_dir / DEMO_ACTORS_FILE
    if actors_path.exists():
        try:
            report.actors = actors_load_file(path=actors_path)
        except ImportFailed as exc:
            report.actor_errors = exc.errors
    return report

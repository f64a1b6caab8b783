"""Project services: create a project (with its members), replace its label schema, set or remove a
member's role, a user's API token.

The `check_*` functions are what the services check before writing; the admin calls the same ones
to show a form's errors without writing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from rest_framework.authtoken.models import Token

from annotations.models import Membership, Project
from annotations.schema import LabelSchema, load_default_schema, validate_label_schema
from annotations.services.actors import actors_load_default
from annotations.services.registry import models_schema_changed


def check_project_schema(*, label_schema: Any) -> None:
    """A label schema a project may hold; SchemaError lists every problem."""
    validate_label_schema(label_schema)


def check_project_slug(*, slug: str) -> None:
    if Project.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"a project with slug {slug!r} already exists"]})


def check_membership_role(*, role: str) -> None:
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"unknown role {role!r}; allowed: {', '.join(Membership.Role.values)}"]})


def check_membership(*, project: Project | None, user: AbstractBaseUser | None, role: str) -> None:
    """A membership `membership_set` would store (`project` may be one a form is still creating)."""
    check_membership_role(role=role)


def check_members(*, members: Sequence[str]) -> list[tuple[AbstractBaseUser, str]]:
    """`USERNAME:ROLE` strings as (user, role); every problem (no colon, unknown user or role, a user
    named twice) in one ValidationError on `member`."""
    model = get_user_model()
    problems: list[str] = []
    parsed: list[tuple[str, str]] = []
    for member in members:
        username, colon, role = member.partition(":")
        if not colon or not username.strip() or not role.strip():
            problems.append(f"{member!r} is not USERNAME:ROLE")
            continue
        parsed.append((username.strip(), role.strip()))
    found = {
        u.get_username(): u
        for u in model._default_manager.filter(**{f"{model.USERNAME_FIELD}__in": [n for n, _ in parsed]})
    }
    seen: set[str] = set()
    result: list[tuple[AbstractBaseUser, str]] = []
    for username, role in parsed:
        if username not in found:
            problems.append(f"no user named {username!r}")
        if role not in Membership.Role.values:
            problems.append(f"unknown role {role!r} for {username!r}; allowed: {', '.join(Membership.Role.values)}")
        if username in seen:
            problems.append(f"{username!r} is named twice")
        seen.add(username)
        if username in found and role in Membership.Role.values:
            result.append((found[username], role))
    if problems:
        raise ValidationError({"member": problems})
    return result


def project_create(
    *,
    slug: str,
    name: str,
    label_schema: dict[str, Any] | None = None,
    guidelines: str = "",
    overlap: int = 2,
    description: str = "",
    merge_strategy: str | None = None,
    members: Sequence[tuple[AbstractBaseUser, str]] = (),
    load_default_actors: bool = True,
) -> Project:
    """Create a project, with its members' roles; without a schema it gets the default geopolitics
    schema from seeds/, and an empty actor registry gets the default one (the gazetteer pre-annotation
    reads). Nothing is created when anything is wrong."""
    document = label_schema if label_schema is not None else load_default_schema()
    check_project_schema(label_schema=document)
    check_project_slug(slug=slug)
    for _, role in members:
        check_membership_role(role=role)
    project = Project(
        slug=slug, name=name, label_schema=document, guidelines=guidelines, overlap=overlap, description=description
    )
    if merge_strategy is not None:
        project.merge_strategy = merge_strategy
    project.full_clean()
    with transaction.atomic():
        project.save()
        if load_default_actors:
            actors_load_default()
        for user, role in members:
            membership_set(project=project, user=user, role=role)
    return project


@transaction.atomic
def project_set_schema(*, project: Project, label_schema: dict[str, Any]) -> Project:
    """Replace a project's schema (validated) and bump its schema version."""
    check_project_schema(label_schema=label_schema)
    project.label_schema = label_schema
    project.schema_version = F("schema_version") + 1
    project.save(update_fields=["label_schema", "schema_version", "updated_at"])
    project.refresh_from_db(fields=["schema_version"])
    models_schema_changed(project=project)  # trained components stop naming labels the schema lost
    return project


@transaction.atomic
def membership_set(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    check_membership(project=project, user=user, role=role)
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


@transaction.atomic
def membership_remove(*, project: Project, user: AbstractBaseUser) -> bool:
    """Take a user out of a project; False when they weren't in it. Their layers stay."""
    deleted, _ = Membership.objects.filter(project=project, user_id=user.pk).delete()
    return bool(deleted)


def token_for_user(*, user: AbstractBaseUser) -> tuple[str, bool]:
    """The user's REST API token, created if missing: (key, created)."""
    token, created = Token.objects.get_or_create(user=user)
    return token.key, created


def project_schema(project: Project) -> LabelSchema:
    return LabelSchema(project.label_schema)


PROJECT_EDITABLE = (
    "slug",
    "name",
    "description",
    "overlap",
    "merge_strategy",
    "label_schema",
    "guidelines",
    "queue_order",
    "retrain_after",
    "train_min_articles",
    "train_min_events",
)


@transaction.atomic
def project_update(*, project: Project, changes: dict[str, Any]) -> Project:
    """Change a project's editable fields. A new schema is validated and goes through
    `project_set_schema`, which bumps the schema version; the other fields are saved alone, so a
    version bumped meanwhile by another save is not overwritten."""
    unknown = sorted(set(changes) - set(PROJECT_EDITABLE))
    if unknown:
        raise ValidationError({name: ["can't be changed here"] for name in unknown})
    if "label_schema" in changes:
        check_project_schema(label_schema=changes["label_schema"])
    others = [name for name in changes if name != "label_schema"]
    for name in others:
        setattr(project, name, changes[name])
    if others:
        project.save(update_fields=[*others, "updated_at"])
    if "label_schema" in changes:
        project_set_schema(project=project, label_schema=changes["label_schema"])
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project with everything in it (members, articles, layers, jobs, dataset versions)."""
    project.delete()


@transaction.atomic
def membership_update(*, membership: Membership, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    """A stored membership changed: to another user or project (the old row goes), or to another role."""
    check_membership(project=project, user=user, role=role)
    stored = Membership.objects.filter(pk=membership.pk).values_list("project_id", "user_id").first()
    if stored is not None and stored != (project.pk, user.pk):
        Membership.objects.filter(pk=membership.pk).delete()
    return membership_set(project=project, user=user, role=role)


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Take a user out of a project (their layers stay)."""
    membership.delete()

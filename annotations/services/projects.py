"""Project services: create a project, replace its label schema, set a member's role.

The `check_*` functions are what the services check before writing; the admin calls the same ones
to show a form's errors without writing anything.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from annotations.models import Membership, Project
from annotations.schema import LabelSchema, load_default_schema, validate_label_schema


def check_project_schema(*, label_schema: Any) -> None:
    """A label schema a project may hold; SchemaError lists every problem."""
    validate_label_schema(label_schema)


def check_project_slug(*, slug: str) -> None:
    if Project.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"a project with slug {slug!r} already exists"]})


def check_membership_role(*, role: str) -> None:
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"unknown role {role!r}; allowed: {', '.join(Membership.Role.values)}"]})


def project_create(
    *,
    slug: str,
    name: str,
    label_schema: dict[str, Any] | None = None,
    guidelines: str = "",
    overlap: int = 2,
    description: str = "",
) -> Project:
    """Create a project; without a schema it gets the default geopolitics schema from seeds/."""
    document = label_schema if label_schema is not None else load_default_schema()
    check_project_schema(label_schema=document)
    check_project_slug(slug=slug)
    project = Project(
        slug=slug, name=name, label_schema=document, guidelines=guidelines, overlap=overlap, description=description
    )
    project.full_clean()
    with transaction.atomic():
        project.save()
    return project


@transaction.atomic
def project_set_schema(*, project: Project, label_schema: dict[str, Any]) -> Project:
    """Replace a project's schema (validated) and bump its schema version."""
    check_project_schema(label_schema=label_schema)
    project.label_schema = label_schema
    project.schema_version = F("schema_version") + 1
    project.save(update_fields=["label_schema", "schema_version", "updated_at"])
    project.refresh_from_db(fields=["schema_version"])
    return project


@transaction.atomic
def membership_set(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    check_membership_role(role=role)
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership


def project_schema(project: Project) -> LabelSchema:
    return LabelSchema(project.label_schema)

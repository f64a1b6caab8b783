"""Services the admin needs that `annotations.services` does not have yet.

Written in the admin's branch while the domain modules move into `annotations/services/`; they
move into that package on merge. Keyword-only, typed, one transaction each. The `check_*`
functions raise ValidationError naming the field and write nothing: the admin's forms call them
before a save, and the services here call them before they write (Zulip's `check_*` / `do_*`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from annotations.errors import InvalidAnnotation
from annotations.models import Article, Layer, Membership, Mention, Project
from annotations.schema import LabelSchema, SchemaError, validate_label_schema
from annotations.services import ArticleInput, article_check, membership_set, project_create, project_set_schema
from annotations.validation import validate_mention_label, validate_span

# --- Checks -----------------------------------------------------------------------------------


def check_project_schema(label_schema: Any) -> None:
    """A label schema a project may have; the problems as errors of `label_schema`."""
    try:
        validate_label_schema(label_schema)
    except SchemaError as exc:
        raise ValidationError({"label_schema": exc.errors}) from exc


def check_membership(*, project: Project | None, user: AbstractBaseUser | None, role: str) -> None:
    """A membership `membership_set` would store: the role must be one of the roles.

    (`project` and `user` are the row's; a project being created in the same form has no id yet.)
    """
    if role not in Membership.Role.values:
        raise ValidationError({"role": [f"unknown role {role!r}; allowed: {', '.join(Membership.Role.values)}"]})


def check_article_update(
    *, article: Article, title: str, source: str, url: str, language: str, metadata: dict[str, Any] | None
) -> None:
    """The editable fields of a stored article, checked as an import checks them (`article_check`).

    The text is the stored one: it never changes once imported.
    """
    article_check(
        ArticleInput(title=title, text=article.text, source=source, url=url, language=language, metadata=metadata)
    )


def check_mention_update(*, mention: Mention, label: str, start: int, end: int, text: str | None = None) -> None:
    """What `mention_update` refuses, without writing: a label outside the schema, a span outside
    the text (or not quoting `text`), a label an event role the mention fills does not take, the
    same mention twice in the layer, a change to an adjudicated gold layer."""
    layer = mention.layer
    schema = LabelSchema(layer.article.project.label_schema)
    validate_mention_label(schema, label)
    validate_span(layer.article.text, start, end, text)
    for argument in mention.arguments.select_related("event"):
        spec = schema.event_types.get(argument.event.event_type)
        role = spec.roles.get(argument.role) if spec else None
        if role is None:
            continue  # type or role left the schema: layer_set_status reports it, not this edit
        if label not in role.entity_types:
            raise InvalidAnnotation(
                "label",
                f"the mention fills role {argument.role!r} of event {argument.event_id}, "
                f"which takes {', '.join(sorted(role.entity_types))}, not {label}",
            )
    duplicate = Mention.objects.filter(layer=layer, start=start, end=end, label=label).exclude(pk=mention.pk)
    if duplicate.exists():
        raise InvalidAnnotation("start", f"a {label} mention on [{start}, {end}) already exists")
    adjudicated = Q(pk=layer.pk, kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED)
    if Layer.objects.filter(adjudicated).exists():
        raise InvalidAnnotation(
            "layer", f"gold layer {layer.pk} is adjudicated: reopen it (status in_progress) before changing it"
        )


# --- Projects and members ---------------------------------------------------------------------

PROJECT_EDITABLE = ("slug", "name", "description", "overlap", "merge_strategy", "label_schema", "guidelines")


@transaction.atomic
def project_create_with_strategy(
    *,
    slug: str,
    name: str,
    label_schema: dict[str, Any],
    merge_strategy: str,
    guidelines: str = "",
    overlap: int = 2,
    description: str = "",
) -> Project:
    """`project_create`, with the review merge strategy it does not take yet (the admin's add form sets it)."""
    check_project_schema(label_schema)
    project = project_create(
        slug=slug, name=name, label_schema=label_schema, guidelines=guidelines, overlap=overlap, description=description
    )
    if project.merge_strategy != merge_strategy:
        project.merge_strategy = merge_strategy
        project.full_clean()
        project.save(update_fields=["merge_strategy", "updated_at"])
    return project


@transaction.atomic
def project_update(*, project: Project, changes: dict[str, Any]) -> Project:
    """Change a project's editable fields. A new schema is validated and goes through
    `project_set_schema`, which bumps the schema version; the other fields are saved alone, so a
    version bumped meanwhile by another save is not overwritten."""
    unknown = sorted(set(changes) - set(PROJECT_EDITABLE))
    if unknown:
        raise ValidationError({name: ["can't be changed here"] for name in unknown})
    others = [name for name in changes if name != "label_schema"]
    for name in others:
        setattr(project, name, changes[name])
    if others:
        project.save(update_fields=[*others, "updated_at"])
    if "label_schema" in changes:
        check_project_schema(changes["label_schema"])
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


# --- Articles and layers ----------------------------------------------------------------------


@transaction.atomic
def article_update(
    *,
    article: Article,
    title: str,
    source: str,
    url: str,
    published: Any,
    language: str,
    metadata: dict[str, Any] | None,
) -> Article:
    """Change an article's editable fields. The text, project and story stay as imported: every
    annotation's offsets point into the text."""
    check_article_update(article=article, title=title, source=source, url=url, language=language, metadata=metadata)
    article.title, article.source, article.url = title, source, url
    article.published, article.language, article.metadata = published, language, metadata or {}
    article.save(update_fields=["title", "source", "url", "published", "language", "metadata"])
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Delete an article with its layers and their annotations (its story anchors stay, harmless)."""
    article.delete()


@transaction.atomic
def layer_delete(*, layer: Layer) -> None:
    """Delete a layer with its mentions, events, stances and the suggestion decisions taken in it."""
    layer.delete()

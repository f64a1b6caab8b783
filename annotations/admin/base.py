"""The admin's foundations: whose rows a request may see and change (`Access`, read once per
request from `annotations.access`), and the scoped ModelAdmin bases every page builds on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from annotations import access as access_rules
from annotations.access import (
    ALL_ROLES,
    CAN_START_JOBS,
    MANAGER,
    LayerFacts,
)
from annotations.models import (
    Job,
    Layer,
    Project,
)
from annotations.services.preannotation import preannotation_start

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ACTIVE_JOB_STATUSES = (Job.Status.PENDING, Job.Status.RUNNING)
NOT_YOUR_PROJECT = "You don't manage that project: choose one you manage."


def start_preannotation(request: HttpRequest, project: Project, article_ids: list[int] | None) -> None:
    """Start a job and tell the user where to watch it, or why it could not start."""
    job = preannotation_start(project=project, article_ids=article_ids, created_by=request.user)
    job.refresh_from_db()
    link = reverse("admin:annotations_job_change", args=[job.pk])
    if job.status == Job.Status.FAILED:
        messages.error(request, format_html('Job <a href="{}">#{}</a> could not start: {}', link, job.pk, job.error))
    else:
        messages.success(
            request,
            format_html(
                'Pre-annotating {} article(s) of {}: job <a href="{}">#{}</a>.', job.total, project.slug, link, job.pk
            ),
        )


def managed_only(request: HttpRequest, projects: Iterable[Project], doing: str) -> list[Project]:
    """The projects the user may start jobs in; the others are reported and skipped."""
    access = access_of(request)
    allowed = []
    for project in projects:
        if access.role(project.pk) in CAN_START_JOBS:
            allowed.append(project)
        else:
            messages.error(request, f"Only a manager of {project.slug} can {doing}; skipped.")
    return allowed


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Give the admin's instance the row a service saved (its id, and what the service set), so the
    admin logs and links the stored row."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


def count_of(model: type[models.Model], fk: str, where: Q | None = None) -> Coalesce:
    """Rows of `model` pointing at the outer row (and matching `where`), as a correlated subquery.

    A subquery per count instead of Count() over joins: two joins multiply each other's rows.
    """
    rows = model._default_manager.filter(**{fk: OuterRef("pk")})
    if where is not None:
        rows = rows.filter(where)
    counted = rows.order_by().values(fk).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


_ACCESS_ATTRIBUTE = "_workbench_admin_access"


class Access:
    """The user's role in each of their projects, read once per request (superusers: everything).

    The rules themselves are `annotations.access`'s; this keeps what they need for one request.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        self.unrestricted: bool = user.is_active and user.is_superuser
        self.roles: dict[int, str] = {} if self.unrestricted else access_rules.roles_of(user)
        self.layers: dict[int, LayerFacts] = {}
        # While a delete confirmation collects what goes with the rows being deleted: those rows.
        self.deleting: set[tuple[str, Any]] | None = None

    def role(self, project_id: int | None) -> str | None:
        if self.unrestricted:
            return MANAGER
        return self.roles.get(project_id) if project_id is not None else None

    def projects(self, roles: tuple[str, ...] = ALL_ROLES) -> list[int]:
        return [project_id for project_id, role in self.roles.items() if role in roles]

    def has_role(self, roles: tuple[str, ...]) -> bool:
        """Whether the user has one of `roles` in some project."""
        return self.unrestricted or any(role in roles for role in self.roles.values())

    def layer(self, layer_id: int, instance: Layer | None = None) -> LayerFacts:
        if layer_id not in self.layers:
            if instance is not None and Layer.article.is_cached(instance):
                self.layers[layer_id] = LayerFacts.of(instance)
            else:
                self.load_layers([layer_id])
        return self.layers[layer_id]

    def load_layers(self, layer_ids: Iterable[int]) -> None:
        missing = {layer_id for layer_id in layer_ids if layer_id not in self.layers}
        if not missing:
            return
        rows = Layer.objects.filter(pk__in=missing).values_list("pk", "article__project_id", "kind", "annotator_id")
        for pk, project_id, kind, annotator_id in rows:
            self.layers[pk] = LayerFacts(project_id, kind, annotator_id)
        for layer_id in missing - set(self.layers):
            self.layers[layer_id] = LayerFacts(None, "", None)  # gone: nobody's

    def layer_scope(self, prefix: str) -> Q:
        """The layers (`prefix` leads from the row to its layer) whose contents the user may read."""
        return access_rules.layer_scope(self.user, self.roles, prefix)

    def may_read_layer(self, layer: LayerFacts) -> bool:
        return access_rules.may_read_layer(self.user, self.role(layer.project_id), layer)

    def may_write_layer(self, layer: LayerFacts) -> bool:
        """Superusers may fix any row here, machine ones included; everyone else as the rules say."""
        return self.unrestricted or access_rules.may_write_layer(self.user, self.role(layer.project_id), layer)

    def goes_with_deleted_row(self, obj: models.Model) -> bool:
        """Whether `obj` is being deleted only because a row it belongs to is."""
        return self.deleting is not None and (obj._meta.label, obj.pk) not in self.deleting


def access_of(request: HttpRequest) -> Access:
    access = getattr(request, _ACCESS_ATTRIBUTE, None)
    if access is None or access.user is not request.user:
        access = Access(request.user)
        setattr(request, _ACCESS_ATTRIBUTE, access)
    return access


def forget_access(request: HttpRequest) -> None:
    """After the user's own memberships may have changed: read them again when next asked."""
    if hasattr(request, _ACCESS_ATTRIBUTE):
        delattr(request, _ACCESS_ATTRIBUTE)


def follow_path(obj: Any, path: str) -> tuple[Any, str]:
    """The object holding the last field of an ORM path (`job__project` → (obj.job, "project"))."""
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
    return obj, last


class DeferringChangeList(ChangeList):
    """A change list that leaves out the big columns (article text, logs) its rows never show."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        queryset = super().get_queryset(request, exclude_parameters)
        list_defer = getattr(self.model_admin, "list_defer", ())
        return queryset.defer(*list_defer) if list_defer else queryset


class WorkbenchAdmin(admin.ModelAdmin):
    """Shared look (the workbench stylesheet) and lean change lists (`list_defer`)."""

    list_defer: tuple[str, ...] = ()

    class Media:
        css = {"all": ("annotations/admin.css",)}

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DeferringChangeList


class ProjectScopedAdmin(WorkbenchAdmin):
    """Rows that belong to a project: for anyone but a superuser, those of the user's projects,
    changed only as their role allows (see the table at the top of this module).

    `project_path` leads from a row to its project; rows inside a layer name `layer_prefix`
    instead (the path to the layer, with its `__`), and are read as the user may read the layer.
    """

    project_path = "project"
    layer_prefix: str | None = None
    read_roles: tuple[str, ...] = ALL_ROLES
    # Who may add rows, and change or delete them (rows inside a layer: `item_writes` below).
    add_roles: tuple[str, ...] | None = (MANAGER,)
    write_roles: tuple[str, ...] = (MANAGER,)
    # Annotations: changed and deleted as the layer they are in may be written.
    item_writes = False

    # Rows

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        access = access_of(request)
        if access.unrestricted:
            return queryset
        if self.layer_prefix is not None:
            return queryset.filter(access.layer_scope(self.layer_prefix))
        return queryset.filter(**{f"{self.project_path}__in": access.projects(self.read_roles)})

    def layer_id_of(self, obj: models.Model) -> tuple[int, Layer | None]:
        """The id of the row's layer, and the layer if it is loaded already."""
        if self.layer_prefix == "":
            return obj.pk, obj  # type: ignore[return-value]
        holder, field = follow_path(obj, (self.layer_prefix or "").removesuffix("__"))
        loaded = getattr(holder, field) if getattr(type(holder), field).is_cached(holder) else None
        return getattr(holder, f"{field}_id"), loaded

    def layer_of(self, access: Access, obj: models.Model) -> LayerFacts:
        return access.layer(*self.layer_id_of(obj))

    def project_id_of(self, access: Access, obj: models.Model) -> int | None:
        if self.layer_prefix is not None:
            return self.layer_of(access, obj).project_id
        if self.project_path == "pk":
            return obj.pk
        holder, field = follow_path(obj, self.project_path)
        return getattr(holder, f"{field}_id")

    def may_read(self, access: Access, obj: models.Model) -> bool:
        if self.layer_prefix is not None:
            return access.may_read_layer(self.layer_of(access, obj))
        return access.role(self.project_id_of(access, obj)) in self.read_roles

    def may_write(self, access: Access, obj: models.Model) -> bool:
        if self.item_writes:
            return access.may_write_layer(self.layer_of(access, obj))
        return access.role(self.project_id_of(access, obj)) in self.write_roles

    def may_delete(self, access: Access, obj: models.Model) -> bool:
        # What hangs off a deleted row is of the same project, and goes with it.
        return access.goes_with_deleted_row(obj) or self.may_write(access, obj)

    # Permissions: Django's model permissions first, then the role

    def role_allows(
        self, request: HttpRequest, obj: models.Model | None, roles: tuple[str, ...], may: Callable[..., bool]
    ) -> bool:
        """Without a row: whether the user has one of `roles` somewhere; with one: `may(access, row)`."""
        access = access_of(request)
        if access.unrestricted:
            return True
        return access.has_role(roles) if obj is None else may(access, obj)

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        allowed = super().has_view_permission(request, obj)
        return allowed and self.role_allows(request, obj, self.read_roles, self.may_read)

    def has_add_permission(self, request: HttpRequest) -> bool:
        if not super().has_add_permission(request):
            return False
        return self.add_roles is None or access_of(request).has_role(self.add_roles)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and self.role_allows(request, obj, self.write_roles, self.may_write)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and self.role_allows(request, obj, self.write_roles, self.may_delete)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Each row the user asked to delete is checked by the role; the rows that go with them are not."""
        access = access_of(request)
        if access.unrestricted:
            return super().get_deleted_objects(objs, request)
        rows = list(objs)
        if self.layer_prefix is not None:
            access.load_layers(self.layer_id_of(row)[0] for row in rows)
        access.deleting = {(row._meta.label, row.pk) for row in rows}
        try:
            return super().get_deleted_objects(rows, request)
        finally:
            access.deleting = None

    # Forms

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        access = access_of(request)
        if db_field.related_model is Project and not access.unrestricted:
            kwargs["queryset"] = Project.objects.filter(pk__in=access.projects((MANAGER,)))
            kwargs["error_messages"] = {"invalid_choice": NOT_YOUR_PROJECT}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(ProjectScopedAdmin):
    """View-only pages: these rows are written by services, workers and the annotate view."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

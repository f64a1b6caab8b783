"""The Django admin: where project leads inspect projects, articles, layers, annotations and jobs.

Article text, titles, mention quotes, schema values and job logs are untrusted: every value is
rendered through `format_html` / `format_html_join` (or Django's autoescaping), never `mark_safe`.
Changelists annotate their counts and select their related rows, so a page costs a fixed number
of queries however many rows it shows. Writes go through `annotations.services`; annotations
(mentions, events, stances) and jobs are mostly read-only here, because the annotate view, the
API and the workers own them.

Who sees and changes what. A superuser sees and changes everything. For everyone else Django's
model permissions (usually granted through a group) stay the outer gate: they say which pages a
staff account has at all. Within them, the project role narrows every page to the rows of the
user's projects, with the rules of `api.permissions`:

| rows                               | manager                | reviewer         | annotator           | consumer |
|------------------------------------|------------------------|------------------|---------------------|----------|
| projects, their member list        | view, change, delete   | view             | view                | view     |
| memberships                        | view, add, change, del.| view             | view                | view     |
| articles (+ pre-annotate, assign)  | view, add, change, del.| view             | view                | view     |
| layers                             | view, delete           | view             | own and machine     | view     |
| mentions, events, arguments,       | view; change / delete  | view; change /   | own and machine;    | view     |
| stances (only mentions change)     | in annotator and gold  | delete in gold   | change / delete own |          |
| suggestion decisions               | view, delete           | view             | own layers'         | view     |
| jobs, job chunks                   | view, delete finished  | view             | view                | view     |
| dataset versions                   | view, delete           | view             | —                   | view     |

- Someone who is not a member of a project sees none of its rows: its pages redirect to the
  index with Django's "doesn't exist" message, searches, filters, autocompletes and actions skip
  them, and a project filter lists only the user's projects. Jobs without a project (worker
  checks) are the superusers'.
- The pre-annotate and assign actions are offered to every member; they run for the projects
  the user manages, and name the others as skipped.
- Machine layers are written by pre-annotation only: nobody but a superuser edits or deletes
  their items one by one. Deleting a row the user may delete (a project, an article, a layer)
  takes everything hanging off it (all of the same project) with it, given the model permissions.
- Forms list only projects the user manages (a membership's or a new article's project), and a
  project the user doesn't manage is refused with a form error, nothing saved. Someone with the
  "add project" permission may create a project and becomes its manager.
- Actors are one registry shared by every project: anyone with the model permissions views,
  adds and changes them (the mention counts count only mentions the user may read). Only
  superusers delete an actor: that unlinks mentions in projects the user may not see.
- Picking the user of a membership searches Django's user admin: managers need its "view user"
  permission for that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from annotations import access as access_rules
from annotations.access import (
    ALL_ROLES,
    CAN_ANNOTATE,
    CAN_EXPORT,
    CAN_START_JOBS,
    MANAGER,
    LayerFacts,
)
from annotations.agreement_views import urls as agreement_urls
from annotations.errors import VersionConflict
from annotations.models import (
    Actor,
    Article,
    DatasetVersion,
    Event,
    EventArgument,
    Job,
    JobChunk,
    Layer,
    Membership,
    Mention,
    Project,
    Stance,
    SuggestionDecision,
)
from annotations.schema import SchemaError, load_default_schema, validate_label_schema
from annotations.selectors import Stage, articles_with_stage
from annotations.services.articles import ArticleInput, check_article, content_hash
from annotations.services.items import event_delete, event_update, mention_delete, mention_update, stance_delete
from annotations.services.preannotation import preannotation_start
from annotations.services.projects import membership_set, project_set_schema
from annotations.workspace import assign_action
from annotations.workspace import urls as workspace_urls

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ACTIVE_JOB_STATUSES = (Job.Status.PENDING, Job.Status.RUNNING)
NOT_YOUR_PROJECT = "You don't manage that project: choose one you manage."


# --- Helpers --------------------------------------------------------------------------------


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


def count_of(model: type[models.Model], fk: str, where: Q | None = None) -> Coalesce:
    """Rows of `model` pointing at the outer row (and matching `where`), as a correlated subquery.

    A subquery per count instead of Count() over joins: two joins multiply each other's rows.
    """
    rows = model._default_manager.filter(**{fk: OuterRef("pk")})
    if where is not None:
        rows = rows.filter(where)
    counted = rows.order_by().values(fk).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def admin_link(obj: models.Model | None, text: object = None) -> str:
    """A link to an object's admin change (or view) page, its text escaped."""
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def pre_block(value: str) -> str:
    if not value:
        return "—"
    return format_html('<pre class="wb-pre">{}</pre>', value)


def format_duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def counts_summary(counts: Any) -> str:
    if not counts or not isinstance(counts, dict):
        return "—"
    return format_html_join(", ", "{}: {}", sorted((str(k), v) for k, v in counts.items()))


def progress_bar(done: int, total: int, status: str) -> str:
    """An HTML <progress> with "done / total · percent" beside it."""
    if not total:
        state = "nothing to do" if status == Job.Status.SUCCEEDED else "—"
        return format_html('<span class="wb-progress wb-progress-empty">{}</span>', state)
    percent = done * 100 // total  # floor: 100% only when everything is done
    return format_html(
        '<span class="wb-progress"><progress value="{}" max="{}">{}%</progress> '
        '<span class="wb-progress-text">{} / {} · {}%</span></span>',
        done,
        total,
        percent,
        done,
        total,
        percent,
    )


def _role_cardinality(role: dict[str, Any]) -> str:
    low = role.get("min", 0)
    high = role.get("max")
    return f"{low}..{'n' if high is None else high}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def render_schema_summary(document: Any) -> str:
    """Entity types with colour swatches, event types with roles, realis, contexts, stance labels."""
    if not isinstance(document, dict):
        return format_html('<p class="wb-muted">{}</p>', "The schema is not a JSON object.")
    entity_rows = format_html_join(
        "",
        '<tr><td><span class="wb-swatch"{}></span></td><td><code>{}</code></td><td>{}</td>'
        "<td><kbd>{}</kbd></td><td>{}</td></tr>",
        (
            (
                format_html(' style="background-color: {}"', e["color"])
                if isinstance(e.get("color"), str) and COLOUR.match(e["color"])
                else "",
                e.get("code", ""),
                e.get("name", ""),
                e.get("hotkey", ""),
                e.get("description", ""),
            )
            for e in _as_list(document.get("entity_types"))
            if isinstance(e, dict)
        ),
    )
    event_rows = format_html_join(
        "",
        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                e.get("code", ""),
                format_html(' <span class="wb-badge">{}</span>', "extension") if e.get("extension") else "",
                format_html_join(
                    "",
                    "<div><strong>{}</strong> {}: {}</div>",
                    (
                        (r.get("name", ""), _role_cardinality(r), ", ".join(map(str, _as_list(r.get("entity_types")))))
                        for r in _as_list(e.get("roles"))
                        if isinstance(r, dict)
                    ),
                ),
                ", ".join(map(str, _as_list(e.get("modes")))) or "—",
                e.get("description", ""),
            )
            for e in _as_list(document.get("event_types"))
            if isinstance(e, dict)
        ),
    )
    stance_labels = ", ".join(
        str(s.get("code", "")) for s in _as_list(document.get("stance_labels")) if isinstance(s, dict)
    )
    return format_html(
        '<div class="wb-schema">'
        "<h4>Entity types ({})</h4>"
        '<table class="wb-schema-table"><thead><tr><th>Colour</th><th>Code</th><th>Name</th><th>Hotkey</th>'
        "<th>Description</th></tr></thead><tbody>{}</tbody></table>"
        "<h4>Event types ({})</h4>"
        '<table class="wb-schema-table"><thead><tr><th>Code</th><th>Roles</th><th>Modes</th>'
        "<th>Description</th></tr></thead><tbody>{}</tbody></table>"
        "<dl><dt>Realis</dt><dd>{}</dd><dt>Contexts</dt><dd>{}</dd><dt>Stance labels</dt><dd>{}</dd></dl>"
        "</div>",
        len(_as_list(document.get("entity_types"))),
        entity_rows,
        len(_as_list(document.get("event_types"))),
        event_rows,
        ", ".join(map(str, _as_list(document.get("realis")))) or "—",
        ", ".join(map(str, _as_list(document.get("contexts")))) or "—",
        stance_labels or "—",
    )


class PrettyJSONField(forms.JSONField):
    """Shows JSON indented, so a schema or metadata object can be read and edited in a textarea."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


JSON_WIDGET = forms.Textarea(attrs={"rows": 20, "class": "wb-json"})


class _DryRun(Exception):
    """Rolls back a service call made only to learn whether it would succeed."""


def add_service_errors(form: forms.Form, call: Callable[[], object]) -> None:
    """Run a service in a savepoint that is always rolled back; put its errors on the form.

    The form then shows exactly what the service would refuse, with nothing written; the real
    call happens in `save_model`.
    """
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass
    except VersionConflict as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                form.add_error(None, message)
            return
        for field, messages in exc.message_dict.items():
            for message in messages:
                if field in form.fields:
                    form.add_error(field, message)
                else:
                    form.add_error(None, f"{field}: {message}")


# --- Access: whose rows a request may see and change ----------------------------------------

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
        for pk, *facts in rows:
            self.layers[pk] = LayerFacts(*facts)
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


class ProjectFilter(admin.RelatedFieldListFilter):
    """A project filter listing only the user's projects."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[Any, str]]:
        access = access_of(request)
        if access.unrestricted:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to={"pk__in": access.projects()})


class ScopedValuesFilter(admin.AllValuesFieldListFilter):
    """A values filter on a related row's field that lists only the values of rows the user sees.

    (Django's lists the values of every row of the related table.)
    """

    def __init__(
        self, field: Any, request: HttpRequest, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        if not access_of(request).unrestricted:
            values = model_admin.get_queryset(request).order_by(field_path).values_list(field_path, flat=True)
            self.lookup_choices = values.distinct()


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


# --- Projects -------------------------------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    label_schema = PrettyJSONField(widget=JSON_WIDGET, help_text=Project._meta.get_field("label_schema").help_text)

    class Meta:
        model = Project
        fields = ("slug", "name", "description", "overlap", "merge_strategy", "label_schema", "guidelines")

    def clean_label_schema(self) -> Any:
        document = self.cleaned_data["label_schema"]
        try:
            validate_label_schema(document)
        except SchemaError as exc:
            raise ValidationError(exc.errors) from exc
        return document


class MembershipInline(admin.TabularInline):
    """A project's members. No rules of its own: Django shows a project's inlines read-only unless
    the project may be changed (by its managers), and a new project's creator adds its first members."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    form = ProjectAdminForm
    list_display = (
        "slug",
        "name",
        "article_count",
        "member_count",
        "overlap",
        "schema_version",
        "updated_at",
        "agreement_link",
    )
    search_fields = ("slug", "name")
    list_defer = ("label_schema", "guidelines", "description")
    inlines = (MembershipInline,)
    readonly_fields = ("schema_version", "schema_summary", "articles_link", "created_at", "updated_at")
    actions = ("preannotate_projects", "assign_to_annotators")
    project_path = "pk"
    add_roles = None  # whoever may add a project becomes its manager

    @admin.action(description="Pre-annotate all articles of the selected projects")
    def preannotate_projects(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in managed_only(request, queryset, "start pre-annotation"):
            start_preannotation(request, project, None)

    @admin.action(description="Assign to annotators (overlap k)")
    def assign_to_annotators(self, request: HttpRequest, queryset: QuerySet[Project]) -> Any:
        return assign_action(request, Article.objects.filter(project__in=queryset), "projects")

    def get_fieldsets(self, request: HttpRequest, obj: Project | None = None) -> Any:
        main = ("slug", "name", "description", "overlap", "merge_strategy")
        if obj is None:
            return (
                (None, {"fields": main}),
                ("Label schema", {"fields": ("label_schema",)}),
                ("Guidelines", {"fields": ("guidelines",)}),
            )
        return (
            (None, {"fields": (*main, "articles_link")}),
            ("Label schema", {"fields": ("schema_version", "schema_summary", "label_schema")}),
            ("Guidelines", {"fields": ("guidelines",)}),
            ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return (
            super()
            .get_queryset(request)
            .annotate(article_count=count_of(Article, "project"), member_count=count_of(Membership, "project"))
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Project], search_term: str
    ) -> tuple[QuerySet[Project], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        access = access_of(request)
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete" and not access.unrestricted:
            # Every form that picks a project saves something into it: offer those the user manages.
            results = results.filter(pk__in=access.projects((MANAGER,)))
        return results, may_have_duplicates

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A new project starts from the default geopolitics schema.
        return {"label_schema": load_default_schema(), **super().get_changeform_initial_data(request)}

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, obj: Project) -> int:
        return obj.article_count  # type: ignore[attr-defined]

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj: Project) -> int:
        return obj.member_count  # type: ignore[attr-defined]

    @admin.display(description="articles")
    def articles_link(self, obj: Project) -> str:
        url = reverse("admin:annotations_article_changelist") + f"?project__id__exact={obj.pk}"
        return format_html('<a href="{}">{} article(s)</a>', url, obj.article_count)  # type: ignore[attr-defined]

    @admin.display(description="agreement")
    def agreement_link(self, obj: Project) -> str:
        return format_html('<a href="{}">Agreement</a>', reverse("admin:workspace_agreement", args=[obj.slug]))

    @admin.display(description="schema summary")
    def schema_summary(self, obj: Project) -> str:
        return render_schema_summary(obj.label_schema)

    def save_model(self, request: HttpRequest, obj: Project, form: forms.ModelForm, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Save the other edited fields without touching schema_version (another save may have
        # bumped it), then change the schema through the service, which bumps the version.
        other_fields = [name for name in form.changed_data if name != "label_schema"]
        if other_fields:
            obj.save(update_fields=[*other_fields, "updated_at"])
        if "label_schema" in form.changed_data:
            project_set_schema(project=obj, label_schema=obj.label_schema)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not access_of(request).unrestricted:
            # Whoever creates a project manages it (after the members added with it: it may be among them).
            membership_set(project=form.instance, user=request.user, role=MANAGER)
        forget_access(request)  # the members may include the user


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", ("project", ProjectFilter))
    search_fields = ("user__username", "user__email", "project__slug", "project__name")
    list_select_related = ("user", "project")
    autocomplete_fields = ("user", "project")

    # The user's own memberships may be among those changed: their roles are read again.

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_access(request)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        super().delete_model(request, obj)
        forget_access(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        super().delete_queryset(request, queryset)
        forget_access(request)


# --- Actors ---------------------------------------------------------------------------------


class ActorAdminForm(forms.ModelForm):
    aliases = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "wb-json"}),
        required=False,
        help_text='A JSON list of spellings, e.g. ["Niger", "Republic of Niger"].',
    )

    class Meta:
        model = Actor
        fields = ("name", "kind", "aliases", "country", "sector", "wikidata_id", "description")

    def clean_aliases(self) -> list[str]:
        aliases = self.cleaned_data["aliases"]
        if aliases in (None, ""):
            return []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ValidationError("must be a JSON list of non-empty strings")
        return [a.strip() for a in aliases]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"]
        if country and (len(country) != 3 or not country.isalpha() or not country.isupper()):
            raise ValidationError(f"{country!r} is not an ISO 3166-1 alpha-3 code (three capital letters, e.g. NER)")
        return country


@admin.register(Actor)
class ActorAdmin(WorkbenchAdmin):
    form = ActorAdminForm
    list_display = ("name", "kind", "country", "sector", "alias_count", "mention_count", "wikidata_id")
    list_filter = ("kind", "sector", "country")
    search_fields = ("name", "aliases__icontains", "wikidata_id")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Actor]:
        access = access_of(request)
        readable = None if access.unrestricted else access.layer_scope("layer__")
        return super().get_queryset(request).annotate(mention_count=count_of(Mention, "actor", readable))

    def has_delete_permission(self, request: HttpRequest, obj: Actor | None = None) -> bool:
        # Deleting an actor unlinks mentions in every project, also those the user can't see.
        return access_of(request).unrestricted and super().has_delete_permission(request, obj)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Actor], search_term: str
    ) -> tuple[QuerySet[Actor], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # JSON stored as text (SQLite) keeps non-ASCII aliases as \\u escapes: search that form too.
        escaped = json.dumps(search_term.strip())[1:-1]
        if escaped != search_term.strip():
            results |= queryset.filter(aliases__icontains=escaped)
        return results, may_have_duplicates

    @admin.display(description="aliases")
    def alias_count(self, obj: Actor) -> int:
        return len(obj.aliases) if isinstance(obj.aliases, list) else 0

    @admin.display(description="mentions", ordering="mention_count")
    def mention_count(self, obj: Actor) -> int:
        return obj.mention_count  # type: ignore[attr-defined]


# --- Articles -------------------------------------------------------------------------------


class LayersFilter(admin.SimpleListFilter):
    title = "layers"
    parameter_name = "layers"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("none", "No layers"),
            ("any", "Any layer"),
            (Layer.Kind.ANNOTATOR, "An annotator layer"),
            (Layer.Kind.GOLD, "A gold layer"),
            (Layer.Kind.MACHINE, "Machine suggestions"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> QuerySet[Article]:
        layers = Layer.objects.filter(article=OuterRef("pk"))
        value = self.value()
        if value == "none":
            return queryset.filter(~Exists(layers))
        if value == "any":
            return queryset.filter(Exists(layers))
        if value in Layer.Kind.values:
            return queryset.filter(Exists(layers.filter(kind=value)))
        return queryset


class StageFilter(admin.SimpleListFilter):
    title = "review stage"
    parameter_name = "stage"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            (Stage.UNASSIGNED, "Unassigned"),
            (Stage.ASSIGNED, "Assigned"),
            (Stage.ANNOTATED, "Annotated by k (to adjudicate)"),
            (Stage.ADJUDICATED, "Adjudicated"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> QuerySet[Article]:
        return queryset.filter(stage=self.value()) if self.value() in Stage.ALL else queryset


class ArticleAdminForm(forms.ModelForm):
    metadata = PrettyJSONField(widget=forms.Textarea(attrs={"rows": 6, "class": "wb-json"}), required=False)

    class Meta:
        model = Article
        # The admin passes the fields each page shows; these are the ones `clean` reads.
        fields = ("project", "title", "text", "metadata")

    def clean_metadata(self) -> dict[str, Any]:
        metadata = self.cleaned_data["metadata"]
        if metadata in (None, ""):
            return {}
        if not isinstance(metadata, dict):
            raise ValidationError("must be a JSON object")
        return metadata

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "text" not in self.fields or self.errors:
            return cleaned  # the text is only written when the article is created
        text = cleaned["text"]
        try:
            check_article(
                article=ArticleInput(
                    title=cleaned.get("title", ""),
                    text=text,
                    url=cleaned.get("url", ""),
                    metadata=cleaned.get("metadata"),
                )
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return cleaned
        digest = content_hash(text)
        duplicate = Article.objects.filter(project=cleaned["project"], content_hash=digest).first()
        if duplicate is not None:
            self.add_error("text", f"article {duplicate.pk} of this project has the same text ({duplicate.title!r})")
        self.instance.content_hash = digest
        return cleaned


class ArticleLayerInline(ReadOnlyInline):
    model = Layer
    fields = (
        "layer_link",
        "kind",
        "annotator",
        "model_version",
        "status",
        "version",
        "mention_count",
        "event_count",
        "stance_count",
        "updated_at",
    )
    readonly_fields = fields
    show_change_link = False  # the first column links to the layer

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layer]:
        access = access_of(request)
        layers = super().get_queryset(request)
        if not access.unrestricted:
            layers = layers.filter(access.layer_scope(""))
        return layers.select_related("annotator").annotate(
            mention_count=count_of(Mention, "layer"),
            event_count=count_of(Event, "layer"),
            stance_count=count_of(Stance, "layer"),
        )

    @admin.display(description="layer")
    def layer_link(self, obj: Layer) -> str:
        return admin_link(obj, f"Layer {obj.pk}")

    @admin.display(description="mentions")
    def mention_count(self, obj: Layer) -> int:
        return obj.mention_count  # type: ignore[attr-defined]

    @admin.display(description="events")
    def event_count(self, obj: Layer) -> int:
        return obj.event_count  # type: ignore[attr-defined]

    @admin.display(description="stances")
    def stance_count(self, obj: Layer) -> int:
        return obj.stance_count  # type: ignore[attr-defined]


@admin.register(Article)
class ArticleAdmin(ProjectScopedAdmin):
    form = ArticleAdminForm
    list_display = (
        "id",
        "title",
        "project",
        "source",
        "published",
        "language",
        "layer_count",
        "stage_column",
        "created_at",
    )
    list_display_links = ("id", "title")
    list_filter = (
        ("project", ProjectFilter),
        "language",
        ("published", admin.DateFieldListFilter),
        LayersFilter,
        StageFilter,
    )
    date_hierarchy = "published"
    search_fields = ("title", "text", "source", "url")
    list_select_related = ("project",)
    list_defer = ("text", "metadata", "project__label_schema", "project__guidelines", "project__description")
    inlines = (ArticleLayerInline,)
    actions = ("preannotate_articles", "assign_to_annotators")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 20, "class": "wb-text-input"})},
        models.URLField: {"assume_scheme": "https"},
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        access = access_of(request)
        readable = None if access.unrestricted else access.layer_scope("")
        return articles_with_stage(super().get_queryset(request)).annotate(
            layer_count=count_of(Layer, "article", readable)
        )

    @admin.display(description="stage", ordering="stage")
    def stage_column(self, obj: Article) -> str:
        """assigned → annotated by k → adjudicated, with the done count against the overlap."""
        stage = obj.stage  # type: ignore[attr-defined]
        done, overlap = obj.annotators_done, obj.project.overlap  # type: ignore[attr-defined]
        if stage in (Stage.ASSIGNED, Stage.ANNOTATED):
            return format_html('<span class="wb-stage wb-stage-{}">{} ({}/{} done)</span>', stage, stage, done, overlap)
        return format_html('<span class="wb-stage wb-stage-{}">{}</span>', stage, stage)

    @admin.action(description="Pre-annotate the selected articles")
    def preannotate_articles(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        by_project: dict[int, list[int]] = {}
        for article_id, project_id in queryset.order_by("id").values_list("id", "project_id"):
            by_project.setdefault(project_id, []).append(article_id)
        for project in managed_only(request, Project.objects.filter(pk__in=by_project), "start pre-annotation"):
            start_preannotation(request, project, by_project[project.pk])

    @admin.action(description="Assign to annotators (overlap k)")
    def assign_to_annotators(self, request: HttpRequest, queryset: QuerySet[Article]) -> Any:
        return assign_action(request, queryset, "articles")

    def get_fieldsets(self, request: HttpRequest, obj: Article | None = None) -> Any:
        if obj is None:
            return (
                (None, {"fields": ("project", "title", "source", "url", "published", "language")}),
                ("Text", {"fields": ("text",), "description": "The text can't be changed once the article is saved."}),
                ("Metadata", {"fields": ("metadata",)}),
            )
        return (
            (None, {"fields": ("project", "title", "source", "url", "published", "language")}),
            ("Text", {"fields": ("text_block", "content_hash")}),
            ("Provenance", {"fields": ("metadata", "imported_from", "created_at")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Offsets of every annotation point into the text, and layers follow the project's
        # schema: neither may change after import.
        return ("project", "text_block", "content_hash", "imported_from", "created_at")

    @admin.display(description="layers", ordering="layer_count")
    def layer_count(self, obj: Article) -> int:
        return obj.layer_count  # type: ignore[attr-defined]

    @admin.display(description="text")
    def text_block(self, obj: Article) -> str:
        return format_html(
            '<pre class="wb-pre wb-article-text">{}</pre><p class="wb-muted">{} characters</p>',
            obj.text,
            f"{len(obj.text):,}",
        )


# --- Layers and annotations -----------------------------------------------------------------


class MentionInline(ReadOnlyInline):
    model = Mention
    fields = ("start", "end", "label", "text", "actor", "score")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mention]:
        return super().get_queryset(request).select_related("actor")


def argument_summary(event: Event) -> str:
    """Role: quoted mention, one per line; expects `arguments__mention` to be prefetched."""
    arguments = event.arguments.all()
    if not arguments:
        return "—"
    return format_html_join("", "<div>{}: {}</div>", ((a.role, a.mention.text) for a in arguments))


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("event_type", "trigger_start", "trigger_end", "trigger_text", "mode", "realis", "arguments", "score")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("arguments", queryset=EventArgument.objects.select_related("mention")))
        )

    @admin.display(description="arguments")
    def arguments(self, obj: Event) -> str:
        return argument_summary(obj)


def stance_holder(obj: Stance) -> str:
    return obj.holder.text if obj.holder_id else "author / outlet"


def stance_target(obj: Stance) -> str:
    if obj.target_id:
        return obj.target.text
    return str(obj.target_actor) if obj.target_actor_id else "—"


class StanceInline(ReadOnlyInline):
    model = Stance
    fields = ("holder_text", "label", "target_text", "scope", "evidence_text", "score")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Stance]:
        return super().get_queryset(request).select_related("holder", "target", "target_actor")

    @admin.display(description="holder")
    def holder_text(self, obj: Stance) -> str:
        return stance_holder(obj)

    @admin.display(description="target")
    def target_text(self, obj: Stance) -> str:
        return stance_target(obj)


@admin.register(Layer)
class LayerAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "article",
        "kind",
        "annotator",
        "model_version",
        "status",
        "version",
        "mention_count",
        "event_count",
        "stance_count",
        "updated_at",
    )
    list_filter = ("kind", "status", ("article__project", ProjectFilter))
    search_fields = ("article__title", "annotator__username", "model_version")
    list_select_related = ("article", "annotator")
    list_defer = ("article__text", "article__metadata")
    inlines = (MentionInline, EventInline, StanceInline)
    fields = (
        "article_link",
        "kind",
        "annotator",
        "model_version",
        "status",
        "version",
        "adjudicated_by",
        "adjudicated_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("article_link",)
    layer_prefix = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Layer]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                mention_count=count_of(Mention, "layer"),
                event_count=count_of(Event, "layer"),
                stance_count=count_of(Stance, "layer"),
            )
        )

    @admin.display(description="article")
    def article_link(self, obj: Layer) -> str:
        return admin_link(obj.article)

    @admin.display(description="mentions", ordering="mention_count")
    def mention_count(self, obj: Layer) -> int:
        return obj.mention_count  # type: ignore[attr-defined]

    @admin.display(description="events", ordering="event_count")
    def event_count(self, obj: Layer) -> int:
        return obj.event_count  # type: ignore[attr-defined]

    @admin.display(description="stances", ordering="stance_count")
    def stance_count(self, obj: Layer) -> int:
        return obj.stance_count  # type: ignore[attr-defined]


class LayerItemColumns:
    """List columns shared by the admins of a layer's items (mentions, events, stances)."""

    @admin.display(description="layer", ordering="layer__kind")
    def layer_kind(self, obj: Any) -> str:
        return obj.layer.get_kind_display()

    @admin.display(description="article", ordering="layer__article__title")
    def article(self, obj: Any) -> Article:
        return obj.layer.article

    @admin.display(description="layer")
    def layer_link(self, obj: Any) -> str:
        return admin_link(obj.layer)


class MentionAdminForm(forms.ModelForm):
    class Meta:
        model = Mention
        fields = ("label", "start", "end", "actor")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors or self.instance.pk is None:
            return cleaned
        # The same checks as the annotate view (label in the schema, span in the text, roles
        # the mention fills still accept its label), by dry-running the service.
        current = Mention.objects.select_related("layer__article__project").get(pk=self.instance.pk)
        add_service_errors(
            self,
            lambda: mention_update(
                mention=current,
                label=cleaned["label"],
                start=cleaned["start"],
                end=cleaned["end"],
                actor=cleaned.get("actor"),
            ),
        )
        return cleaned

    def _post_clean(self) -> None:
        # When the service has named the problem, the model's generic constraint message
        # ("Constraint … is violated") would only repeat it.
        if self._errors:
            return
        super()._post_clean()


@admin.register(Mention)
class MentionAdmin(LayerItemColumns, ProjectScopedAdmin):
    form = MentionAdminForm
    list_display = ("text", "label", "start", "end", "layer_kind", "article", "actor", "score")
    list_filter = ("label", "layer__kind", ("layer__article__project", ProjectFilter))
    search_fields = ("text", "actor__name")
    list_select_related = ("layer__article", "actor")
    list_defer = ("layer__article__text", "layer__article__metadata")
    autocomplete_fields = ("actor",)
    fields = ("layer_link", "label", "start", "end", "text", "in_context", "actor", "score", "created_at")
    readonly_fields = ("layer_link", "text", "in_context", "score", "created_at")
    layer_prefix = "layer__"
    item_writes = True
    write_roles = CAN_ANNOTATE

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # mentions are made in the annotate view, by the API and by pre-annotation

    @admin.display(description="in context")
    def in_context(self, obj: Mention) -> str:
        text = obj.layer.article.text
        return format_html(
            '<span class="wb-context">…{}<mark>{}</mark>{}…</span>',
            text[max(0, obj.start - 80) : obj.start],
            text[obj.start : obj.end],
            text[obj.end : obj.end + 80],
        )

    def save_model(self, request: HttpRequest, obj: Mention, form: forms.ModelForm, change: bool) -> None:
        mention_update(mention=obj, label=obj.label, start=obj.start, end=obj.end, actor=obj.actor)

    def delete_model(self, request: HttpRequest, obj: Mention) -> None:
        mention_delete(mention=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Mention]) -> None:
        for mention in queryset.select_related("layer"):
            mention_delete(mention=mention)


class EventArgumentInline(ReadOnlyInline):
    model = EventArgument
    fields = ("role", "mention_link", "mention_label")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventArgument]:
        return super().get_queryset(request).select_related("mention")

    @admin.display(description="mention")
    def mention_link(self, obj: EventArgument) -> str:
        return admin_link(obj.mention, obj.mention.text)

    @admin.display(description="label")
    def mention_label(self, obj: EventArgument) -> str:
        return obj.mention.label


@admin.register(Event)
class EventAdmin(LayerItemColumns, ReadOnlyAdmin):
    list_display = (
        "event_type",
        "trigger_text",
        "mode",
        "realis",
        "argument_count",
        "layer_kind",
        "article",
        "score",
        "created_at",
    )
    list_filter = ("event_type", "realis", "layer__kind", ("layer__article__project", ProjectFilter))
    search_fields = ("trigger_text", "layer__article__title")
    list_select_related = ("layer__article",)
    list_defer = ("layer__article__text", "layer__article__metadata")
    inlines = (EventArgumentInline,)
    fields = (
        "layer_link",
        "event_type",
        "trigger_start",
        "trigger_end",
        "trigger_text",
        "mode",
        "realis",
        "contexts",
        "score",
        "created_at",
    )
    readonly_fields = ("layer_link",)
    layer_prefix = "layer__"
    item_writes = True
    write_roles = CAN_ANNOTATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).annotate(argument_count=count_of(EventArgument, "event"))

    @admin.display(description="arguments", ordering="argument_count")
    def argument_count(self, obj: Event) -> int:
        return obj.argument_count  # type: ignore[attr-defined]

    def delete_model(self, request: HttpRequest, obj: Event) -> None:
        event_delete(event=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Event]) -> None:
        for event in queryset.select_related("layer"):
            event_delete(event=event)


@admin.register(EventArgument)
class EventArgumentAdmin(ReadOnlyAdmin):
    list_display = ("event", "role", "mention", "layer")
    list_filter = ("role", ("event__event_type", ScopedValuesFilter))
    search_fields = ("mention__text", "event__trigger_text")
    list_select_related = ("event", "mention")
    layer_prefix = "event__layer__"
    item_writes = True
    write_roles = CAN_ANNOTATE

    def delete_model(self, request: HttpRequest, obj: EventArgument) -> None:
        # An argument is part of its event: the event is saved again without it, through the
        # service (role cardinality, layer version).
        event_update(
            event=obj.event, arguments=[(a.role, a.mention_id) for a in obj.event.arguments.exclude(pk=obj.pk)]
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EventArgument]) -> None:
        for argument in queryset.select_related("event__layer"):
            self.delete_model(request, argument)

    @admin.display(description="layer", ordering="event__layer_id")
    def layer(self, obj: EventArgument) -> int:
        return obj.event.layer_id


@admin.register(Stance)
class StanceAdmin(LayerItemColumns, ReadOnlyAdmin):
    list_display = ("holder_text", "label", "target_text", "scope", "evidence", "layer_kind", "article", "score")
    list_filter = ("label", "scope", "layer__kind", ("layer__article__project", ProjectFilter))
    search_fields = ("evidence_text", "holder__text", "target__text", "target_actor__name")
    list_select_related = ("holder", "target", "target_actor", "layer__article")
    list_defer = ("layer__article__text", "layer__article__metadata")
    fields = (
        "layer_link",
        "holder",
        "label",
        "target",
        "target_actor",
        "scope",
        "evidence_start",
        "evidence_end",
        "evidence_text",
        "score",
        "created_at",
    )
    readonly_fields = ("layer_link",)
    layer_prefix = "layer__"
    item_writes = True
    write_roles = CAN_ANNOTATE

    @admin.display(description="holder")
    def holder_text(self, obj: Stance) -> str:
        return stance_holder(obj)

    @admin.display(description="target")
    def target_text(self, obj: Stance) -> str:
        return stance_target(obj)

    @admin.display(description="evidence")
    def evidence(self, obj: Stance) -> str:
        text = obj.evidence_text
        return text if len(text) <= 120 else text[:119] + "…"

    def delete_model(self, request: HttpRequest, obj: Stance) -> None:
        stance_delete(stance=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Stance]) -> None:
        for stance in queryset.select_related("layer"):
            stance_delete(stance=stance)


# --- Jobs -----------------------------------------------------------------------------------


def job_duration(job: Job) -> str:
    if job.started_at is None:
        return "—"
    if job.finished_at is None:
        return f"{format_duration(timezone.now() - job.started_at)} so far"
    return format_duration(job.finished_at - job.started_at)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "project",
        "status_badge",
        "progress",
        "counts_text",
        "model_version",
        "created_at",
        "duration",
    )
    list_filter = ("kind", "status", ("project", ProjectFilter))
    search_fields = ("model_version", "error")
    list_select_related = ("project",)
    list_defer = ("log", "params", "project__label_schema", "project__guidelines", "project__description")
    fieldsets = (
        (None, {"fields": ("kind", "project", "status_badge", "progress", "counts_text", "chunks", "model_version")}),
        ("Timing", {"fields": ("created_by", "created_at", "started_at", "finished_at", "duration")}),
        ("Parameters", {"fields": ("params",)}),
        ("Log", {"fields": ("error_block", "log_block")}),
    )
    readonly_fields = ("status_badge", "progress", "counts_text", "chunks", "duration", "error_block", "log_block")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk delete would also take pending and running jobs away from their workers.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        if obj is not None and obj.status in ACTIVE_JOB_STATUSES:
            return False  # a worker is (or will be) writing to it
        return super().has_delete_permission(request, obj)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # The change-list template reloads the page while a job is pending or running.
        context = {"has_active_jobs": self.get_queryset(request).filter(status__in=ACTIVE_JOB_STATUSES).exists()}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Job) -> str:
        return format_html('<span class="wb-status wb-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="progress")
    def progress(self, obj: Job) -> str:
        return progress_bar(obj.done, obj.total, obj.status)

    @admin.display(description="counts")
    def counts_text(self, obj: Job) -> str:
        return counts_summary(obj.counts)

    @admin.display(description="duration")
    def duration(self, obj: Job) -> str:
        return job_duration(obj)

    @admin.display(description="chunks")
    def chunks(self, obj: Job) -> str:
        totals = obj.chunks.aggregate(total=Count("pk"), done=Count("pk", filter=models.Q(done=True)))
        if not totals["total"]:
            return "—"
        url = reverse("admin:annotations_jobchunk_changelist") + f"?job__id__exact={obj.pk}"
        return format_html('<a href="{}">{} of {} done</a>', url, totals["done"], totals["total"])

    @admin.display(description="error")
    def error_block(self, obj: Job) -> str:
        return pre_block(obj.error)

    @admin.display(description="log")
    def log_block(self, obj: Job) -> str:
        return pre_block(obj.log)


@admin.register(JobChunk)
class JobChunkAdmin(ReadOnlyAdmin):
    list_display = ("job", "index", "article_count", "done", "attempts", "counts_text", "finished_at")
    list_filter = ("done", "job__kind", "job__status")
    search_fields = ("job__id",)
    list_select_related = ("job",)
    project_path = "job__project"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: JobChunk | None = None) -> bool:
        # Progress is counted per chunk: only chunks of finished jobs may go (with their job).
        if obj is not None and obj.job.status in ACTIVE_JOB_STATUSES:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="articles")
    def article_count(self, obj: JobChunk) -> int:
        return len(obj.article_ids) if isinstance(obj.article_ids, list) else 0

    @admin.display(description="counts")
    def counts_text(self, obj: JobChunk) -> str:
        return counts_summary(obj.counts)


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(ReadOnlyAdmin):
    """Learning records: what annotators did with machine suggestions."""

    list_display = ("created_at", "user", "decision", "item_kind", "label", "model_version", "layer")
    list_filter = ("decision", "item_kind", "label", ("layer__article__project", ProjectFilter))
    search_fields = ("user__username", "label", "model_version")
    list_select_related = ("user", "layer__annotator")
    date_hierarchy = "created_at"
    layer_prefix = "layer__"


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    """Immutable stored exports."""

    list_display = ("name", "project", "format", "size", "sha256", "created_by", "created_at")
    list_filter = (("project", ProjectFilter), "format")
    search_fields = ("name", "sha256")
    list_select_related = ("project", "created_by")
    list_defer = ("project__label_schema", "project__guidelines", "project__description")
    read_roles = CAN_EXPORT


# --- API tokens: superusers only --------------------------------------------------------------

# DRF's token admin lists every account's API key to any staff user with its model permissions;
# a token is a password for the API, of any project, so only superusers see or make them here.
# (Everyone gets their own from `python manage.py drf_create_token` or the demo's printout.)
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class SuperuserTokenAdmin(TokenAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)


# --- The annotator workspace (My queue, the annotate page): admin URLs, admin login and look ---

_admin_get_urls = admin.site.get_urls
admin.site.get_urls = lambda: workspace_urls(admin.site) + agreement_urls(admin.site) + _admin_get_urls()  # type: ignore[method-assign]

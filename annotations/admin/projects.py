"""Projects, their members, and the shared registry of actors."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from annotations.access import (
    MANAGER,
    authenticated_user,
)
from annotations.admin.assign import assign_action
from annotations.admin.base import (
    ProjectScopedAdmin,
    WorkbenchAdmin,
    access_of,
    adopt,
    count_of,
    forget_access,
    managed_only,
    start_preannotation,
)
from annotations.admin.display import render_schema_summary
from annotations.admin.events import link_events_action
from annotations.admin.filters import ProjectFilter
from annotations.admin.forms import ActorAdminForm, MembershipAdminForm, ProjectAdminForm
from annotations.admin.registry import active_pipeline_html
from annotations.models import (
    Actor,
    Article,
    Membership,
    Mention,
    Project,
)
from annotations.schema import load_default_schema
from annotations.services.actors import actor_delete, actor_save
from annotations.services.projects import (
    membership_delete,
    membership_set,
    membership_update,
    project_create,
    project_delete,
    project_update,
)


class MembershipInline(admin.TabularInline):
    """A project's members. No rules of its own: Django shows a project's inlines read-only unless
    the project may be changed (by its managers), and a new project's creator adds its first members."""

    model = Membership
    form = MembershipAdminForm
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
    readonly_fields = (
        "schema_version",
        "schema_summary",
        "articles_link",
        "active_pipeline",
        "created_at",
        "updated_at",
    )
    actions = ("preannotate_projects", "assign_to_annotators", "link_events")
    project_path = "pk"
    add_roles = None  # whoever may add a project becomes its manager

    @admin.action(description="Pre-annotate all articles of the selected projects")
    def preannotate_projects(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in managed_only(request, queryset, "start pre-annotation"):
            start_preannotation(request, project, None)

    @admin.action(description="Assign to annotators (overlap k)")
    def assign_to_annotators(self, request: HttpRequest, queryset: QuerySet[Project]) -> Any:
        return assign_action(request, Article.objects.filter(project__in=queryset), "projects")

    @admin.display(description="what pre-annotation runs")
    def active_pipeline(self, obj: Project) -> SafeString:
        url = reverse("admin:annotations_trainedmodel_changelist") + f"?project__id__exact={obj.pk}"
        return format_html(
            '{}<p><a href="{}">Trained models and the gate\'s decisions</a></p>', active_pipeline_html(obj), url
        )

    @admin.action(description="Link events across articles (gold layers)")
    def link_events(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        link_events_action(request, queryset)

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
            (
                "Learning loop",
                {
                    "fields": (
                        "active_pipeline",
                        "queue_order",
                        "retrain_after",
                        "train_min_articles",
                        "train_min_events",
                    )
                },
            ),
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
            created = project_create(
                slug=obj.slug,
                name=obj.name,
                label_schema=obj.label_schema,
                merge_strategy=obj.merge_strategy,
                guidelines=obj.guidelines,
                overlap=obj.overlap,
                description=obj.description,
            )
            adopt(obj, created)
            return
        project_update(project=obj, changes={name: getattr(obj, name) for name in form.changed_data})

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # The member list, row by row through the membership services.
        memberships = formset.save(commit=False)
        for gone in formset.deleted_objects:
            membership_delete(membership=gone)
        for membership in memberships:
            if membership.pk is None:
                saved = membership_set(project=form.instance, user=membership.user, role=membership.role)
            else:
                saved = membership_update(
                    membership=membership, project=form.instance, user=membership.user, role=membership.role
                )
            adopt(membership, saved)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not access_of(request).unrestricted:
            # Whoever creates a project manages it (after the members added with it: it may be among them).
            membership_set(project=form.instance, user=authenticated_user(request), role=MANAGER)
        forget_access(request)  # the members may include the user

    def delete_model(self, request: HttpRequest, obj: Project) -> None:
        project_delete(project=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in queryset:
            project_delete(project=project)


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", ("project", ProjectFilter))
    search_fields = ("user__username", "user__email", "project__slug", "project__name")
    list_select_related = ("user", "project")
    autocomplete_fields = ("user", "project")
    form = MembershipAdminForm

    # The user's own memberships may be among those changed: their roles are read again.

    def save_model(self, request: HttpRequest, obj: Membership, form: forms.ModelForm, change: bool) -> None:
        if change:
            saved = membership_update(membership=obj, project=obj.project, user=obj.user, role=obj.role)
        else:
            saved = membership_set(project=obj.project, user=obj.user, role=obj.role)
        adopt(obj, saved)
        forget_access(request)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_delete(membership=obj)
        forget_access(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset:
            membership_delete(membership=membership)
        forget_access(request)


# --- Actors ---------------------------------------------------------------------------------


ACTOR_FIELDS = ("name", "kind", "aliases", "country", "sector", "wikidata_id", "description")


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

    def save_model(self, request: HttpRequest, obj: Actor, form: forms.ModelForm, change: bool) -> None:
        fields = {name: form.cleaned_data.get(name, getattr(obj, name)) for name in ACTOR_FIELDS}
        saved = actor_save(actor=Actor.objects.get(pk=obj.pk) if change else None, **fields)
        adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Actor) -> None:
        actor_delete(actor=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Actor]) -> None:
        for actor in queryset:
            actor_delete(actor=actor)

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

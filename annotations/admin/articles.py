"""Articles: the list with stages and layer counts, the add form, pre-annotate and assign."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from annotations.admin.assign import assign_action
from annotations.admin.base import (
    ProjectScopedAdmin,
    ReadOnlyInline,
    access_of,
    adopt,
    count_of,
    managed_only,
    start_preannotation,
)
from annotations.admin.display import admin_link
from annotations.admin.events import SourceCheckFilter, published_column, with_source_check
from annotations.admin.filters import LayersFilter, ProjectFilter, StageFilter
from annotations.admin.forms import ArticleAdminForm
from annotations.models import (
    Article,
    Event,
    Layer,
    Mention,
    Project,
    Stance,
)
from annotations.selectors import Stage, articles_with_stage
from annotations.services.articles import ArticleInput, article_delete, article_update, articles_create


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
        "date_check",
        "created_at",
    )
    list_display_links = ("id", "title")
    list_filter = (
        ("project", ProjectFilter),
        "language",
        ("published", admin.DateFieldListFilter),
        LayersFilter,
        StageFilter,
        SourceCheckFilter,
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
        return with_source_check(articles_with_stage(super().get_queryset(request))).annotate(
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

    @admin.display(description="date / source")
    def date_check(self, obj: Article) -> str:
        return published_column(obj)

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

    def save_model(self, request: HttpRequest, obj: Article, form: forms.ModelForm, change: bool) -> None:
        if change:
            article_update(
                article=obj,
                title=obj.title,
                source=obj.source,
                url=obj.url,
                published=obj.published,
                language=obj.language,
                metadata=obj.metadata,
            )
            return
        # Through the import service, as every import path: the article gets its story key (the
        # story of other outlets' reports of the same event), hence its story's export split.
        article = ArticleInput(
            title=obj.title,
            text=obj.text,
            source=obj.source,
            url=obj.url,
            published=obj.published,
            language=obj.language,
            metadata=obj.metadata,
        )
        result = articles_create(project=obj.project, articles=[article])
        if not result.imported:  # stored by someone else since the form checked it
            raise ValidationError({"text": ["an article of this project with the same text was just stored"]})
        adopt(obj, result.imported[0])

    def delete_model(self, request: HttpRequest, obj: Article) -> None:
        article_delete(article=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        for article in queryset.only("pk"):
            article_delete(article=article)

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

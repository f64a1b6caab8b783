"""Change-list filters that list only what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from annotations.admin.base import access_of
from annotations.models import (
    Article,
    Layer,
)
from annotations.selectors import Stage

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from annotations.selectors import StagedArticle


class ProjectFilter(admin.RelatedFieldListFilter):
    """A project filter listing only the user's projects."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, StrOrPromise]]:
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
        stage = self.value()
        if stage is None or stage not in Stage.ALL:
            return queryset
        staged = cast("QuerySet[StagedArticle]", queryset)  # ArticleAdmin.get_queryset annotates the stage
        return staged.filter(stage=stage)

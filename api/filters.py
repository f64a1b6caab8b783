"""Article list filters. A malformed value answers 400 naming the parameter.

- `status=not_started|in_progress|done|adjudicated` — the layer status that matters to the
  reader: `adjudicated` matches articles whose gold layer is adjudicated; the others match
  articles with an annotator layer in that status, and `not_started` also articles without one.
  The layer looked at is the one by `annotator` when that is given, else (for an annotator) the
  requesting user's own layer, else any annotator's layer.
- `annotator=<username>` — articles with an annotator layer by that user, among the users whose
  layers the reader may read (an annotator: only themselves); any other name is a 400, the same
  for a name that doesn't exist.
- `q=<text>` — full-text search in title and text (PostgreSQL: `websearch` syntax with English
  stemming; SQLite: case-insensitive substring).
- `mention_text=`, `label=`, `event_type=`, `incomplete=true|false` — what the searched layers hold:
  a mention covering that text, a mention of that entity type, an event of that type, an event
  missing a required role (roles marked not stated count as filled). The searched layers are the
  `annotator`'s when given, else (for an annotator) the requesting user's own, else every
  annotator and gold layer (never the machine suggestions). See `annotations.search`.
- `has_gold=true|false` — articles with (without) a gold layer.
- `stage=unassigned|assigned|annotated|adjudicated` — where the article is in the review flow
  (see `annotations.review`): annotated means at least overlap k annotator layers are done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from annotations.models import Article, Layer, Membership, Project
from annotations.search import SEARCH_PARAMETERS, ArticleSearch, articles_search
from annotations.selectors import Stage, articles_with_stage
from api.permissions import annotators_readable, role_in

if TYPE_CHECKING:
    from annotations.selectors import StagedArticle

STATUS_VALUES = ", ".join(Layer.Status.values)
STAGE_VALUES = ", ".join(Stage.ALL)


@extend_schema_field(OpenApiTypes.STR)
class UsernameFilter(django_filters.ModelChoiceFilter):
    """A user by username (documented as a string)."""


class ArticleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Layer.Status.choices,
        error_messages={"invalid_choice": f"unknown layer status %(value)r; allowed: {STATUS_VALUES}"},
        help_text="adjudicated: the gold layer is adjudicated; otherwise the annotator layer (the one by "
        "`annotator`, else your own if you are an annotator, else any) is in this status "
        "(not_started also matches articles without such a layer).",
    )
    annotator = UsernameFilter(
        queryset=get_user_model().objects.none(),  # per request: `annotators_readable`
        to_field_name="username",
        error_messages={"invalid_choice": "no annotator %(value)r whose layers you may read in this project"},
        help_text="Username: articles with an annotator layer by this user. Annotators may name only themselves; "
        "an unknown name and one whose layers you may not read answer the same 400.",
    )
    q = django_filters.CharFilter(
        help_text="Full-text search in the title and the text (PostgreSQL: web search syntax (words, "
        "a quoted phrase, -word, or) with English stemming; SQLite: case-insensitive substring)."
    )
    mention_text = django_filters.CharFilter(
        help_text="Articles with a mention whose text contains this (case-insensitive), in the searched layers."
    )
    label = django_filters.CharFilter(help_text="Articles with a mention of this entity type in the searched layers.")
    event_type = django_filters.CharFilter(help_text="Articles with an event of this type in the searched layers.")
    incomplete = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        error_messages={"invalid_choice": "must be true or false, not %(value)r"},
        help_text="true: articles whose searched layers hold an event missing a required role (a role marked "
        "not stated counts as filled); false: those without. Searched layers: the `annotator`'s, else "
        "your own if you are an annotator, else every annotator and gold layer.",
    )
    has_gold = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        error_messages={"invalid_choice": "must be true or false, not %(value)r"},
        help_text="true: only articles with a gold layer; false: only those without.",
    )

    stage = django_filters.ChoiceFilter(
        choices=[(stage, stage) for stage in Stage.ALL],
        error_messages={"invalid_choice": f"unknown stage %(value)r; allowed: {STAGE_VALUES}"},
        help_text="unassigned, assigned, annotated (at least overlap k annotator layers done, not adjudicated) "
        "or adjudicated (the gold layer is).",
    )

    class Meta:
        model = Article
        fields: list[str] = []

    def __init__(self, *args: Any, project: Project | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.project = project
        if project is not None and self.request is not None:
            role = role_in(self.request, project)
            self.filters["annotator"].queryset = annotators_readable(self.request.user, role, project)

    def filter_queryset(self, queryset: QuerySet[Article]) -> QuerySet[Article]:
        data: dict[str, Any] = self.form.cleaned_data
        layers = Layer.objects.filter(article=OuterRef("pk"))
        if data.get("stage"):
            if "stage" in queryset.query.annotations:  # the view's queryset: annotated already
                staged = cast("QuerySet[StagedArticle]", queryset)
            else:
                staged = articles_with_stage(queryset)
            queryset = staged.filter(stage=data["stage"])
        if data.get("has_gold"):
            gold = Exists(layers.filter(kind=Layer.Kind.GOLD))
            queryset = queryset.filter(gold if data["has_gold"] == "true" else ~gold)
        annotator = data.get("annotator")
        own = layers.filter(kind=Layer.Kind.ANNOTATOR)
        if annotator is not None:
            own = own.filter(annotator=annotator)
            queryset = queryset.filter(Exists(own))
        status = data.get("status")
        if status == Layer.Status.ADJUDICATED:
            queryset = queryset.filter(Exists(layers.filter(kind=Layer.Kind.GOLD, status=status)))
        elif status:
            if annotator is None and self._reader_is_annotator():
                own = own.filter(annotator=self.request.user)
            condition: Combinable | Q = Exists(own.filter(status=status))
            if status == Layer.Status.NOT_STARTED:
                condition |= ~Exists(own)
            queryset = queryset.filter(condition)
        search = ArticleSearch.from_query({name: data.get(name) or "" for name in SEARCH_PARAMETERS})
        if search:
            queryset = articles_search(queryset, search, layers=self._searched_layers(annotator))
        return queryset

    def _searched_layers(self, annotator: Any) -> QuerySet[Layer]:
        layers = Layer.objects.filter(kind__in=(Layer.Kind.ANNOTATOR, Layer.Kind.GOLD))
        if self.project is not None:
            layers = layers.filter(article__project=self.project)
        if annotator is not None:
            return layers.filter(kind=Layer.Kind.ANNOTATOR, annotator=annotator)
        if self._reader_is_annotator():
            return layers.filter(kind=Layer.Kind.ANNOTATOR, annotator_id=self.request.user.pk)
        return layers

    def _reader_is_annotator(self) -> bool:
        return self.project is not None and role_in(self.request, self.project) == Membership.Role.ANNOTATOR


class ProjectFilterBackend(DjangoFilterBackend):
    """django-filter's backend, handing the view's project to the filter set."""

    def get_filterset_kwargs(self, request: Any, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["project"] = view.get_project()
        return kwargs

"""Layers and what is in them: mentions, events and their arguments, stances, and the
suggestion decisions taken on them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from annotations.access import (
    CAN_ANNOTATE,
)
from annotations.admin.base import ProjectScopedAdmin, ReadOnlyAdmin, ReadOnlyInline, count_of
from annotations.admin.display import admin_link, argument_summary, stance_holder, stance_target
from annotations.admin.filters import ProjectFilter, ScopedValuesFilter
from annotations.admin.forms import MentionAdminForm
from annotations.models import (
    Article,
    Event,
    EventArgument,
    Layer,
    Mention,
    Stance,
    SuggestionDecision,
)
from annotations.services.items import event_delete, event_update, mention_delete, mention_update, stance_delete
from annotations.services.layers import layer_delete


class MentionInline(ReadOnlyInline):
    model = Mention
    fields = ("start", "end", "label", "text", "actor", "score")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mention]:
        return super().get_queryset(request).select_related("actor")


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

    def delete_model(self, request: HttpRequest, obj: Layer) -> None:
        layer_delete(layer=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Layer]) -> None:
        for layer in queryset.only("pk"):
            layer_delete(layer=layer)

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


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(ReadOnlyAdmin):
    """Learning records: what annotators did with machine suggestions."""

    list_display = ("created_at", "user", "decision", "item_kind", "label", "model_version", "layer")
    list_filter = ("decision", "item_kind", "label", ("layer__article__project", ProjectFilter))
    search_fields = ("user__username", "label", "model_version")
    list_select_related = ("user", "layer__annotator")
    date_hierarchy = "created_at"
    layer_prefix = "layer__"

"""One layer (read it whole, change its status) and its items: mentions, events, stances.

Every write names the layer version it read (409 when stale) and goes through the services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.errors import with_article
from annotations.models import Event, Layer, Mention, Stance
from annotations.review import Strategy, provenance
from annotations.services.items import (
    event_create,
    event_delete,
    event_update,
    mention_create,
    mention_delete,
    mention_update,
    stance_create,
    stance_delete,
    stance_update,
)
from annotations.services.layers import layer_set_status
from annotations.services.suggestions import suggestion_settle_matching
from api.permissions import check_layer_read, check_layer_write
from api.serializers.layers import (
    EventCreateInput,
    EventOutput,
    EventUpdateInput,
    EventWriteOutput,
    LayerDetailOutput,
    LayerOutput,
    LayerStatusInput,
    LayerVersionOutput,
    MentionCreateInput,
    MentionOutput,
    MentionUpdateInput,
    MentionWriteOutput,
    StanceCreateInput,
    StanceOutput,
    StanceUpdateInput,
    StanceWriteOutput,
    VersionInput,
)
from api.views.base import LAYER_ID, SLUG, ProjectScopedMixin, error_responses, layer_in, validated


class LayerView(ProjectScopedMixin, APIView):
    """One layer: read it whole, or change its status."""

    @extend_schema(
        summary="A layer with its mentions, events (with arguments) and stances",
        description="Annotators may read their own layers and the machine layers (suggestions); "
        "reviewers, managers and consumers every layer.",
        parameters=[SLUG, LAYER_ID],
        responses={200: LayerDetailOutput, **error_responses(403)},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk, detail=True)
        check_layer_read(request, project, layer)
        return Response(LayerDetailOutput(layer).data)

    @extend_schema(
        summary="Change the layer's status (done needs every event complete; adjudicated: gold only)",
        parameters=[SLUG, LAYER_ID],
        request=LayerStatusInput,
        responses={200: LayerOutput, **error_responses(400, 403, 409)},
    )
    def patch(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk)
        check_layer_write(request, project, layer)
        data = validated(LayerStatusInput, request.data)
        layer = layer_set_status(layer=layer, status=data["status"], expected_version=data["version"], by=self.user)
        return Response(LayerOutput(layer).data)


# --- Mentions, events, stances --------------------------------------------------------------

ITEM_PARAMETERS = [
    SLUG,
    OpenApiParameter("layer_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Layer id."),
]
DELETE_VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description="The layer version you read (required: here or as `version` in a JSON body).",
)


class LayerItemViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """Create, change and delete one kind of annotation of a layer; every write carries `version`."""

    related_name: str  # Layer → items
    output_class: type[serializers.Serializer]
    write_output_class: type[serializers.Serializer]
    create_input: type[serializers.Serializer]
    update_input: type[serializers.Serializer]
    model: type[Model]
    pagination_class = None
    _layer: Layer | None = None

    def get_layer(self) -> Layer:
        if self._layer is None:
            self._layer = layer_in(self.get_project(), self.kwargs["layer_id"])
        return self._layer

    def get_queryset(self) -> QuerySet[Any]:
        if self.schema_only:
            return self.model.objects.none()  # type: ignore[attr-defined]
        # Through the layer's related manager, so each item's .layer is this (loaded) layer.
        return getattr(self.get_layer(), self.related_name).all()

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return self.output_class

    def get_item(self) -> Any:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def provenance(self, layer: Layer) -> dict[str, Any] | None:
        """A gold item written directly is recorded as the reviewer's manual work."""
        return provenance(Strategy.MANUAL, reviewer=self.user) if layer.kind == Layer.Kind.GOLD else None

    def list(self, request: Request, **kwargs: Any) -> Response:
        check_layer_read(request, self.get_project(), self.get_layer())
        return Response(self.output_class(self.get_queryset(), many=True).data)

    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        check_layer_read(request, self.get_project(), self.get_layer())
        return Response(self.output_class(self.get_item()).data)

    def create(self, request: Request, **kwargs: Any) -> Response:
        layer = self.get_layer()
        check_layer_write(request, self.get_project(), layer)
        data = validated(self.create_input, request.data)
        item = self.perform_create(layer, data)
        # A hand-made item that matches a suggestion settles it (recorded as a correction).
        suggestion_settle_matching(layer=layer, user=request.user, item=item)
        return Response(self.write_output_class(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        check_layer_write(request, self.get_project(), self.get_layer())
        item = self.get_item()
        data = validated(self.update_input, request.data)
        item = self.perform_update(item, data)
        return Response(self.write_output_class(item).data)

    def destroy(self, request: Request, **kwargs: Any) -> Response:
        layer = self.get_layer()
        check_layer_write(request, self.get_project(), layer)
        item = self.get_item()
        body = request.data if hasattr(request.data, "get") else {}
        version = body.get("version", request.query_params.get("version"))
        data = validated(VersionInput, {} if version is None else {"version": version})
        self.perform_destroy(item, data["version"])
        return Response(LayerVersionOutput({"layer_version": layer.version}).data)

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def perform_update(self, item: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def perform_destroy(self, item: Any, version: int) -> None:
        raise NotImplementedError


def item_schema(
    name: str,
    output: type[serializers.Serializer],
    write_output: type[serializers.Serializer],
    create_input: type[serializers.Serializer],
    update_input: type[serializers.Serializer],
) -> Any:
    return extend_schema_view(
        list=extend_schema(
            summary=f"The {name}s of a layer",
            parameters=ITEM_PARAMETERS,
            responses={200: output(many=True), **error_responses(403)},
        ),
        retrieve=extend_schema(
            summary=f"One {name} of a layer",
            parameters=ITEM_PARAMETERS,
            responses={200: output, **error_responses(403)},
        ),
        create=extend_schema(
            summary=f"Add {with_article(name)} to a layer (validated against the text and the label schema)",
            parameters=ITEM_PARAMETERS,
            request=create_input,
            responses={201: write_output, **error_responses(400, 403, 409)},
        ),
        partial_update=extend_schema(
            summary=f"Change {with_article(name)}",
            parameters=ITEM_PARAMETERS,
            request=update_input,
            responses={200: write_output, **error_responses(400, 403, 409)},
        ),
        destroy=extend_schema(
            summary=f"Delete {with_article(name)}",
            parameters=[*ITEM_PARAMETERS, DELETE_VERSION],
            request=None,
            responses={200: LayerVersionOutput, **error_responses(400, 403, 409)},
        ),
    )


@item_schema("mention", MentionOutput, MentionWriteOutput, MentionCreateInput, MentionUpdateInput)
class MentionViewSet(LayerItemViewSet):
    related_name = "mentions"
    model = Mention
    output_class = MentionOutput
    write_output_class = MentionWriteOutput
    create_input = MentionCreateInput
    update_input = MentionUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("actor")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Mention:
        return mention_create(
            layer=layer,
            label=data["label"],
            start=data["start"],
            end=data["end"],
            text=data.get("text"),
            actor=data.get("actor"),
            provenance=self.provenance(layer),
            expected_version=data["version"],
        )

    def perform_update(self, item: Mention, data: dict[str, Any]) -> Mention:
        changes = {key: data[key] for key in ("label", "start", "end", "text", "actor") if key in data}
        return mention_update(mention=item, expected_version=data["version"], **changes)

    def perform_destroy(self, item: Mention, version: int) -> None:
        mention_delete(mention=item, expected_version=version)


def argument_pairs(arguments: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(argument["role"], argument["mention"]) for argument in arguments]


@item_schema("event", EventOutput, EventWriteOutput, EventCreateInput, EventUpdateInput)
class EventViewSet(LayerItemViewSet):
    related_name = "events"
    model = Event
    output_class = EventOutput
    write_output_class = EventWriteOutput
    create_input = EventCreateInput
    update_input = EventUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("arguments")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Event:
        return event_create(
            layer=layer,
            event_type=data["event_type"],
            trigger_start=data["trigger_start"],
            trigger_end=data["trigger_end"],
            trigger_text=data.get("trigger_text"),
            mode=data["mode"],
            realis=data["realis"],
            contexts=data["contexts"],
            arguments=argument_pairs(data["arguments"]),
            not_stated=data["not_stated"],
            provenance=self.provenance(layer),
            expected_version=data["version"],
        )

    def perform_update(self, item: Event, data: dict[str, Any]) -> Event:
        changes = {key: data[key] for key in ("event_type", "mode", "realis", "contexts", "not_stated") if key in data}
        if "arguments" in data:
            changes["arguments"] = argument_pairs(data["arguments"])
        event = event_update(event=item, expected_version=data["version"], **changes)
        # Arguments may have been replaced: don't answer with the prefetched ones.
        event._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        return event

    def perform_destroy(self, item: Event, version: int) -> None:
        event_delete(event=item, expected_version=version)


@item_schema("stance", StanceOutput, StanceWriteOutput, StanceCreateInput, StanceUpdateInput)
class StanceViewSet(LayerItemViewSet):
    related_name = "stances"
    model = Stance
    output_class = StanceOutput
    write_output_class = StanceWriteOutput
    create_input = StanceCreateInput
    update_input = StanceUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("target_actor")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Stance:
        return stance_create(
            layer=layer,
            label=data["label"],
            holder_id=data.get("holder"),
            target_id=data.get("target"),
            target_actor=data.get("target_actor"),
            scope=data["scope"],
            evidence_start=data.get("evidence_start"),
            evidence_end=data.get("evidence_end"),
            evidence_text=data.get("evidence_text"),
            provenance=self.provenance(layer),
            expected_version=data["version"],
        )

    def perform_update(self, item: Stance, data: dict[str, Any]) -> Stance:
        renamed = {"holder": "holder_id", "target": "target_id"}
        changes = {
            renamed.get(key, key): data[key]
            for key in (
                "label",
                "holder",
                "target",
                "target_actor",
                "scope",
                "evidence_start",
                "evidence_end",
                "evidence_text",
            )
            if key in data
        }
        return stance_update(stance=item, expected_version=data["version"], **changes)

    def perform_destroy(self, item: Stance, version: int) -> None:
        stance_delete(stance=item, expected_version=version)

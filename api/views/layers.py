"""API views. Views validate and authorise; services in annotations.services change state.

Everything under /api/v1/projects/<slug>/ is scoped to that project: the project is resolved
(404 for non-members) before anything else, then the role is checked (403), then the input
(400), then a service runs (400 naming the field, 409 for a stale layer version). Errors are
turned into responses by api.exception_handler.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import connection
from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import services
from annotations.api_services import (
    SuggestionRef,
    articles_import_jsonl,
    dataset_version_create,
    stance_update,
    suggestions_bulk_decide,
    suggestions_decide,
)
from annotations.exporting import export_request, export_stream
from annotations.models import (
    Article,
    DatasetVersion,
    Event,
    Job,
    Layer,
    Membership,
    Mention,
    Project,
    Stance,
    SuggestionDecision,
)
from annotations.preannotation import preannotation_start
from annotations.review import Strategy, articles_with_stage, gold_open, provenance
from api.filters import ArticleFilter, ProjectFilterBackend
from api.permissions import (
    CAN_ANNOTATE,
    CAN_EXPORT,
    CAN_IMPORT,
    CAN_START_JOBS,
    CAN_WRITE_GOLD,
    check_layer_read,
    check_layer_write,
    layers_readable,
    project_for,
    projects_visible,
    require_role,
    role_in,
)
from api.serializers import layers as s

# --- Shared pieces --------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorOutput(ErrorOutput):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by the field they concern (nested fields as items[0].id).",
    )


class ConflictOutput(ValidationErrorOutput):
    layer = serializers.IntegerField()
    expected_version = serializers.IntegerField()
    current_version = serializers.IntegerField(
        help_text="Reload the layer at this version and apply your change again."
    )


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: OpenApiResponse(ValidationErrorOutput, "Bad input; every message names its field."),
        401: OpenApiResponse(ErrorOutput, "Not authenticated (session or `Authorization: Token …`)."),
        403: OpenApiResponse(ErrorOutput, "Your role in the project does not allow this."),
        404: OpenApiResponse(ErrorOutput, "No such project (or you are not a member), or no such object in it."),
        409: OpenApiResponse(ConflictOutput, "The layer version is stale: nothing was changed."),
    }
    return {code: described[code] for code in (401, 404, *codes)}


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ProjectScopedMixin:
    """Token or session authentication; the URL's project resolved (404 for non-members) first."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]  # token first: 401, not 403
    permission_classes = [IsAuthenticated]
    request: Request
    kwargs: dict[str, Any]
    _project: Project | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if "slug" in kwargs:
            self.get_project()

    def get_project(self) -> Project:
        if self._project is None:
            self._project = project_for(self.request, self.kwargs["slug"])
        return self._project

    @property
    def role(self) -> str | None:
        return role_in(self.request, self.get_project())

    @property
    def schema_only(self) -> bool:
        """drf-spectacular builds the schema with a fake view that has no project."""
        return getattr(self, "swagger_fake_view", False)


class JSONErrorsNegotiation(BaseContentNegotiation):
    """For views that stream files: errors are JSON whatever the Accept header or `?format=` says.

    DRF would read `?format=conll` as a renderer choice (and answer 404), and an `Accept:
    application/zip` as unsatisfiable (406); here `format` is the export format.
    """

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's slug.")


# --- Health ---------------------------------------------------------------------------------


class HealthView(APIView):
    """Liveness of the web process and its database connection."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})
    )
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok", "database": connection.vendor})


# --- Projects -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Your projects (superusers: all)", responses={200: s.ProjectOutput}),
    retrieve=extend_schema(
        summary="A project with its label schema and guidelines",
        responses={200: s.ProjectDetailOutput, **error_responses()},
    ),
)
class ProjectViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Projects you are a member of, with your role; the detail adds the label schema and guidelines."""

    lookup_field = "slug"
    pagination_class = PagePagination

    def get_queryset(self) -> QuerySet[Project]:
        if self.schema_only:
            return Project.objects.none()
        user = self.request.user
        role = Subquery(Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1])
        articles = Article.objects.filter(project=OuterRef("pk")).order_by().values("project").annotate(n=Count("pk"))
        return projects_visible(self.request).annotate(
            role=Value("manager") if user.is_superuser else role,
            article_count=Coalesce(Subquery(articles.values("n")), Value(0), output_field=IntegerField()),
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return s.ProjectDetailOutput if self.action == "retrieve" else s.ProjectOutput


# --- Articles -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Articles of the project, filtered and paginated",
        parameters=[SLUG],
        responses={200: s.ArticleOutput(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary="An article with its text and the layers you may read",
        parameters=[SLUG],
        responses={200: s.ArticleDetailOutput, **error_responses()},
    ),
)
class ArticleViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Articles of a project; each with the layers you may read (loaded for the whole page at once)."""

    filter_backends = [ProjectFilterBackend]
    filterset_class = ArticleFilter
    pagination_class = PagePagination

    def get_queryset(self) -> QuerySet[Article]:
        if self.schema_only:
            return Article.objects.none()
        project = self.get_project()
        layers = layers_readable(
            self.request, project, Layer.objects.select_related("annotator", "adjudicated_by")
        ).order_by("kind", "id")
        gold = Layer.objects.filter(article=OuterRef("pk"), kind=Layer.Kind.GOLD)
        articles = (
            articles_with_stage(Article.objects.filter(project=project))
            .annotate(has_gold=Exists(gold))
            .prefetch_related(Prefetch("layers", queryset=layers, to_attr="visible_layers"))
            .order_by("id")
        )
        return articles.defer("text", "metadata") if self.action == "list" else articles

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return s.ArticleDetailOutput if self.action == "retrieve" else s.ArticleOutput


class JSONLinesParser(BaseParser):
    """A raw JSON Lines body, spooled to disk past FILE_UPLOAD_MAX_MEMORY_SIZE; read as `file`."""

    media_type = "application/x-ndjson"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> DataAndFiles:
        # Not a context manager: the file is the request's data and lives as long as the request.
        spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        if stream is not None:
            shutil.copyfileobj(stream, spool, 64 * 1024)
        spool.seek(0)
        return DataAndFiles({}, {"file": File(spool, name="request body")})


class JSONLParser(JSONLinesParser):
    media_type = "application/jsonl"


class ArticleImportView(ProjectScopedMixin, APIView):
    """Bulk import of articles from JSON Lines through the import service."""

    parser_classes = [MultiPartParser, JSONLinesParser, JSONLParser]

    @extend_schema(
        summary="Import articles from JSON Lines (managers)",
        description="Upload a file as the multipart field `file`, or send the lines as the body with "
        "Content-Type application/x-ndjson. One article per line: title, text, optional source, url, "
        "published, language, metadata. All or nothing: any bad line answers 400 with every problem "
        "as `<file>:<line>: …` under errors.file. Exact duplicates are skipped and listed.",
        parameters=[SLUG],
        request={
            "multipart/form-data": s.ArticleImportInput,
            "application/x-ndjson": OpenApiTypes.BINARY,
            "application/jsonl": OpenApiTypes.BINARY,
        },
        responses={201: s.ArticleImportOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_IMPORT, "Importing articles")
        upload = request.data.get("file")
        if not hasattr(upload, "chunks"):
            raise serializers.ValidationError(
                {"file": ["send a JSON Lines file as the multipart field 'file', or the body as application/x-ndjson"]}
            )
        name = Path(upload.name or "upload.jsonl").name
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload.jsonl"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            result = articles_import_jsonl(project=project, path=path, source_name=name)
        body = {
            "imported": len(result.imported),
            "articles": [article.pk for article in result.imported],
            "duplicates": result.duplicates,
        }
        return Response(s.ArticleImportOutput(body).data, status=status.HTTP_201_CREATED)


# --- Layers ---------------------------------------------------------------------------------

ARTICLE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Article id.")


class ArticleLayersView(ProjectScopedMixin, APIView):
    """The layers of one article."""

    @extend_schema(
        summary="Layers of an article that you may read",
        parameters=[SLUG, ARTICLE_ID],
        responses={200: s.LayerOutput(many=True), **error_responses()},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        article = get_object_or_404(Article.objects.only("pk", "project_id"), pk=pk, project=project)
        layers = layers_readable(
            request, project, article.layers.select_related("annotator", "adjudicated_by")
        ).order_by("kind", "id")
        return Response(s.LayerOutput(layers, many=True).data)

    @extend_schema(
        summary="Get or create your layer on an article (or its gold layer)",
        description="201 when the layer was created, 200 when it existed. Annotators get their own layer; "
        "reviewers and managers get the gold layer unless they ask for kind=annotator. A new gold layer is "
        "pre-filled by the project's merge strategy (unanimous, majority or none).",
        parameters=[SLUG, ARTICLE_ID],
        request=s.LayerCreateInput,
        responses={200: s.LayerOutput, 201: s.LayerOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        article = get_object_or_404(Article, pk=pk, project=project)
        role = require_role(request, project, CAN_ANNOTATE, "Writing annotations")
        data = validated(s.LayerCreateInput, request.data)
        kind = data.get("kind") or (Layer.Kind.GOLD if role in CAN_WRITE_GOLD else Layer.Kind.ANNOTATOR)
        if kind == Layer.Kind.GOLD:
            require_role(request, project, CAN_WRITE_GOLD, "Writing the gold layer")
            existed = Layer.objects.filter(article=article, kind=Layer.Kind.GOLD).exists()
            layer = gold_open(article=article, reviewer=request.user)
        else:
            mine = Layer.objects.filter(article=article, kind=Layer.Kind.ANNOTATOR, annotator=request.user)
            existed = mine.exists()
            layer = services.layer_for_annotator(article=article, annotator=request.user)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(s.LayerOutput(layer).data, status=code)


LAYER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Layer id.")


def layer_in(project: Project, layer_id: int, *, detail: bool = False) -> Layer:
    """A layer of the project (404 otherwise) with what services and outputs read, loaded once."""
    layers = Layer.objects.select_related("article__project", "annotator", "adjudicated_by")
    if detail:
        layers = layers.prefetch_related(
            Prefetch("mentions", queryset=Mention.objects.select_related("actor")),
            Prefetch("events", queryset=Event.objects.prefetch_related("arguments")),
            Prefetch("stances", queryset=Stance.objects.select_related("target_actor")),
        )
    return get_object_or_404(layers, pk=layer_id, article__project=project)


class LayerView(ProjectScopedMixin, APIView):
    """One layer: read it whole, or change its status."""

    @extend_schema(
        summary="A layer with its mentions, events (with arguments) and stances",
        description="Annotators may read their own layers and the machine layers (suggestions); "
        "reviewers, managers and consumers every layer.",
        parameters=[SLUG, LAYER_ID],
        responses={200: s.LayerDetailOutput, **error_responses(403)},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk, detail=True)
        check_layer_read(request, project, layer)
        return Response(s.LayerDetailOutput(layer).data)

    @extend_schema(
        summary="Change the layer's status (done needs every event complete; adjudicated: gold only)",
        parameters=[SLUG, LAYER_ID],
        request=s.LayerStatusInput,
        responses={200: s.LayerOutput, **error_responses(400, 403, 409)},
    )
    def patch(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk)
        check_layer_write(request, project, layer)
        data = validated(s.LayerStatusInput, request.data)
        layer = services.layer_set_status(
            layer=layer, status=data["status"], expected_version=data["version"], by=request.user
        )
        return Response(s.LayerOutput(layer).data)


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
        return provenance(Strategy.MANUAL, reviewer=self.request.user) if layer.kind == Layer.Kind.GOLD else None

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
        data = validated(s.VersionInput, {} if version is None else {"version": version})
        self.perform_destroy(item, data["version"])
        return Response(s.LayerVersionOutput({"layer_version": layer.version}).data)

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
            summary=f"Add a {name} to a layer (validated against the text and the label schema)",
            parameters=ITEM_PARAMETERS,
            request=create_input,
            responses={201: write_output, **error_responses(400, 403, 409)},
        ),
        partial_update=extend_schema(
            summary=f"Change a {name}",
            parameters=ITEM_PARAMETERS,
            request=update_input,
            responses={200: write_output, **error_responses(400, 403, 409)},
        ),
        destroy=extend_schema(
            summary=f"Delete a {name}",
            parameters=[*ITEM_PARAMETERS, DELETE_VERSION],
            request=None,
            responses={200: s.LayerVersionOutput, **error_responses(400, 403, 409)},
        ),
    )


@item_schema("mention", s.MentionOutput, s.MentionWriteOutput, s.MentionCreateInput, s.MentionUpdateInput)
class MentionViewSet(LayerItemViewSet):
    related_name = "mentions"
    model = Mention
    output_class = s.MentionOutput
    write_output_class = s.MentionWriteOutput
    create_input = s.MentionCreateInput
    update_input = s.MentionUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("actor")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Mention:
        return services.mention_create(
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
        return services.mention_update(mention=item, expected_version=data["version"], **changes)

    def perform_destroy(self, item: Mention, version: int) -> None:
        services.mention_delete(mention=item, expected_version=version)


def argument_pairs(arguments: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(argument["role"], argument["mention"]) for argument in arguments]


@item_schema("event", s.EventOutput, s.EventWriteOutput, s.EventCreateInput, s.EventUpdateInput)
class EventViewSet(LayerItemViewSet):
    related_name = "events"
    model = Event
    output_class = s.EventOutput
    write_output_class = s.EventWriteOutput
    create_input = s.EventCreateInput
    update_input = s.EventUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("arguments")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Event:
        return services.event_create(
            layer=layer,
            event_type=data["event_type"],
            trigger_start=data["trigger_start"],
            trigger_end=data["trigger_end"],
            trigger_text=data.get("trigger_text"),
            mode=data["mode"],
            realis=data["realis"],
            contexts=data["contexts"],
            arguments=argument_pairs(data["arguments"]),
            provenance=self.provenance(layer),
            expected_version=data["version"],
        )

    def perform_update(self, item: Event, data: dict[str, Any]) -> Event:
        changes = {key: data[key] for key in ("event_type", "mode", "realis", "contexts") if key in data}
        if "arguments" in data:
            changes["arguments"] = argument_pairs(data["arguments"])
        event = services.event_update(event=item, expected_version=data["version"], **changes)
        # Arguments may have been replaced: don't answer with the prefetched ones.
        event._prefetched_objects_cache = {}  # type: ignore[attr-defined]
        return event

    def perform_destroy(self, item: Event, version: int) -> None:
        services.event_delete(event=item, expected_version=version)


@item_schema("stance", s.StanceOutput, s.StanceWriteOutput, s.StanceCreateInput, s.StanceUpdateInput)
class StanceViewSet(LayerItemViewSet):
    related_name = "stances"
    model = Stance
    output_class = s.StanceOutput
    write_output_class = s.StanceWriteOutput
    create_input = s.StanceCreateInput
    update_input = s.StanceUpdateInput

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("target_actor")

    def perform_create(self, layer: Layer, data: dict[str, Any]) -> Stance:
        return services.stance_create(
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
        services.stance_delete(stance=item, expected_version=version)


# --- Suggestions ----------------------------------------------------------------------------


class SuggestionDecisionView(ProjectScopedMixin, APIView):
    """Accept or reject machine suggestions for a layer you may write; each one is recorded."""

    decision: str

    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        layer = layer_in(project, pk)
        check_layer_write(request, project, layer)
        data = validated(s.SuggestionDecisionInput, request.data)
        if data.get("items"):
            result = suggestions_decide(
                layer=layer,
                user=request.user,
                decision=self.decision,
                items=[SuggestionRef(item["kind"], item["id"]) for item in data["items"]],
                model_version=data.get("model_version"),
                expected_version=data["version"],
            )
        else:
            result = suggestions_bulk_decide(
                layer=layer,
                user=request.user,
                decision=self.decision,
                kind=data.get("kind"),
                label=data.get("label"),
                model_version=data.get("model_version"),
                expected_version=data["version"],
            )
        body = {"layer_version": result.layer.version, "decisions": result.decisions}
        return Response(s.SuggestionDecisionsOutput(body).data)


SUGGESTION_DESCRIPTION = (
    "`{id}` is the layer that takes the decision (your annotator layer, or gold). Name suggestions by "
    "`items` [{kind, id}] (machine items of the same article), or in bulk by `kind` (and `label`), or "
    "`all: true` (bulk decisions skip suggestions this layer already decided). Every decision is "
    "recorded as a learning record with a snapshot of the suggestion."
)


class SuggestionAcceptView(SuggestionDecisionView):
    decision = SuggestionDecision.Decision.ACCEPT

    @extend_schema(
        summary="Accept suggestions: copy machine items into the layer",
        description=SUGGESTION_DESCRIPTION
        + " Accepting copies through the annotation services (checked against the schema); an event "
        "brings its argument mentions and a stance its holder and target, reusing an identical mention "
        "already in the layer; an item the layer already holds (same span and label; for an event, type, "
        "trigger and arguments) is not doubled, and the decision's result_id names it. Into a gold "
        "layer, each copy records its provenance: strategy accepted, the model version, the reviewer, "
        "the time.",
        parameters=[SLUG, LAYER_ID],
        request=s.SuggestionDecisionInput,
        responses={200: s.SuggestionDecisionsOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        return super().post(request, slug, pk)


class SuggestionRejectView(SuggestionDecisionView):
    decision = SuggestionDecision.Decision.REJECT

    @extend_schema(
        summary="Reject suggestions (recorded; the layer's annotations are unchanged)",
        description=SUGGESTION_DESCRIPTION,
        parameters=[SLUG, LAYER_ID],
        request=s.SuggestionDecisionInput,
        responses={200: s.SuggestionDecisionsOutput, **error_responses(400, 403, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        return super().post(request, slug, pk)


# --- Jobs -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Background jobs of the project, newest first",
        parameters=[SLUG],
        responses={200: s.JobOutput(many=True), **error_responses()},
    ),
    retrieve=extend_schema(
        summary="A job with its progress, counts, error and log",
        parameters=[SLUG],
        responses={200: s.JobDetailOutput, **error_responses()},
    ),
    create=extend_schema(
        summary="Start a pre-annotation job (managers)",
        description="The job is queued when the request commits; follow its progress with GET.",
        parameters=[SLUG],
        request=s.JobCreateInput,
        responses={201: s.JobDetailOutput, **error_responses(400, 403)},
    ),
)
class JobViewSet(ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs: start a pre-annotation, follow its progress."""

    pagination_class = PagePagination

    def get_queryset(self) -> QuerySet[Job]:
        if self.schema_only:
            return Job.objects.none()
        return Job.objects.filter(project=self.get_project()).select_related("created_by")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return s.JobOutput if self.action == "list" else s.JobDetailOutput

    def create(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_START_JOBS, "Starting a job")
        data = validated(s.JobCreateInput, request.data)
        job = preannotation_start(project=project, article_ids=data.get("articles"), created_by=request.user)
        return Response(s.JobDetailOutput(job).data, status=status.HTTP_201_CREATED)


# --- Dataset versions and export ------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Dataset versions of the project, newest first",
        parameters=[SLUG],
        responses={200: s.DatasetVersionOutput(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="A dataset version", parameters=[SLUG], responses={200: s.DatasetVersionOutput, **error_responses(403)}
    ),
    create=extend_schema(
        summary="Create a dataset version: run the export to a stored file (immutable)",
        description="Stores the export with its sha256 and counts. Versions are never changed or deleted "
        "through the API (no PUT, PATCH or DELETE). Managers, reviewers and consumers.",
        parameters=[SLUG],
        request=s.DatasetVersionCreateInput,
        responses={201: s.DatasetVersionOutput, **error_responses(400, 403)},
    ),
)
class DatasetVersionViewSet(
    ProjectScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Immutable stored exports with counts and a sha256 (managers, reviewers, consumers)."""

    pagination_class = PagePagination
    serializer_class = s.DatasetVersionOutput

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        require_role(request, self.get_project(), CAN_EXPORT, "Dataset versions")

    def get_queryset(self) -> QuerySet[DatasetVersion]:
        if self.schema_only:
            return DatasetVersion.objects.none()
        return DatasetVersion.objects.filter(project=self.get_project()).select_related("created_by")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "slug": self.kwargs.get("slug", "")}

    def create(self, request: Request, slug: str) -> Response:
        data = validated(s.DatasetVersionCreateInput, request.data)
        version = dataset_version_create(project=self.get_project(), created_by=request.user, **data)
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)


class DatasetVersionDownloadView(ProjectScopedMixin, APIView):
    """The stored bytes of a dataset version."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Download a dataset version's stored file (its sha256 is the ETag)",
        parameters=[
            SLUG,
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Dataset version id."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, "The stored export."),
            **error_responses(403),
        },
    )
    def get(self, request: Request, slug: str, pk: int) -> FileResponse:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Dataset versions")
        version = get_object_or_404(DatasetVersion, pk=pk, project=project)
        try:
            handle = open(version.file.path, "rb")  # noqa: SIM115 (FileResponse closes it)
        except FileNotFoundError:
            raise NotFound(f"The stored file of dataset version {version.name!r} is missing.") from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=version.params.get("filename") or Path(version.file.name).name,
            content_type=version.params.get("media_type") or "application/octet-stream",
        )
        response["ETag"] = f'"{version.sha256}"'
        return response


class ExportView(ProjectScopedMixin, APIView):
    """The corpus streamed in one of the export formats."""

    content_negotiation_class = JSONErrorsNegotiation
    renderer_classes = [JSONRenderer]

    @extend_schema(
        summary="Stream the corpus in a training format",
        description="The same bytes as `manage.py export_corpus`, streamed with constant memory. "
        "Multi-file outputs (spacy, brat, hf; conll and dygie for several splits) are a zip. "
        "Managers, reviewers and consumers.",
        parameters=[SLUG, s.ExportQuery],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, "The export; Content-Disposition names the file."
            ),
            **error_responses(400, 403),
        },
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        project = self.get_project()
        require_role(request, project, CAN_EXPORT, "Exporting")
        export = export_request(project=project, **validated(s.ExportQuery, request.query_params))
        response = StreamingHttpResponse(export_stream(export), content_type=export.media_type)
        response["Content-Disposition"] = content_disposition_header(True, export.filename)
        response["X-Accel-Buffering"] = "no"  # a proxy should pass the first bytes on at once
        return response

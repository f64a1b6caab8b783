"""Articles of a project, their JSON Lines import, and an article's layers.

The list is filtered and paginated, each article with the layers you may read; an article's
layers are listed there too, and POSTing to them gets or creates your layer (or its gold layer).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.importers.archive import zip_unpack
from annotations.models import Article, Layer, Membership
from annotations.selectors import articles_with_stage
from annotations.services.annotated_import import CorpusImport, annotated_import, annotated_import_tree
from annotations.services.gold import gold_open
from annotations.services.imports import articles_import_jsonl
from annotations.services.layers import layer_for_annotator
from api.filters import ArticleFilter, ProjectFilterBackend
from api.parsers import JSONLinesParser, JSONLParser, RequestTooLarge, content_length
from api.permissions import CAN_ANNOTATE, CAN_IMPORT, CAN_WRITE_GOLD, layers_readable, require_role
from api.serializers.articles import (
    AnnotatedImportOptions,
    AnnotatedImportOutput,
    ArticleDetailOutput,
    ArticleImportInput,
    ArticleImportOutput,
    ArticleOutput,
)
from api.serializers.layers import LayerCreateInput, LayerOutput
from api.views.base import ARTICLE_ID, SLUG, PagePagination, ProjectScopedMixin, error_responses, validated


@extend_schema_view(
    list=extend_schema(
        summary="Articles of the project, filtered and paginated",
        parameters=[SLUG],
        responses={200: ArticleOutput(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(
        summary="An article with its text and the layers you may read",
        parameters=[SLUG],
        responses={200: ArticleDetailOutput, **error_responses()},
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
            .select_related("source_check")
            .annotate(has_gold=Exists(gold))
            .prefetch_related(Prefetch("layers", queryset=layers, to_attr="visible_layers"))
            .order_by("id")
        )
        return articles.defer("text", "metadata") if self.action == "list" else articles

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ArticleDetailOutput if self.action == "retrieve" else ArticleOutput


class ImportNegotiation(DefaultContentNegotiation):
    """The parser by Content-Type as usual, but `?format=` is the import format, not a renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class ArticleImportView(ProjectScopedMixin, APIView):
    """Bulk import of articles from JSON Lines through the import service."""

    content_negotiation_class = ImportNegotiation

    parser_classes = [MultiPartParser, JSONLinesParser, JSONLParser]

    @extend_schema(
        summary="Import articles from JSON Lines, or annotated files into a layer (managers)",
        description="Upload a file as the multipart field `file`, or send the lines as the body with "
        "Content-Type application/x-ndjson. One article per line: title, text, optional source, url, "
        "published, language, metadata. All or nothing: any bad line answers 400 with every problem "
        "as `<file>:<line>: …` under errors.file. Exact duplicates are skipped and listed.\n\n"
        "**Annotated import**: with `annotations=gold|machine:<version>|annotator:<username>` (query "
        "parameter or form field) the file holds annotated articles in `format` (jsonl: the native export; "
        "brat: a .zip of .txt + .ann files; doccano JSONL; labelstudio JSON export, whose `predictions` go to "
        "a machine layer), labels mapped through `label_map` (a JSON object). Every item goes through the "
        "schema checks; an unknown label, a bad offset or a broken archive answers 400 naming file, line "
        "and label, and nothing is kept. `annotator:<username>` must be a member of the project.",
        parameters=[SLUG, AnnotatedImportOptions],
        request={
            "multipart/form-data": ArticleImportInput,
            "application/x-ndjson": OpenApiTypes.BINARY,
            "application/jsonl": OpenApiTypes.BINARY,
        },
        responses={
            201: OpenApiResponse(
                ArticleImportOutput, "Articles imported (with `annotations`: an AnnotatedImportOutput)."
            ),
            **error_responses(400, 403),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_IMPORT, "Importing articles")
        size, limit = content_length(request), settings.IMPORT_MAX_BYTES
        if size > limit:  # before reading a byte of it: Django reads no further than Content-Length
            raise RequestTooLarge(
                f"The upload is {size:,} bytes, over the limit of {limit:,} (IMPORT_MAX_BYTES). Split the file into "
                f"parts under {limit:,} bytes and send each in a request of its own (each part is imported all or "
                "nothing), or import it on the server with `manage.py import_articles`."
            )
        upload = request.data.get("file")
        if not isinstance(upload, File):  # an upload (multipart) or the spooled body (JSON Lines)
            raise serializers.ValidationError(
                {"file": ["send a JSON Lines file as the multipart field 'file', or the body as application/x-ndjson"]}
            )
        fields = ("annotations", "format", "label_map")
        given = {**{k: v for k, v in request.query_params.items() if k in fields}}
        given.update({k: request.data[k] for k in fields if k in request.data})
        options = validated(AnnotatedImportOptions, given)
        name = Path(upload.name or "upload.jsonl").name
        if options["annotations"]:
            return self.annotated(upload, name, options)
        if options["format"] not in ("", "jsonl") or options["label_map"] is not None:
            raise serializers.ValidationError({"annotations": ["is needed with format and label_map"]})
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
        return Response(ArticleImportOutput(body).data, status=status.HTTP_201_CREATED)

    def annotated(self, upload: File, name: str, options: dict[str, Any]) -> Response:
        """The annotated import: the upload to a temp folder (a zip unpacked safely), then the service."""
        project = self.get_project()
        layer: str = options["annotations"]
        kind, _, username = layer.partition(":")
        member = Membership.objects.filter(project=project, user__username=username)
        if kind == "annotator" and username and not member.exists():
            raise serializers.ValidationError(
                {"annotations": [f"{username!r} is not a member of project {project.slug!r}"]}
            )
        chosen = options["format"] or None
        is_zip = chosen == "brat" or name.lower().endswith(".zip")
        with tempfile.TemporaryDirectory(prefix="annotated-import-") as folder:
            path = Path(folder) / Path(name).name
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            if is_zip:
                if chosen not in (None, "brat"):
                    raise serializers.ValidationError({"format": [f"a .zip upload is a brat collection, not {chosen}"]})
                root = Path(folder) / "unpacked"
                root.mkdir()
                zip_unpack(path, root, name=name)
                outcome: CorpusImport = annotated_import_tree(
                    project=project,
                    folder=root,
                    annotations=layer,
                    format="brat",
                    label_map=options["label_map"],
                    source_name=name,
                )
            else:
                outcome = annotated_import(
                    project=project,
                    path=path,
                    annotations=layer,
                    format=chosen,
                    label_map=options["label_map"],
                    source_name=name,
                )
        body = {
            "layer": layer,
            "imported": outcome.articles,
            "duplicates": outcome.duplicates,
            "mentions": outcome.mentions,
            "events": outcome.events,
            "arguments": outcome.arguments,
            "stances": outcome.stances,
            "warnings": outcome.warnings,
        }
        return Response(AnnotatedImportOutput(body).data, status=status.HTTP_201_CREATED)


class ArticleLayersView(ProjectScopedMixin, APIView):
    """The layers of one article."""

    @extend_schema(
        summary="Layers of an article that you may read",
        parameters=[SLUG, ARTICLE_ID],
        responses={200: LayerOutput(many=True), **error_responses()},
    )
    def get(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        article = get_object_or_404(Article.objects.only("pk", "project_id"), pk=pk, project=project)
        layers = layers_readable(
            request, project, article.layers.select_related("annotator", "adjudicated_by")
        ).order_by("kind", "id")
        return Response(LayerOutput(layers, many=True).data)

    @extend_schema(
        summary="Get or create your layer on an article (or its gold layer)",
        description="201 when the layer was created, 200 when it existed. Annotators get their own layer; "
        "reviewers and managers get the gold layer unless they ask for kind=annotator. A new gold layer is "
        "pre-filled by the project's merge strategy (unanimous, majority or none).",
        parameters=[SLUG, ARTICLE_ID],
        request=LayerCreateInput,
        responses={200: LayerOutput, 201: LayerOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        article = get_object_or_404(Article, pk=pk, project=project)
        role = require_role(request, project, CAN_ANNOTATE, "Writing annotations")
        data = validated(LayerCreateInput, request.data)
        kind = data.get("kind") or (Layer.Kind.GOLD if role in CAN_WRITE_GOLD else Layer.Kind.ANNOTATOR)
        if kind == Layer.Kind.GOLD:
            require_role(request, project, CAN_WRITE_GOLD, "Writing the gold layer")
            existed = Layer.objects.filter(article=article, kind=Layer.Kind.GOLD).exists()
            layer = gold_open(article=article, reviewer=self.user)
        else:
            mine = Layer.objects.filter(article=article, kind=Layer.Kind.ANNOTATOR, annotator=self.user)
            existed = mine.exists()
            layer = layer_for_annotator(article=article, annotator=self.user)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(LayerOutput(layer).data, status=code)

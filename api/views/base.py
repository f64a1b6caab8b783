"""What the API views share: the project scope, validation, error responses, path parameters.

Also the page size and `layer_in` (a layer of the project, loaded once). Views validate and
authorise; services in annotations.services change state.

Everything under /api/v1/projects/<slug>/ is scoped to that project: the project is resolved
(404 for non-members) before anything else, then the role is checked (403), then the input
(400), then a service runs (400 naming the field, 409 for a stale layer version). Errors are
turned into responses by api.exception_handler.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from annotations.models import Event, Layer, Mention, Project, Stance
from api.permissions import authenticated_user, project_for, role_in
from api.serializers.base import ConflictOutput, ErrorOutput, ValidationErrorOutput
from api.throttling import ThrottledTokenAuthentication


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: OpenApiResponse(ValidationErrorOutput, "Bad input; every message names its field."),
        401: OpenApiResponse(ErrorOutput, "Not authenticated (session or `Authorization: Token …`)."),
        403: OpenApiResponse(ErrorOutput, "Your role in the project does not allow this."),
        404: OpenApiResponse(
            ErrorOutput,
            "No such project (or you are not a member), or no such object in it; on a list, a `page` that is "
            "not there (0 or less, or past the last page).",
        ),
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


class ProjectScopedMixin(APIView):
    """Token or session authentication; the URL's project resolved (404 for non-members) first.

    An APIView itself, so its attributes and `super().initial` type-check against DRF's; first in a
    view's bases, it comes before the generic views and viewsets in the method resolution order.
    """

    authentication_classes = [ThrottledTokenAuthentication, SessionAuthentication]  # token first: 401, not 403
    permission_classes = [IsAuthenticated]
    _project: Project | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if "slug" in kwargs:
            self.get_project()

    def get_project(self) -> Project:
        if self._project is None:
            self._project = project_for(self.request, self.kwargs["slug"])
        return self._project

    @property
    def user(self) -> User:
        """The authenticated user (`IsAuthenticated` has run), typed as the user model."""
        return authenticated_user(self.request)

    @property
    def role(self) -> str | None:
        return role_in(self.request, self.get_project())

    @property
    def schema_only(self) -> bool:
        """drf-spectacular builds the schema with a fake view that has no project."""
        return getattr(self, "swagger_fake_view", False)


SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's slug.")
ARTICLE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Article id.")
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

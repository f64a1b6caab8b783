"""REST API routes, versioned under /api/v1/, and the OpenAPI schema with offline Swagger UI.

Everything of a project is nested under its slug, so the project scope is explicit in the URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.views.agreement import AgreementView
from api.views.articles import ArticleImportView, ArticleLayersView, ArticleViewSet
from api.views.datasets import DatasetVersionDownloadView, DatasetVersionViewSet, ExportView
from api.views.deletions import DeletionListView
from api.views.events import (
    ArticlePublishedView,
    ArticleReliabilityView,
    EventClusterDecisionView,
    EventClusterListView,
    LinkEventsView,
    MentionDateView,
)
from api.views.health import HealthView
from api.views.history import ChangeUndoView, LayerHistoryView
from api.views.jobs import JobViewSet
from api.views.layers import EventViewSet, LayerItemViewSet, LayerView, MentionViewSet, StanceViewSet
from api.views.models import ActivateView, ActivePipelineView, RollbackView, TrainedModelViewSet, TrainView
from api.views.projects import ProjectViewSet
from api.views.review import ArticleReviewView, GoldMergeView, GoldPickView, GoldPromoteView
from api.views.suggestions import SuggestionAcceptView, SuggestionRejectView

if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction  # only in the stubs

app_name = "api"

# {HTTP method: viewset action}, typed as `ViewSetMixin.as_view` takes them (a dict is invariant).
READ_ONLY_LIST: dict[str, str | ViewSetAction[Any]] = {"get": "list"}
READ_ONLY_DETAIL: dict[str, str | ViewSetAction[Any]] = {"get": "retrieve"}
ITEM_LIST: dict[str, str | ViewSetAction[Any]] = {"get": "list", "post": "create"}
ITEM_DETAIL: dict[str, str | ViewSetAction[Any]] = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}


def layer_items(prefix: str, viewset: type[LayerItemViewSet], name: str) -> list:
    return [
        path(f"layers/<int:layer_id>/{prefix}/", viewset.as_view(ITEM_LIST), name=f"{name}-list"),
        path(f"layers/<int:layer_id>/{prefix}/<int:pk>/", viewset.as_view(ITEM_DETAIL), name=f"{name}-detail"),
    ]


project_urls = [
    path("", ProjectViewSet.as_view(READ_ONLY_DETAIL), name="project-detail"),
    path("articles/", ArticleViewSet.as_view(READ_ONLY_LIST), name="article-list"),
    path("articles/import/", ArticleImportView.as_view(), name="article-import"),
    path("articles/<int:pk>/", ArticleViewSet.as_view(READ_ONLY_DETAIL), name="article-detail"),
    path("articles/<int:pk>/layers/", ArticleLayersView.as_view(), name="article-layers"),
    path("articles/<int:pk>/review/", ArticleReviewView.as_view(), name="article-review"),
    path("articles/<int:pk>/published/", ArticlePublishedView.as_view(), name="article-published"),
    path("articles/<int:pk>/reliability/", ArticleReliabilityView.as_view(), name="article-reliability"),
    path("mentions/<int:pk>/date/", MentionDateView.as_view(), name="mention-date"),
    path("link-events/", LinkEventsView.as_view(), name="link-events"),
    path("event-clusters/", EventClusterListView.as_view(), name="event-cluster-list"),
    path("event-clusters/<int:pk>/", EventClusterDecisionView.as_view(), name="event-cluster-decision"),
    path("layers/<int:pk>/", LayerView.as_view(), name="layer-detail"),
    path("layers/<int:pk>/history/", LayerHistoryView.as_view(), name="layer-history"),
    path("layers/<int:pk>/history/<int:change_id>/undo/", ChangeUndoView.as_view(), name="change-undo"),
    path("layers/<int:pk>/pick/", GoldPickView.as_view(), name="gold-pick"),
    path("layers/<int:pk>/merge/", GoldMergeView.as_view(), name="gold-merge"),
    *layer_items("mentions", MentionViewSet, "mention"),
    *layer_items("events", EventViewSet, "event"),
    *layer_items("stances", StanceViewSet, "stance"),
    path("layers/<int:pk>/suggestions/accept/", SuggestionAcceptView.as_view(), name="suggestions-accept"),
    path("layers/<int:pk>/suggestions/reject/", SuggestionRejectView.as_view(), name="suggestions-reject"),
    path("jobs/", JobViewSet.as_view({"get": "list", "post": "create"}), name="job-list"),
    path("jobs/<int:pk>/", JobViewSet.as_view(READ_ONLY_DETAIL), name="job-detail"),
    path(
        "dataset-versions/",
        DatasetVersionViewSet.as_view({"get": "list", "post": "create"}),
        name="dataset-version-list",
    ),
    path(
        "dataset-versions/<int:pk>/",
        DatasetVersionViewSet.as_view(READ_ONLY_DETAIL),
        name="dataset-version-detail",
    ),
    path(
        "dataset-versions/<int:pk>/download/",
        DatasetVersionDownloadView.as_view(),
        name="dataset-version-download",
    ),
    path("gold/promote/", GoldPromoteView.as_view(), name="gold-promote"),
    path("export/", ExportView.as_view(), name="export"),
    path("deleted/", DeletionListView.as_view(), name="deleted"),
    path("agreement/", AgreementView.as_view(), name="agreement"),
    path("models/", TrainedModelViewSet.as_view(READ_ONLY_LIST), name="model-list"),
    path("models/active/", ActivePipelineView.as_view(), name="model-active"),
    path("models/train/", TrainView.as_view(), name="model-train"),
    path("models/<int:pk>/", TrainedModelViewSet.as_view(READ_ONLY_DETAIL), name="model-detail"),
    path("models/<int:pk>/activate/", ActivateView.as_view(), name="model-activate"),
    path("models/<int:pk>/rollback/", RollbackView.as_view(), name="model-rollback"),
]

urlpatterns = [
    path("v1/health/", HealthView.as_view(), name="health"),
    path("v1/projects/", ProjectViewSet.as_view(READ_ONLY_LIST), name="project-list"),
    path("v1/projects/<slug:slug>/", include(project_urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

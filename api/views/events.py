"""Publication date decisions and source reliability on an article; event linking and cluster review."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Article, ClusterMember, EventCluster, Mention
from annotations.services.dates import article_published_set, article_reliability_set, mention_date_set
from annotations.services.linking import (
    cluster_confirm,
    cluster_detach,
    cluster_split,
    clusters_merge,
    link_events_start,
)
from api.permissions import CAN_READ_ALL_LAYERS, CAN_START_JOBS, CAN_WRITE_GOLD, check_layer_write, require_role
from api.serializers.events import (
    ArticleCheckOutput,
    ClusterDecisionInput,
    EventClusterOutput,
    LinkEventsInput,
    MentionDateInput,
    MentionDateOutput,
    PublishedInput,
    ReliabilityInput,
)
from api.serializers.jobs import JobOutput
from api.views.base import ARTICLE_ID, SLUG, ProjectScopedMixin, error_responses, validated

# Who links events and decides on clusters: the project's managers, and reviewers (they adjudicate).
CAN_LINK = tuple(dict.fromkeys((*CAN_START_JOBS, *CAN_WRITE_GOLD)))


class ArticlePublishedView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Confirm or correct an article's publication date",
        description="Clears `published_suspect`; a correction resolves the article's dates again. Name the "
        "`published_version` you read: when another reviewer decided since, 409 and nothing changes. "
        "Managers and reviewers.",
        parameters=[SLUG, ARTICLE_ID],
        request=PublishedInput,
        responses={200: ArticleCheckOutput, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_WRITE_GOLD, "Deciding on the publication date")
        article = get_object_or_404(Article, project=project, pk=pk)
        data = validated(PublishedInput, request.data)
        check = article_published_set(
            article=article, published=data["published"], version=data["version"], user=self.user
        )
        return Response(ArticleCheckOutput(check).data)


class ArticleReliabilityView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Flag an article's source (machine_spun, unreliable, translation) with a note",
        description="An empty `reliability` clears the flag. Exports with `sources=reliable` (the default of the "
        "event formats) leave flagged sources out. Managers and reviewers.",
        parameters=[SLUG, ARTICLE_ID],
        request=ReliabilityInput,
        responses={200: ArticleCheckOutput, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_WRITE_GOLD, "Flagging a source")
        article = get_object_or_404(Article, project=project, pk=pk)
        data = validated(ReliabilityInput, request.data)
        check = article_reliability_set(article=article, reliability=data["reliability"], note=data["note"])
        return Response(ArticleCheckOutput(check).data)


class MentionDateView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Set a DATE mention's normalised value by hand",
        description="Kept when the article's dates are resolved again; an empty value goes back to the resolved "
        "one. Whoever may write the mention's layer.",
        parameters=[SLUG],
        request=MentionDateInput,
        responses={200: MentionDateOutput, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        mention = get_object_or_404(Mention.objects.select_related("layer"), layer__article__project=project, pk=pk)
        check_layer_write(request, project, mention.layer)
        data = validated(MentionDateInput, request.data)
        return Response(MentionDateOutput(mention_date_set(mention=mention, value=data["value"])).data)


class LinkEventsView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Start an event linking job",
        description="Proposes clusters of events that report the same real-world event, for the selected "
        "layers (`layer` as in exports, gold by default). Clusters reviewers confirmed, split, merged or "
        "detached stay as they are. Managers and reviewers.",
        parameters=[SLUG],
        request=LinkEventsInput,
        responses={202: JobOutput, **error_responses(400, 403)},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_LINK, "Linking events")
        data = validated(LinkEventsInput, request.data)
        job = link_events_start(project=project, layer=data["layer"], status=data["status"], user=self.user)
        return Response(JobOutput(job).data, status=status.HTTP_202_ACCEPTED)


def clusters_of(project_id: int) -> QuerySet[EventCluster]:
    members = ClusterMember.objects.select_related("event__layer__article", "event__resolution").order_by(
        "event__layer__article_id", "event__trigger_start"
    )
    return EventCluster.objects.filter(project_id=project_id).prefetch_related(Prefetch("members", queryset=members))


class EventClusterListView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="The proposed and confirmed event clusters, with their evidence sentences",
        description="`status=proposed|confirmed`, `layer=` filter. Managers, reviewers and consumers.",
        parameters=[SLUG],
        responses={200: EventClusterOutput(many=True), **error_responses(403)},
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_READ_ALL_LAYERS, "Reading event clusters")
        clusters = clusters_of(project.pk)
        if wanted := request.query_params.get("status"):
            clusters = clusters.filter(status=wanted)
        if layer := request.query_params.get("layer"):
            clusters = clusters.filter(layer=layer)
        return Response(EventClusterOutput(clusters, many=True).data)


class EventClusterDecisionView(ProjectScopedMixin, APIView):
    @extend_schema(
        summary="Confirm, split, detach from or merge an event cluster",
        description="`confirm`; `split` (the given `events` leave into a new cluster); `detach` (one event stands "
        "alone); `merge` (the given `clusters`, with their `versions`, join this one). Every cluster's version "
        "you read is checked: a stale one is a 409 and nothing changes. Managers and reviewers.",
        parameters=[SLUG],
        request=ClusterDecisionInput,
        responses={200: EventClusterOutput, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        project = self.get_project()
        require_role(request, project, CAN_LINK, "Deciding on event clusters")
        cluster = get_object_or_404(EventCluster, project=project, pk=pk)
        data = validated(ClusterDecisionInput, request.data)
        action, version = data["action"], data["version"]
        if action == "confirm":
            result = cluster_confirm(cluster=cluster, version=version, user=self.user)
        elif action == "split":
            result = cluster_split(cluster=cluster, event_ids=data["events"], version=version)
        elif action == "detach":
            result = cluster_detach(cluster=cluster, event_id=(data["events"] or [0])[0], version=version)
        else:
            others = [get_object_or_404(EventCluster, project=project, pk=i) for i in data["clusters"]]
            result = clusters_merge(clusters=[cluster, *others], versions=[version, *data["versions"]])
        return Response(EventClusterOutput(clusters_of(project.pk).get(pk=result.pk)).data)

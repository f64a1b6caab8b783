"""Event data pages: the cluster review page (proposed clusters with their evidence sentences side by
side: confirm, split, detach), the publication date page of an article (confirm or correct), the
event clusters' list (confirm and merge actions) and the project action that starts event linking.

Managers and reviewers decide; every decision names the versions it read, so a second reviewer
deciding on a stale page gets the conflict as a message, and nothing is lost.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.sites import AdminSite
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from annotations.access import CAN_WRITE_GOLD, project_of_member
from annotations.admin.base import ProjectScopedAdmin, ReadOnlyAdmin, access_of, managed_only
from annotations.admin.workspace import admin_context
from annotations.models import (
    Article,
    ArticleCheck,
    ClusterMember,
    EventCluster,
    EventResolution,
    MentionDate,
    Project,
)
from annotations.services.dates import PublishedConflict, article_published_set
from annotations.services.linking import (
    ClusterConflict,
    cluster_confirm,
    cluster_detach,
    cluster_split,
    clusters_merge,
    link_events_start,
)

DECIDERS = CAN_WRITE_GOLD  # managers and reviewers


def _members() -> Prefetch[Any]:
    return Prefetch(
        "members",
        queryset=ClusterMember.objects.select_related("event__layer__article", "event__resolution").order_by(
            "event__layer__article_id", "event__trigger_start"
        ),
    )


def member_rows(cluster: EventCluster) -> list[dict[str, Any]]:
    rows = []
    for member in cluster.members.all():
        event, article = member.event, member.event.layer.article
        found = getattr(event, "resolution", None)
        evidence = article.text[found.sentence_start : found.sentence_end] if found else ""
        rows.append(
            {
                "event": event,
                "article": article,
                "date": found.date_value if found else "",
                "date_source": found.get_date_source_display() if found else "",
                "place": found.place_text if found else "",
                "evidence": " ".join(evidence.split()),
            }
        )
    return rows


def clusters_view(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_of_member(request, slug)
    if role not in DECIDERS:
        raise PermissionDenied(f"As {role} in {project.slug} you can't review event clusters (managers, reviewers).")
    if request.method == "POST":
        _decide(request, project)
        return HttpResponseRedirect(request.get_full_path())
    status = request.GET.get("status") or EventCluster.Status.PROPOSED
    clusters = (
        EventCluster.objects.filter(project=project, status=status)
        .prefetch_related(_members())
        .order_by("-confidence", "id")[:50]
    )
    context = admin_context(
        request,
        f"Event clusters — {project.name}",
        project=project,
        status=status,
        clusters=[(cluster, member_rows(cluster)) for cluster in clusters],
        is_nav_sidebar_enabled=False,
    )
    return TemplateResponse(request, "admin/workspace/event_clusters.html", context)


def _decide(request: HttpRequest, project: Project) -> None:
    cluster = get_object_or_404(EventCluster, project=project, pk=request.POST.get("cluster"))
    action = request.POST.get("action")
    events = [int(i) for i in request.POST.getlist("events") if i.isdigit()]
    try:
        version = int(request.POST.get("version") or 0)
        if action == "confirm":
            cluster_confirm(cluster=cluster, version=version, user=request.user)
            messages.success(request, f"Cluster {cluster.pk} confirmed.")
        elif action == "split":
            new = cluster_split(cluster=cluster, event_ids=events, version=version)
            messages.success(request, f"{len(events)} event(s) moved from cluster {cluster.pk} to cluster {new.pk}.")
        elif action == "detach" and len(events) == 1:
            cluster_detach(cluster=cluster, event_id=events[0], version=version)
            messages.success(request, f"Event {events[0]} detached from cluster {cluster.pk}.")
        else:
            messages.error(request, "Choose confirm, split (tick events) or detach (tick one event).")
    except ClusterConflict as exc:
        messages.error(request, str(exc))
    except (ValidationError, ValueError) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))


class PublishedForm(forms.Form):
    published = forms.DateField(required=False, help_text="YYYY-MM-DD; the same date to confirm it.")
    version = forms.IntegerField(widget=forms.HiddenInput)


def published_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    project, role = project_of_member(request, slug)
    if role not in DECIDERS:
        raise PermissionDenied(f"As {role} in {project.slug} you can't decide on publication dates.")
    article = get_object_or_404(Article, project=project, pk=pk)
    check = ArticleCheck.objects.filter(article=article).first()
    version = check.published_version if check else 1
    form = PublishedForm(request.POST or None, initial={"published": article.published, "version": version})
    if request.method == "POST" and form.is_valid():
        try:
            article_published_set(
                article=article,
                published=form.cleaned_data["published"],
                version=form.cleaned_data["version"],
                user=request.user,
            )
            messages.success(request, f"Publication date of article {article.pk} set; its dates were resolved again.")
            return HttpResponseRedirect(reverse("admin:annotations_article_change", args=[article.pk]))
        except PublishedConflict as exc:
            messages.error(request, str(exc))
    context = admin_context(
        request, f"Publication date — {article.title[:80]}", project=project, article=article, check=check, form=form
    )
    return TemplateResponse(request, "admin/workspace/published.html", context)


def urls(site: AdminSite) -> list[URLPattern]:
    return [
        path("workspace/<slug:slug>/event-clusters/", site.admin_view(clusters_view), name="workspace_event_clusters"),
        path(
            "workspace/<slug:slug>/articles/<int:pk>/published/",
            site.admin_view(published_view),
            name="workspace_published",
        ),
    ]


def with_source_check(articles: QuerySet[Article]) -> QuerySet[Article]:
    """The article list's columns of its check, annotated (a join, not a query per row; annotations, not
    select_related, so the list's actions may still narrow the columns they read)."""
    return articles.annotate(
        check_suspect=F("source_check__published_suspect"),
        check_reason=F("source_check__published_suspect_reason"),
        check_checked_at=F("source_check__published_checked_at"),
        check_reliability=F("source_check__reliability"),
        check_note=F("source_check__reliability_note"),
    )


def published_column(article: Article) -> str:
    """The article list's date check: suspect (with the reason as a tooltip) or settled, with its page;
    the reliability flag next to it (`with_source_check` annotates what it reads)."""
    link = reverse("admin:workspace_published", args=[article.project.slug, article.pk])
    reliability = getattr(article, "check_reliability", "")
    flag = (
        format_html(' <span class="wb-badge" title="{}">{}</span>', getattr(article, "check_note", ""), reliability)
        if reliability
        else ""
    )
    if getattr(article, "check_suspect", False):
        reason = getattr(article, "check_reason", "")
        return format_html(
            '<a href="{}" class="wb-stage wb-stage-suspect" title="{}">suspect date</a>{}', link, reason, flag
        )
    if getattr(article, "check_checked_at", None):
        return format_html('<a href="{}">confirmed</a>{}', link, flag)
    return format_html('<a href="{}">check</a>{}', link, flag)


class SourceCheckFilter(admin.SimpleListFilter):
    title = "source check"
    parameter_name = "source_check"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("suspect", "Suspect publication date"), ("flagged", "Flagged source (reliability)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Article]) -> QuerySet[Article]:
        if self.value() == "suspect":
            return queryset.filter(source_check__published_suspect=True)
        if self.value() == "flagged":
            return queryset.exclude(source_check__reliability="").filter(source_check__isnull=False)
        return queryset


@admin.register(EventCluster)
class EventClusterAdmin(ProjectScopedAdmin):
    list_display = ("id", "project", "status", "confidence", "event_type", "date_value", "place_text", "member_count")
    list_filter = ("status", "reviewed", "layer")
    list_select_related = ("project",)
    readonly_fields = (
        "project",
        "layer",
        "status",
        "reviewed",
        "confidence",
        "event_type",
        "date_value",
        "granularity",
        "place_text",
        "version",
        "confirmed_by",
        "confirmed_at",
        "evidence_table",
    )
    fields = readonly_fields
    actions = ("confirm_clusters", "merge_clusters")
    write_roles = DECIDERS
    add_roles = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[EventCluster]:
        return super().get_queryset(request).annotate(members_count=Count("members")).prefetch_related(_members())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="events", ordering="members_count")
    def member_count(self, obj: EventCluster) -> int:
        return obj.members_count  # type: ignore[attr-defined]

    @admin.display(description="evidence")
    def evidence_table(self, obj: EventCluster) -> str:
        cells = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} <b>{}</b></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["article"].title[:60],
                    row["article"].source,
                    row["event"].event_type,
                    row["event"].trigger_text,
                    row["date"],
                    row["place"],
                    row["evidence"],
                )
                for row in member_rows(obj)
            ),
        )
        link = reverse("admin:workspace_event_clusters", args=[obj.project.slug])
        return format_html(
            '<table class="wb-table"><tr><th>article</th><th>outlet</th><th>event</th><th>date</th><th>place</th>'
            '<th>evidence</th></tr>{}</table><p><a href="{}">Review on the clusters page</a></p>',
            cells,
            link,
        )

    def _allowed(self, request: HttpRequest, queryset: QuerySet[EventCluster]) -> list[EventCluster]:
        access = access_of(request)
        return [c for c in queryset if access.unrestricted or access.role(c.project_id) in DECIDERS]

    @admin.action(description="Confirm the selected clusters")
    def confirm_clusters(self, request: HttpRequest, queryset: QuerySet[EventCluster]) -> None:
        done = 0
        for cluster in self._allowed(request, queryset.filter(status=EventCluster.Status.PROPOSED)):
            try:
                cluster_confirm(cluster=cluster, version=cluster.version, user=request.user)
                done += 1
            except ClusterConflict as exc:
                messages.error(request, str(exc))
        messages.success(request, f"{done} cluster(s) confirmed.")

    @admin.action(description="Merge the selected clusters (one real-world event)")
    def merge_clusters(self, request: HttpRequest, queryset: QuerySet[EventCluster]) -> None:
        clusters = self._allowed(request, queryset.order_by("id"))
        try:
            merged = clusters_merge(clusters=clusters, versions=[c.version for c in clusters])
            messages.success(request, f"Merged into cluster {merged.pk}.")
        except (ClusterConflict, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))


def link_events_action(request: HttpRequest, projects: QuerySet[Project]) -> None:
    """The project list's action: a linking job over each managed project's gold layers."""
    for project in managed_only(request, projects, "link events"):
        job = link_events_start(project=project, layer="gold", user=request.user)
        link = reverse("admin:workspace_event_clusters", args=[project.slug])
        messages.success(
            request,
            format_html('Event linking started for {} (job {}): <a href="{}">clusters</a>', project, job.pk, link),
        )


@admin.register(ArticleCheck)
class ArticleCheckAdmin(ReadOnlyAdmin):
    """Read-only: reviewers decide on the publication date page, the API sets the reliability flag."""

    project_path = "article__project"
    list_display = ("article", "published_suspect", "published_checked_at", "reliability", "updated_at")
    list_filter = ("published_suspect", "reliability")
    list_select_related = ("article",)


@admin.register(MentionDate)
class MentionDateAdmin(ReadOnlyAdmin):
    layer_prefix = "mention__layer__"
    list_display = ("mention", "value", "granularity", "flag", "manual")
    list_filter = ("granularity", "flag", "manual")
    list_select_related = ("mention",)


@admin.register(EventResolution)
class EventResolutionAdmin(ReadOnlyAdmin):
    layer_prefix = "event__layer__"
    list_display = ("event", "date_value", "granularity", "date_source", "place_text")
    list_filter = ("date_source", "granularity")
    list_select_related = ("event",)


@admin.register(ClusterMember)
class ClusterMemberAdmin(ReadOnlyAdmin):
    project_path = "cluster__project"
    list_display = ("cluster", "event", "score")
    list_select_related = ("cluster", "event")

"""The workspace in the admin: My queue, the annotate page, guidelines, assignment, and for
reviewers the review queue and the review page (the annotate page's tools on the gold layer,
with the annotators' versions to compare and pick from).

Every view is wrapped in `admin.site.admin_view` (login + staff, the admin's look), and checks
the project role itself, the way the API does: someone who is not a member of the project gets
404; an annotator asking for another annotator's layer, or for the review page, gets 403. The
pages only read: every change is saved by the page's JavaScript through `/api/v1/` (the same
services, versions and 409s as any API client).

Untrusted text (article text, titles, labels from the schema) reaches the page only through
Django's autoescaping or `json_script`; the JavaScript builds the DOM with `textContent`.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annotations.access import (
    CAN_ANNOTATE,
    CAN_WRITE_GOLD,
    MANAGER,
    check_layer_open,
    has_role_somewhere,
    project_of_member,
    projects_with_role,
    role_in,
)
from annotations.models import Actor, Article, Layer, Project, SuggestionDecision
from annotations.selectors import (
    Stage,
    annotator_queue,
    articles_with_stage,
    layer_detail,
    layer_with_items,
    project_annotators,
    queue_neighbours,
    review_of,
)
from annotations.services.assignment import articles_assign
from annotations.services.gold import gold_open
from annotations.services.layers import layer_for_annotator

# Token boundaries the annotate page snaps selections to (code-point offsets, as the API uses).
TOKEN = re.compile(r"\w+|[^\w\s]")
ACTOR_RESULTS = 20
REVIEW_QUEUE_PAGE = 50


# --- Access ---------------------------------------------------------------------------------


def annotatable_layer(request: HttpRequest, slug: str, layer_id: int) -> tuple[Project, Layer]:
    """An annotator layer of the project the user may work on: their own (managers: any)."""
    project, role = project_of_member(request, slug)
    layer = get_object_or_404(
        Layer.objects.select_related("article", "annotator"),
        pk=layer_id,
        article__project=project,
        kind=Layer.Kind.ANNOTATOR,
    )
    check_layer_open(request.user, role, project, layer)
    return project, layer


def reviewable_article(request: HttpRequest, slug: str, article_id: int) -> tuple[Project, Article]:
    """An article of a project the user reviews or manages (superusers: any); 403 for the other roles."""
    project, role = project_of_member(request, slug)
    article = get_object_or_404(Article.objects.select_related("project"), pk=article_id, project=project)
    if role not in CAN_WRITE_GOLD:
        raise PermissionDenied(f"As {role} in {project.slug} you can't review: reviewers and managers adjudicate.")
    return project, article


# --- Data for the annotate page -------------------------------------------------------------


def token_offsets(text: str) -> list[int]:
    """Token start and end offsets, flat: [start0, end0, start1, end1, …]."""
    flat: list[int] = []
    for match in TOKEN.finditer(text):
        flat += (match.start(), match.end())
    return flat


def workspace_state(layer: Layer) -> dict[str, Any]:
    """The annotator's layer, the article's newest machine layer, and the suggestions already decided."""
    machine = (
        Layer.objects.filter(article_id=layer.article_id, kind=Layer.Kind.MACHINE)
        .order_by("-created_at", "-id")
        .only("pk", "model_version")
        .first()
    )
    decided: list[str] = []
    if machine is not None:
        decided = [
            f"{kind}:{suggestion_id}"
            for kind, suggestion_id in SuggestionDecision.objects.filter(
                layer=layer, model_version=machine.model_version
            ).values_list("item_kind", "suggestion_id")
        ]
    return {
        "layer": layer_detail(layer_with_items(layer.pk)),
        "machine": layer_detail(layer_with_items(machine.pk)) if machine is not None else None,
        "decided": decided,
    }


def article_data(request: HttpRequest, project: Project, article: Article) -> dict[str, Any]:
    """What every workspace page (annotate, review) needs: the text, its tokens, the schema, the user."""
    schema = project.label_schema
    return {
        "article": {
            "id": article.pk,
            "title": article.title,
            "text": article.text,
            "source": article.source,
            "url": article.url,
            "published": article.published.isoformat() if article.published else None,
        },
        "tokens": token_offsets(article.text),
        "schema": {
            "entity_types": schema.get("entity_types", []),
            "event_types": schema.get("event_types", []),
            "realis": schema.get("realis", []),
            "contexts": schema.get("contexts", []),
            "stance_labels": schema.get("stance_labels", []),
        },
        "project": {"slug": project.slug, "name": project.name, "has_guidelines": bool(project.guidelines.strip())},
        "user": request.user.get_username(),
        "csrf_token": get_token(request),
    }


def project_urls(project: Project) -> dict[str, str]:
    """The URLs a workspace page calls: the project's API root, actor search, guidelines."""
    return {
        "api": reverse("api:project-detail", args=[project.slug]),
        "actors": reverse("admin:workspace_actors", args=[project.slug]),
        "guidelines": reverse("admin:workspace_guidelines", args=[project.slug]),
    }


def page_data(request: HttpRequest, project: Project, layer: Layer) -> dict[str, Any]:
    previous, following = queue_neighbours(layer=layer)

    def annotate_url(other: Layer | None) -> str | None:
        if other is None:
            return None
        return reverse("admin:workspace_layer", args=[project.slug, other.pk])

    return {
        **article_data(request, project, layer.article),
        "mode": "annotate",
        "annotator": layer.annotator.get_username() if layer.annotator else None,
        "urls": {
            **project_urls(project),
            "state": reverse("admin:workspace_layer_state", args=[project.slug, layer.pk]),
            "queue": reverse("admin:workspace_queue"),
            "previous": annotate_url(previous),
            "next": annotate_url(following),
        },
        **workspace_state(layer),
    }


def review_state(article: Article, gold: Layer) -> dict[str, Any]:
    """The gold layer as the editor holds it, and the annotators' versions to compare."""
    return {
        "layer": layer_detail(layer_with_items(gold.pk)),
        "machine": None,
        "decided": [],
        "review": review_of(article),
    }


def review_data(request: HttpRequest, project: Project, article: Article, gold: Layer) -> dict[str, Any]:
    return {
        **article_data(request, project, article),
        "mode": "review",
        "annotator": None,
        "urls": {
            **project_urls(project),
            "state": reverse("admin:workspace_review_state", args=[project.slug, article.pk]),
            "queue": reverse("admin:workspace_review_queue"),
            "previous": None,
            "next": None,
        },
        **review_state(article, gold),
    }


# --- Views ----------------------------------------------------------------------------------


def admin_context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def queue_view(request: HttpRequest) -> TemplateResponse:
    """The logged-in user's assigned articles, with status and counts."""
    layers = annotator_queue(user=request.user)
    slug = request.GET.get("project") or ""
    status = request.GET.get("status") or ""
    all_layers = list(layers)
    projects = sorted({layer.article.project for layer in all_layers}, key=lambda p: p.slug)
    totals = {value: 0 for value in (Layer.Status.NOT_STARTED, Layer.Status.IN_PROGRESS, Layer.Status.DONE)}
    rows = []
    for layer in all_layers:
        if slug and layer.article.project.slug != slug:
            continue
        totals[layer.status] = totals.get(layer.status, 0) + 1
        if status and layer.status != status:
            continue
        rows.append(layer)
    first_open = next((row for row in rows if row.status != Layer.Status.DONE), None)
    context = admin_context(
        request,
        "My queue",
        rows=rows,
        projects=projects,
        selected_project=slug,
        selected_status=status,
        totals=[(value, Layer.Status(value).label, count) for value, count in totals.items()],
        total=sum(totals.values()),
        first_open=first_open,
        is_nav_sidebar_enabled=False,  # annotators have no models to list there
    )
    return TemplateResponse(request, "admin/workspace/queue.html", context)


def annotate_article_view(request: HttpRequest, slug: str, article_id: int) -> HttpResponseRedirect:
    """Open (creating it if needed) the user's own layer on an article."""
    project, role = project_of_member(request, slug)
    article = get_object_or_404(Article.objects.only("pk", "project_id"), pk=article_id, project=project)
    if role not in CAN_ANNOTATE:
        raise PermissionDenied(f"As {role} in {project.slug} you can't annotate.")
    layer = layer_for_annotator(article=article, annotator=request.user)
    return HttpResponseRedirect(reverse("admin:workspace_layer", args=[project.slug, layer.pk]))


def annotate_layer_view(request: HttpRequest, slug: str, layer_id: int) -> TemplateResponse:
    project, layer = annotatable_layer(request, slug, layer_id)
    context = admin_context(
        request,
        layer.article.title,
        project=project,
        layer=layer,
        article=layer.article,
        data=page_data(request, project, layer),
        is_nav_sidebar_enabled=False,  # the text needs the width
    )
    return TemplateResponse(request, "admin/workspace/annotate.html", context)


def layer_state_view(request: HttpRequest, slug: str, layer_id: int) -> JsonResponse:
    """What the page reloads after a conflict: the layer, the suggestions, the decisions."""
    _, layer = annotatable_layer(request, slug, layer_id)
    return JsonResponse(workspace_state(layer))


def review_view(request: HttpRequest, slug: str, article_id: int) -> TemplateResponse:
    """The review page: the article's gold layer and the annotators' versions.

    The first visit creates the gold layer, pre-filled by the project's merge strategy (as the API's
    POST articles/<id>/gold/ does).
    """
    project, article = reviewable_article(request, slug, article_id)
    gold = gold_open(article=article, reviewer=request.user)
    data = review_data(request, project, article, gold)
    context = admin_context(
        request,
        article.title,
        project=project,
        article=article,
        layer=gold,
        review=data["review"],
        data=data,
        is_nav_sidebar_enabled=False,  # the text needs the width
    )
    return TemplateResponse(request, "admin/workspace/review.html", context)


def review_state_view(request: HttpRequest, slug: str, article_id: int) -> JsonResponse:
    """What the review page reloads after a pick, a merge or a conflict."""
    _, article = reviewable_article(request, slug, article_id)
    return JsonResponse(review_state(article, gold_open(article=article, reviewer=request.user)))


def review_queue_view(request: HttpRequest) -> TemplateResponse:
    """Articles of the projects the user reviews, by stage; by default those awaiting adjudication."""
    projects = list(projects_with_role(request.user, CAN_WRITE_GOLD).order_by("slug"))
    slug = request.GET.get("project") or ""
    stage = request.GET.get("stage", Stage.ANNOTATED)
    if stage not in Stage.ALL:
        stage = ""  # "all"
    articles = articles_with_stage(
        Article.objects.filter(project__in=[p for p in projects if not slug or p.slug == slug])
    )
    # The stage is computed from aggregates, so it can be filtered on but not grouped by.
    totals = {value: articles.filter(stage=value).count() for value in Stage.ALL}
    if stage:
        articles = articles.filter(stage=stage)
    gold = Layer.objects.filter(kind=Layer.Kind.GOLD).select_related("adjudicated_by")
    annotator_layers = Layer.objects.filter(kind=Layer.Kind.ANNOTATOR).select_related("annotator")
    articles = (
        articles.select_related("project")
        .only("pk", "title", "source", "project__slug", "project__name", "project__overlap")
        .prefetch_related(
            Prefetch("layers", queryset=gold, to_attr="gold_layers"),
            Prefetch("layers", queryset=annotator_layers.order_by("annotator__username"), to_attr="annotator_layers"),
        )
        .order_by("pk")
    )
    page = Paginator(articles, REVIEW_QUEUE_PAGE).get_page(request.GET.get("page"))
    for article in page:
        article.gold = article.gold_layers[0] if article.gold_layers else None  # type: ignore[attr-defined]
    context = admin_context(
        request,
        "Review queue",
        page=page,
        projects=projects,
        selected_project=slug,
        selected_stage=stage,
        stages=[(value, totals.get(value, 0)) for value in Stage.ALL],
        total=sum(totals.values()),
        is_nav_sidebar_enabled=False,
    )
    return TemplateResponse(request, "admin/workspace/review_queue.html", context)


def reviews_somewhere(user: Any) -> bool:
    return bool(user.is_authenticated) and has_role_somewhere(user, CAN_WRITE_GOLD)


def index_view(site: AdminSite) -> Any:
    """The admin index, told whether to link the review queue (next to My queue)."""

    def index(request: HttpRequest) -> HttpResponse:
        return site.index(request, extra_context={"reviews_somewhere": reviews_somewhere(request.user)})

    return index


def actor_search_view(request: HttpRequest, slug: str) -> JsonResponse:
    """Actors whose name or alias contains `q` (for linking a mention), at most 20."""
    project_of_member(request, slug)
    query = (request.GET.get("q") or "").strip()
    actors = Actor.objects.all()
    if query:
        actors = actors.filter(Q(name__icontains=query) | Q(aliases__icontains=query) | Q(wikidata_id=query))
    kind = request.GET.get("kind")
    if kind:
        actors = actors.order_by(~Q(kind=kind), "name")  # same entity type first
    rows = actors.values("pk", "name", "kind", "country", "sector")[:ACTOR_RESULTS]
    return JsonResponse(
        {
            "results": [
                {"id": a["pk"], "name": a["name"], "kind": a["kind"], "country": a["country"], "sector": a["sector"]}
                for a in rows
            ]
        }
    )


def render_guidelines(text: str) -> SafeString:
    """Markdown with raw HTML disabled (so it is escaped); plain preformatted text without the library."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it-py is pinned (constraints.txt)
        return format_html('<pre class="wb-pre">{}</pre>', text)
    return mark_safe(MarkdownIt("commonmark", {"html": False}).render(text))


def guidelines_view(request: HttpRequest, slug: str) -> TemplateResponse:
    project, _ = project_of_member(request, slug)
    context = admin_context(
        request,
        f"Guidelines — {project.name}",
        project=project,
        guidelines=render_guidelines(project.guidelines) if project.guidelines.strip() else None,
        schema=project.label_schema,
        is_nav_sidebar_enabled=False,
    )
    return TemplateResponse(request, "admin/workspace/guidelines.html", context)


def urls(site: AdminSite) -> list[URLPattern]:
    """The workspace's admin URLs (prepended to the admin's own; names are admin:workspace_*)."""
    view = site.admin_view
    return [
        path("", view(index_view(site)), name="workspace_index"),  # before the admin's own index
        path("workspace/", view(queue_view), name="workspace_queue"),
        path("workspace/review/", view(review_queue_view), name="workspace_review_queue"),
        path(
            "workspace/<slug:slug>/review/<int:article_id>/",
            view(review_view),
            name="workspace_review",
        ),
        path(
            "workspace/<slug:slug>/review/<int:article_id>/state/",
            view(review_state_view),
            name="workspace_review_state",
        ),
        path("workspace/<slug:slug>/guidelines/", view(guidelines_view), name="workspace_guidelines"),
        path("workspace/<slug:slug>/actors/", view(actor_search_view), name="workspace_actors"),
        path(
            "workspace/<slug:slug>/articles/<int:article_id>/",
            view(annotate_article_view),
            name="workspace_article",
        ),
        path("workspace/<slug:slug>/layers/<int:layer_id>/", view(annotate_layer_view), name="workspace_layer"),
        path(
            "workspace/<slug:slug>/layers/<int:layer_id>/state/",
            view(layer_state_view),
            name="workspace_layer_state",
        ),
    ]


# --- The "Assign to annotators (overlap k)" admin action ------------------------------------


class AssignForm(forms.Form):
    overlap = forms.IntegerField(
        min_value=1,
        required=False,
        label="Overlap k",
        help_text="Annotators per article. Leave empty to use each project's own overlap.",
    )


def assign_action(request: HttpRequest, articles: QuerySet[Article], what: str) -> TemplateResponse | None:
    """The action's two steps: a page to confirm k (with each project's annotators and load), then assign.

    Only managers of a project assign its articles; the others are reported and skipped.
    """
    by_project: dict[int, list[Article]] = {}
    for article in articles.only("pk", "project_id").order_by("pk"):
        by_project.setdefault(article.project_id, []).append(article)
    projects = list(Project.objects.filter(pk__in=by_project).order_by("slug"))
    allowed = [p for p in projects if role_in(request, p) == MANAGER]
    for project in projects:
        if project not in allowed:
            messages.error(request, f"Only a manager of {project.slug} can assign its articles; skipped.")
    if not allowed:
        return None

    form = AssignForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        for project in allowed:
            try:
                result = articles_assign(
                    project=project, articles=by_project[project.pk], overlap=form.cleaned_data["overlap"]
                )
            except ValidationError as exc:
                problems = "; ".join(f"{field}: {', '.join(m)}" for field, m in exc.message_dict.items())
                messages.error(request, f"{project.slug}: nothing assigned — {problems}")
            else:
                level = messages.WARNING if result.short else messages.SUCCESS
                messages.add_message(request, level, result.summary())
        return None

    summaries = []
    for project in allowed:
        load = dict(
            Layer.objects.filter(article__project=project, kind=Layer.Kind.ANNOTATOR)
            .values_list("annotator__username")
            .annotate(n=Count("pk"))
        )
        annotators = [
            (user.get_username(), load.get(user.get_username(), 0)) for user in project_annotators(project=project)
        ]
        summaries.append({"project": project, "articles": len(by_project[project.pk]), "annotators": annotators})
    context = admin_context(
        request,
        "Assign to annotators (overlap k)",
        form=form,
        summaries=summaries,
        what=what,
        selected=request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        action=request.POST.get("action", ""),
        select_across=request.POST.get("select_across", "0"),
    )
    return TemplateResponse(request, "admin/workspace/assign.html", context)

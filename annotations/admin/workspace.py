"""The workspace in the admin: My queue, the annotate page, guidelines, assignment, and for
reviewers the review queue and the review page (the annotate page's tools on the gold layer,
with the annotators' versions to compare and pick from).

Every view is wrapped in `admin.site.admin_view` (login + staff, the admin's look), and checks
the project role itself, the way the API does: someone who is not a member of the project gets
404; an annotator asking for another annotator's layer, or for the review page, gets 403. The
pages only read (a GET never writes): every change is saved by the page's JavaScript through
`/api/v1/` (the same services, versions and 409s as any API client), or by a POST form (opening an
article to annotate creates the annotator's layer). The review page of an article without a gold
layer yet creates it from its JavaScript (the API's POST articles/<id>/layers/, kind gold).

Untrusted text (article text, titles, labels from the schema) reaches the page only through
Django's autoescaping or `json_script`; the JavaScript builds the DOM with `textContent`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annotations.access import (
    CAN_ANNOTATE,
    CAN_WRITE_GOLD,
    authenticated_user,
    check_layer_open,
    has_role_somewhere,
    project_of_member,
    projects_with_role,
)
from annotations.admin.workspace_data import (
    guidelines_for_language,
    page_data,
    review_data,
    review_state,
    workspace_state,
)
from annotations.models import Actor, Article, Layer, Project
from annotations.queue import annotator_queue
from annotations.schema import LabelSchema
from annotations.search import SEARCH_PARAMETERS, ArticleSearch, articles_search
from annotations.selectors import Stage, articles_with_stage, gold_layer
from annotations.services.layers import layer_for_annotator

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


# --- Views ----------------------------------------------------------------------------------


def admin_context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def queue_view(request: HttpRequest) -> TemplateResponse:
    """The logged-in user's assigned articles, with status and counts."""
    layers = annotator_queue(user=authenticated_user(request))
    slug = request.GET.get("project") or ""
    status = request.GET.get("status") or ""
    search = ArticleSearch.from_query(request.GET)  # the article list's search, over my own layers
    if search:
        own = Layer.objects.filter(kind=Layer.Kind.ANNOTATOR, annotator_id=request.user.pk)
        found = articles_search(Article.objects.filter(layers__in=own), search, layers=own)
        layers = layers.filter(article__in=found.values("pk"))
    all_layers = list(layers)
    projects = sorted({layer.article.project for layer in all_layers}, key=lambda p: p.slug)
    totals: dict[str, int] = {
        value: 0 for value in (Layer.Status.NOT_STARTED, Layer.Status.IN_PROGRESS, Layer.Status.DONE)
    }
    rows = []
    for layer in all_layers:
        if slug and layer.article.project.slug != slug:
            continue
        totals[layer.status] = totals.get(layer.status, 0) + 1
        if status and layer.status != status:
            continue
        rows.append(layer)
    first_open = next((row for row in rows if row.status != Layer.Status.DONE), None)
    uncertain = [p for p in projects if p.queue_order == Project.QueueOrder.UNCERTAIN]
    context = admin_context(
        request,
        "My queue",
        rows=rows,
        uncertain_projects=uncertain,
        projects=projects,
        selected_project=slug,
        selected_status=status,
        totals=[(value, Layer.Status(value).label, count) for value, count in totals.items()],
        total=sum(totals.values()),
        first_open=first_open,
        search=search,
        entity_types=sorted({code for p in projects for code in LabelSchema(p.label_schema).entity_types}),
        event_types=sorted({code for p in projects for code in LabelSchema(p.label_schema).event_types}),
        search_query=urlencode({k: v for k, v in request.GET.items() if k in ("project", *SEARCH_PARAMETERS) and v}),
        is_nav_sidebar_enabled=False,  # annotators have no models to list there
    )
    return TemplateResponse(request, "admin/workspace/queue.html", context)


def annotate_article_view(request: HttpRequest, slug: str, article_id: int) -> HttpResponse:
    """Open the user's own layer on an article: a POST creates it when needed; a GET only reads,
    redirecting to the layer when it exists, else showing a page with the button that POSTs."""
    project, role = project_of_member(request, slug)
    article = get_object_or_404(Article.objects.only("pk", "project_id", "title"), pk=article_id, project=project)
    if role not in CAN_ANNOTATE:
        raise PermissionDenied(f"As {role} in {project.slug} you can't annotate.")
    user = authenticated_user(request)
    if request.method == "POST":
        layer = layer_for_annotator(article=article, annotator=user)
    else:
        mine = Layer.objects.filter(article=article, kind=Layer.Kind.ANNOTATOR, annotator=user)
        existing = mine.only("pk").first()
        if existing is None:
            context = admin_context(request, article.title, project=project, article=article)
            return TemplateResponse(request, "admin/workspace/open_article.html", context)
        layer = existing
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

    Read only. When nobody has opened the article's gold layer yet, the page's JavaScript creates
    it (POST to the API's articles/<id>/layers/ with kind gold, pre-filled by the project's merge
    strategy) and then loads the state.
    """
    project, article = reviewable_article(request, slug, article_id)
    gold = gold_layer(article)
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
    """What the review page reloads after a pick, a merge or a conflict; 404 before the gold layer exists."""
    _, article = reviewable_article(request, slug, article_id)
    gold = gold_layer(article)
    if gold is None:
        return JsonResponse(
            {"detail": "This article has no gold layer yet: open the review page to create it."}, status=404
        )
    return JsonResponse(review_state(article, gold))


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
        same_kind_first = Case(When(kind=kind, then=Value(0)), default=Value(1), output_field=IntegerField())
        actors = actors.order_by(same_kind_first, "name")
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
    """The project's guidelines; `?language=fr` (the workspace passes the article's) keeps only that
    language's notes of the `## xx` sections, without it every section shows."""
    project, _ = project_of_member(request, slug)
    language = request.GET.get("language", "").strip()
    context = admin_context(
        request,
        f"Guidelines — {project.name}",
        project=project,
        guidelines=render_guidelines(guidelines_for_language(project.guidelines, language))
        if project.guidelines.strip()
        else None,
        language=language,
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

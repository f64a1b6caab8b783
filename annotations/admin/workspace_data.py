"""What the workspace pages carry: the article, its tokens, the schema, the layer being edited
and (review) the annotators' versions, as the page's JavaScript reads them (`json_script`).

Read only: nothing here creates a layer.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from annotations.models import Article, Layer, Project, SuggestionDecision
from annotations.queue import queue_neighbours, queue_progress
from annotations.selectors import layer_detail, layer_with_items, review_of

# Token boundaries the annotate page snaps selections to (code-point offsets, as the API uses).
TOKEN = re.compile(r"\w+|[^\w\s]")

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
        "progress": queue_progress(layer=layer),
        "urls": {
            **project_urls(project),
            "state": reverse("admin:workspace_layer_state", args=[project.slug, layer.pk]),
            "queue": reverse("admin:workspace_queue"),
            "previous": annotate_url(previous),
            "next": annotate_url(following),
        },
        **workspace_state(layer),
    }


def review_state(article: Article, gold: Layer | None) -> dict[str, Any]:
    """The gold layer as the editor holds it (None before anyone opened it), and the annotators'
    versions to compare."""
    layer = layer_detail(layer_with_items(gold.pk)) if gold is not None else None
    return {"layer": layer, "machine": None, "decided": [], "review": review_of(article)}


def review_data(request: HttpRequest, project: Project, article: Article, gold: Layer | None) -> dict[str, Any]:
    """The review page's data. Without a gold layer yet, `layer` is None and the page creates it
    through the API (`urls.layers`, POST kind=gold: pre-filled by the merge strategy), then loads
    `urls.state`."""
    return {
        **article_data(request, project, article),
        "mode": "review",
        "annotator": None,
        "urls": {
            **project_urls(project),
            "state": reverse("admin:workspace_review_state", args=[project.slug, article.pk]),
            "layers": reverse("api:article-layers", args=[project.slug, article.pk]),
            "queue": reverse("admin:workspace_review_queue"),
            "previous": None,
            "next": None,
        },
        **review_state(article, gold),
    }

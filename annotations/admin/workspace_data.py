"""What the workspace pages carry: the article, its tokens, the schema, the layer being edited
and (review) the annotators' versions, as the page's JavaScript reads them (`json_script`).

Read only: nothing here creates a layer.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse

from annotations.models import Article, Layer, Project, SuggestionDecision
from annotations.queue import queue_neighbours, queue_progress
from annotations.selectors import layer_detail, layer_with_items, review_of

# Token boundaries the annotate page snaps selections to (code-point offsets, as the API uses): words and
# punctuation marks. French, as spaCy's French tokenizer (the token exports' `spacy.blank("fr")`) cuts it:
# an elided article, pronoun or conjunction keeps its apostrophe and is a token of its own ("l’", "d’",
# "qu’", "s’": a selection of "l’armée" snaps to "l’" + "armée", never to a stray "’"), and "aujourd’hui"
# is one word. Other languages use the first rules.
TOKEN = re.compile(r"\w+|[^\w\s]")
TOKENS_BY_LANGUAGE = {
    "fr": re.compile(r"(?i:aujourd['’]hui|(?:jusqu|lorsqu|puisqu|quoiqu|presqu|qu|[cdjlmnst])['’](?=\w))|\w+|[^\w\s]"),
}
# A guidelines heading that is only a language code (`## fr`) starts that language's notes, up to the
# next heading of level 1 or 2.
LANGUAGE_HEADING = re.compile(r"^##\s+([a-z]{2,3})\s*$")
SECTION_HEADING = re.compile(r"^#{1,2}\s")

# --- Data for the annotate page -------------------------------------------------------------


def token_offsets(text: str, language: str = "en") -> list[int]:
    """Token start and end offsets, flat: [start0, end0, start1, end1, …], by the language's rules."""
    pattern = TOKENS_BY_LANGUAGE.get((language or "").split("-")[0].lower(), TOKEN)
    flat: list[int] = []
    for match in pattern.finditer(text):
        flat += (match.start(), match.end())
    return flat


def guidelines_for_language(text: str, language: str) -> str:
    """The guidelines an annotator of a `language` article reads: everything but the other languages'
    notes (`## xx` sections); that language's own section is kept, titled for the reader."""
    wanted = (language or "").split("-")[0].lower()
    if not wanted:
        return text  # the Guidelines page on its own: every language's notes
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        heading = LANGUAGE_HEADING.match(line.rstrip("\n"))
        if heading:
            skipping = heading.group(1) != wanted
            if not skipping:
                kept.append(f"## Notes for articles in {wanted}\n")
            continue
        if skipping and SECTION_HEADING.match(line):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


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
            "language": article.language,
        },
        "tokens": token_offsets(article.text, article.language),
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


def project_urls(project: Project, language: str = "") -> dict[str, str]:
    """The URLs a workspace page calls: the project's API root, actor search, guidelines (with the notes
    for the article's language)."""
    guidelines = reverse("admin:workspace_guidelines", args=[project.slug])
    return {
        "api": reverse("api:project-detail", args=[project.slug]),
        "actors": reverse("admin:workspace_actors", args=[project.slug]),
        "guidelines": f"{guidelines}?{urlencode({'language': language})}" if language else guidelines,
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
            **project_urls(project, layer.article.language),
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
            **project_urls(project, article.language),
            "state": reverse("admin:workspace_review_state", args=[project.slug, article.pk]),
            "layers": reverse("api:article-layers", args=[project.slug, article.pk]),
            "queue": reverse("admin:workspace_review_queue"),
            "previous": None,
            "next": None,
        },
        **review_state(article, gold),
    }

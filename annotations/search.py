"""Searching a project's articles: full text, and what their layers hold.

Both front doors use it: the API's article list (`q`, `mention_text`, `label`, `event_type`,
`incomplete`) and the admin's My queue. Full text is PostgreSQL's (`websearch` syntax: words,
"a phrase", -not, or; English stemming, so "sanction" finds "sanctions") when the database is
PostgreSQL, and a case-insensitive substring of the title or the text on SQLite.

What the layers hold is looked up in the layers the caller hands in (an annotator's own layer;
for reviewers the annotators' and the gold layers), never in machine layers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotations.models import Article, Event, EventArgument, Layer, Mention, Project
from annotations.schema import LabelSchema
from annotations.validation import validate_event_complete

# The text search configuration of PostgreSQL's full-text search.
SEARCH_CONFIG = "english"
# The query parameters of a search (the API's article list and My queue take the same).
SEARCH_PARAMETERS = ("q", "mention_text", "label", "event_type", "incomplete")


@dataclass(frozen=True)
class ArticleSearch:
    q: str = ""
    mention_text: str = ""  # a mention whose covered text contains this (case-insensitive)
    label: str = ""  # a mention with this entity type
    event_type: str = ""  # an event of this type
    incomplete: bool | None = None  # True: an event missing a required role; False: none

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ArticleSearch:
        """From a querystring (My queue's search box): `incomplete=true` or `false`, else ignored."""
        return cls(
            q=(query.get("q") or "").strip(),
            mention_text=(query.get("mention_text") or "").strip(),
            label=query.get("label") or "",
            event_type=query.get("event_type") or "",
            incomplete={"true": True, "false": False}.get(query.get("incomplete") or ""),
        )

    def __bool__(self) -> bool:
        return bool(self.q or self.mention_text or self.label or self.event_type or self.incomplete is not None)


def articles_search(
    articles: QuerySet[Article], search: ArticleSearch, *, layers: QuerySet[Layer]
) -> QuerySet[Article]:
    """The articles that match every part of `search` given (an empty search keeps them all)."""
    if search.q:
        articles = _full_text(articles, search.q)
    in_layers = {"layer__in": layers, "layer__article": OuterRef("pk")}
    if search.mention_text:
        articles = articles.filter(Exists(Mention.objects.filter(text__icontains=search.mention_text, **in_layers)))
    if search.label:
        articles = articles.filter(Exists(Mention.objects.filter(label=search.label, **in_layers)))
    if search.event_type:
        articles = articles.filter(Exists(Event.objects.filter(event_type=search.event_type, **in_layers)))
    if search.incomplete is not None:
        ids = incomplete_article_ids(layers)
        articles = articles.filter(pk__in=ids) if search.incomplete else articles.exclude(pk__in=ids)
    return articles


def _full_text(articles: QuerySet[Article], q: str) -> QuerySet[Article]:
    if connections[articles.db].vendor == "postgresql":
        vector = SearchVector("title", config=SEARCH_CONFIG) + SearchVector("text", config=SEARCH_CONFIG)
        query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
        return articles.annotate(full_text=vector).filter(full_text=query)
    return articles.filter(Q(title__icontains=q) | Q(text__icontains=q))


def incomplete_article_ids(layers: QuerySet[Layer]) -> set[int]:
    """Articles whose `layers` hold an event still missing a required role (a role listed as not
    stated in the text counts as filled), or whose type or role left the schema."""
    events = list(
        Event.objects.filter(layer__in=layers).values_list(
            "pk", "layer__article_id", "layer__article__project_id", "event_type", "not_stated"
        )
    )
    if not events:
        return set()
    roles: dict[int, Counter[str]] = defaultdict(Counter)
    for event_id, role in EventArgument.objects.filter(event__layer__in=layers).values_list("event_id", "role"):
        roles[event_id][role] += 1
    schemas = _schemas({project_id for _, _, project_id, _, _ in events})
    return {
        article_id
        for event_id, article_id, project_id, event_type, not_stated in events
        if validate_event_complete(
            schemas[project_id], event_type=event_type, role_counts=roles[event_id], not_stated=not_stated or ()
        )
    }


def _schemas(project_ids: Iterable[int]) -> dict[int, LabelSchema]:
    documents = Project.objects.filter(pk__in=list(project_ids)).values_list("pk", "label_schema")
    return {pk: LabelSchema(document) for pk, document in documents}

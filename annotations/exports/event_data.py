"""What the exports add to a document from the dates, linking and source checks.

A pass over the documents, a page at a time (a few queries per page, whatever its size):

- a DATE mention gets `value` and `granularity` (and `date_flag` when its value is missing or doubtful):
  the stored value (`services.dates`), else the one `annotations.dates` resolves from the text now;
- an event gets `date`, `date_granularity`, `date_source`, `place` and, once the linking job has put it in
  a cluster, `cluster` (id, status, confidence, date, place): from the stored resolution, absent before;
- the article gets `published_suspect` (+ `published_suspect_reason`) and `reliability` (+ note) when set.

With `sources="reliable"` the articles whose source is flagged are left out (counted in the manifest).
Fields are only added where there is something to say, so a document without dates keeps its bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from annotations.dates import Span, resolve_article
from annotations.exports.base import ExportDocument, ExportNotes, ExportOptionError
from annotations.models import ArticleCheck, EventResolution, Layer, MentionDate

PAGE = 500
SOURCE_FILTERS = ("all", "reliable")
CLUSTER_FILTERS = ("confirmed", "all")


def parse_sources(value: str | None, *, default: str = "all") -> str:
    if value is None or value == "":
        return default
    if value not in SOURCE_FILTERS:
        raise ExportOptionError("sources", f"unknown source filter {value!r}; use {' or '.join(SOURCE_FILTERS)}")
    return value


def parse_clusters(value: str | None) -> str:
    if value is None or value == "":
        return "confirmed"
    if value not in CLUSTER_FILTERS:
        raise ExportOptionError("clusters", f"unknown cluster filter {value!r}; use {' or '.join(CLUSTER_FILTERS)}")
    return value


def _date_of(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def with_event_data(
    documents: Iterable[ExportDocument], layers: QuerySet[Layer], notes: ExportNotes, *, sources: str = "all"
) -> Iterator[ExportDocument]:
    iterator = iter(documents)
    left_out = 0
    while page := list(islice(iterator, PAGE)):
        keys = [document["id"] for document in page]
        paged = layers.filter(article__content_hash__in=keys)
        checks = {
            row["article__content_hash"]: row
            for row in ArticleCheck.objects.filter(article__layers__in=paged).values(
                "article__content_hash",
                "published_suspect",
                "published_suspect_reason",
                "reliability",
                "reliability_note",
            )
        }
        dates = {
            (row["mention__layer__article__content_hash"], row["mention__start"], row["mention__end"]): row
            for row in MentionDate.objects.filter(mention__layer__in=paged).values(
                "mention__layer__article__content_hash",
                "mention__start",
                "mention__end",
                "value",
                "granularity",
                "flag",
                "manual",
            )
        }
        events = {
            (
                row["event__layer__article__content_hash"],
                row["event__trigger_start"],
                row["event__trigger_end"],
                row["event__event_type"],
            ): row
            for row in EventResolution.objects.filter(event__layer__in=paged).values(
                "event__layer__article__content_hash",
                "event__trigger_start",
                "event__trigger_end",
                "event__event_type",
                "date_value",
                "granularity",
                "date_source",
                "place_text",
                "place_actor__name",
                "place_actor__country",
                "event__cluster_member__cluster_id",
                "event__cluster_member__cluster__status",
                "event__cluster_member__cluster__confidence",
                "event__cluster_member__cluster__date_value",
                "event__cluster_member__cluster__granularity",
                "event__cluster_member__cluster__place_text",
                "event__cluster_member__cluster__event_type",
            )
        }
        for document in page:
            check = checks.get(document["id"])
            if check is not None and check["reliability"] and sources == "reliable":
                left_out += 1
                continue
            _add(document, check, dates, events)
            yield document
    notes.add("articles", left_out, "from a source flagged unreliable, machine-spun or a translation: left out")


def _add(
    document: ExportDocument,
    check: Mapping[str, Any] | None,
    dates: Mapping[tuple[str, int, int], Mapping[str, Any]],
    events: Mapping[tuple[str, int, int, str], Mapping[str, Any]],
) -> None:
    extra: dict[str, Any] = document  # type: ignore[assignment]
    key = document["id"]
    if check is not None:
        if check["published_suspect"]:
            extra["published_suspect"] = True
            extra["published_suspect_reason"] = check["published_suspect_reason"]
        if check["reliability"]:
            extra["reliability"] = check["reliability"]
            extra["reliability_note"] = check["reliability_note"]
    date_mentions = [m for m in document["mentions"] if m["label"] == "DATE"]
    if date_mentions:
        computed = resolve_article(
            document["text"], _date_of(document["published"]), [Span(m["start"], m["end"]) for m in date_mentions]
        )
        for mention, value in zip(date_mentions, computed, strict=True):
            row = dates.get((key, mention["start"], mention["end"]))
            item: dict[str, Any] = mention  # type: ignore[assignment]
            if row is not None:
                item["value"], item["granularity"], flag = row["value"] or None, row["granularity"] or None, row["flag"]
            else:
                item["value"], item["granularity"], flag = value.value, value.granularity or None, value.flag
            if flag:
                item["date_flag"] = flag
    for event in document["events"]:
        found = events.get((key, event["trigger"]["start"], event["trigger"]["end"], event["type"]))
        if found is None:
            continue
        entry: dict[str, Any] = event  # type: ignore[assignment]
        entry["date"] = found["date_value"] or None
        entry["date_granularity"] = found["granularity"] or None
        entry["date_source"] = found["date_source"]
        if found["place_text"]:
            entry["place"] = {
                "text": found["place_text"],
                "name": found["place_actor__name"],
                "country": found["place_actor__country"] or None,
            }
        if found["event__cluster_member__cluster_id"] is not None:
            entry["cluster"] = {
                "id": found["event__cluster_member__cluster_id"],
                "status": found["event__cluster_member__cluster__status"],
                "confidence": found["event__cluster_member__cluster__confidence"],
                "type": found["event__cluster_member__cluster__event_type"],
                "date": found["event__cluster_member__cluster__date_value"] or None,
                "date_granularity": found["event__cluster_member__cluster__granularity"] or None,
                "place": found["event__cluster_member__cluster__place_text"] or None,
            }

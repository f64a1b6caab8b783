"""Dates resolved and stored: DATE mentions' values, events' dates and places, the publication date check,
a reviewer's confirmation or correction of the publication date, and the source reliability flag.

`article_dates_resolve` is idempotent: it recomputes every value of an article from its text, its
publication date and its DATE mentions (values set by hand are kept), then its events' dates and
places, then the publication date check (unless a reviewer settled the date). `dates_ensure` runs it
for the articles of a project that have DATE mentions or events without a stored value yet, so a
reader (an export, the linking job) never sees a mention without its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from annotations.dates import DateValue, Span, published_check, resolve_article, sentence_bounds
from annotations.models import (
    Article,
    ArticleCheck,
    Event,
    EventArgument,
    EventResolution,
    Mention,
    MentionDate,
    Project,
)

DATE_LABEL = "DATE"
VALUE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?(?:/\d{4}(?:-\d{2}(?:-\d{2})?)?)?$")


class PublishedConflict(Exception):
    """Someone confirmed or corrected the publication date since the client read it. Maps to 409."""

    def __init__(self, *, article_id: int, expected: int, current: int):
        self.article_id, self.expected, self.current = article_id, expected, current
        super().__init__(
            f"Article {article_id}'s publication date is at version {current}, not {expected}: another reviewer "
            "confirmed or corrected it. Reload the article and decide again."
        )


def _stored_value(row: MentionDate) -> DateValue:
    return DateValue(row.value or None, row.granularity, row.flag, row.absolute, row.note)


@transaction.atomic
def article_dates_resolve(*, article_id: int) -> dict[str, int]:
    """Resolve every DATE mention, event date and place of one article; check its publication date."""
    article = Article.objects.select_for_update().get(pk=article_id)
    mentions = list(
        Mention.objects.filter(layer__article=article, label=DATE_LABEL)
        .select_related("date")
        .order_by("layer_id", "start")
    )
    by_layer: dict[int, list[Mention]] = {}
    for mention in mentions:
        by_layer.setdefault(mention.layer_id, []).append(mention)
    values: dict[int, DateValue] = {}
    rows: list[MentionDate] = []
    for layer_mentions in by_layer.values():
        found = resolve_article(article.text, article.published, [Span(m.start, m.end) for m in layer_mentions])
        for mention, value in zip(layer_mentions, found, strict=True):
            stored = getattr(mention, "date", None)
            if stored is not None and stored.manual:
                values[mention.pk] = _stored_value(stored)
                continue
            values[mention.pk] = value
            rows.append(
                MentionDate(
                    mention=mention,
                    value=value.value or "",
                    granularity=value.granularity,
                    flag=value.flag,
                    absolute=value.absolute,
                    note=value.note,
                )
            )
    MentionDate.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["mention"],
        update_fields=["value", "granularity", "flag", "absolute", "note", "updated_at"],
    )
    # The check reads the dates before the events: an unsettled suspect date is no fallback.
    text_days = _event_days(article, mentions, values, published=None)
    check = ArticleCheck.objects.filter(article=article).first()
    if check is None or check.published_checked_at is None:
        reason = published_check(
            article.published, [(m.text, values[m.pk]) for m in mentions], [d for d, absolute in text_days if absolute]
        )
        if check is not None or reason:
            check, _ = ArticleCheck.objects.update_or_create(
                article=article, defaults={"published_suspect": bool(reason), "published_suspect_reason": reason}
            )
    suspect = check is not None and check.published_suspect
    fallback = None if suspect else article.published
    resolved = _event_resolutions(article, mentions, values, fallback)
    EventResolution.objects.bulk_create(
        resolved,
        update_conflicts=True,
        unique_fields=["event"],
        update_fields=[
            "date_value",
            "granularity",
            "date_source",
            "place_text",
            "place_actor",
            "sentence_start",
            "sentence_end",
        ],
    )
    return {"dates": len(mentions), "events": len(resolved), "suspect": int(suspect)}


def _arguments(article: Article) -> tuple[dict[int, list[EventArgument]], dict[int, int]]:
    """The arguments of the article's events by event, and the event each time argument's mention dates."""
    found: dict[int, list[EventArgument]] = {}
    times: dict[int, int] = {}
    for argument in EventArgument.objects.filter(event__layer__article=article).select_related("mention"):
        found.setdefault(argument.event_id, []).append(argument)
        if argument.role == "time":
            times.setdefault(argument.mention_id, argument.event_id)
    return found, times


def _event_date(
    event: Event,
    arguments: list[EventArgument],
    mentions: list[Mention],
    values: dict[int, DateValue],
    sentence: tuple[int, int],
    times: dict[int, int],
) -> tuple[DateValue | None, str]:
    for argument in arguments:
        if argument.role == "time" and (value := values.get(argument.mention_id)) and value.value:
            return value, EventResolution.Source.TIME_ARGUMENT
    start, end = sentence
    # A date that is another event's time argument ("since the July 26 coup") dates that event, not this one.
    near = [
        (abs(m.start - event.trigger_start), m.start, values[m.pk])
        for m in mentions
        if m.layer_id == event.layer_id
        and start <= m.start < end
        and values[m.pk].value
        and times.get(m.pk, event.pk) == event.pk
    ]
    if near:
        return min(near, key=lambda item: (item[0], item[1]))[2], EventResolution.Source.SENTENCE
    return None, EventResolution.Source.NONE


def _event_days(
    article: Article, mentions: list[Mention], values: dict[int, DateValue], *, published: date | None
) -> list[tuple[date, bool]]:
    """(first day, from an absolute date?) of every event dated by its text."""
    arguments, times = _arguments(article)
    days = []
    for event in Event.objects.filter(layer__article=article):
        sentence = sentence_bounds(article.text, event.trigger_start)
        value, _ = _event_date(event, arguments.get(event.pk, []), mentions, values, sentence, times)
        if value is not None and value.granularity in ("day", "month") and (day := value.first_day):
            days.append((day, value.absolute))
    return days


def _event_resolutions(
    article: Article, mentions: list[Mention], values: dict[int, DateValue], fallback: date | None
) -> list[EventResolution]:
    arguments, times = _arguments(article)
    resolved = []
    for event in Event.objects.filter(layer__article=article).order_by("id"):
        sentence = sentence_bounds(article.text, event.trigger_start)
        own = arguments.get(event.pk, [])
        value, source = _event_date(event, own, mentions, values, sentence, times)
        if value is None and fallback is not None:
            value, source = DateValue(fallback.isoformat(), "day"), EventResolution.Source.PUBLISHED
        place = next((a.mention for a in own if a.role == "place"), None)
        resolved.append(
            EventResolution(
                event=event,
                date_value=value.value or "" if value else "",
                granularity=value.granularity if value else "",
                date_source=source,
                place_text=place.text if place else "",
                place_actor_id=place.actor_id if place else None,
                sentence_start=sentence[0],
                sentence_end=sentence[1],
            )
        )
    return resolved


def articles_needing_dates(project: Project) -> list[int]:
    """Articles with a DATE mention or an event that has no stored value yet."""
    undated = Mention.objects.filter(layer__article=OuterRef("pk"), label=DATE_LABEL, date__isnull=True)
    unresolved = Event.objects.filter(layer__article=OuterRef("pk"), resolution__isnull=True)
    return list(
        Article.objects.filter(project=project)
        .filter(Q(Exists(undated)) | Q(Exists(unresolved)))
        .values_list("pk", flat=True)
    )


def dates_ensure(*, project: Project, article_ids: Iterable[int] | None = None) -> int:
    """Resolve the articles that need it (all given ones when `article_ids` is set); how many were."""
    ids = list(article_ids) if article_ids is not None else articles_needing_dates(project)
    for article_id in ids:
        article_dates_resolve(article_id=article_id)
    return len(ids)


def check_date_value(value: str, granularity: str) -> None:
    if value and not VALUE_RE.match(value):
        raise ValidationError({"value": [f"{value!r} is not YYYY, YYYY-MM, YYYY-MM-DD or START/END"]})
    expected = {4: "year", 7: "month", 10: "day"}.get(len(value), "range") if value else ""
    if granularity and granularity != expected:
        raise ValidationError({"granularity": [f"{value!r} is a {expected or 'missing'} value, not {granularity!r}"]})
    if value:
        for part in value.split("/"):
            pieces = [int(p) for p in part.split("-")]
            try:
                date(pieces[0], pieces[1] if len(pieces) > 1 else 1, pieces[2] if len(pieces) > 2 else 1)
            except ValueError:
                raise ValidationError({"value": [f"{part} is not a date"]}) from None


@transaction.atomic
def mention_date_set(*, mention: Mention, value: str) -> MentionDate:
    """Set a DATE mention's value by hand (kept when the article's dates are resolved again); an empty
    value goes back to the resolved one."""
    if mention.label != DATE_LABEL:
        raise ValidationError({"mention": [f"is a {mention.label} mention, not a {DATE_LABEL} one"]})
    value = value.strip()
    if not value:
        MentionDate.objects.filter(mention=mention).update(manual=False)
        article_dates_resolve(article_id=mention.layer.article_id)
        return MentionDate.objects.get(mention=mention)
    check_date_value(value, "")
    granularity = {4: "year", 7: "month", 10: "day"}.get(len(value), "range")
    row, _ = MentionDate.objects.update_or_create(
        mention=mention,
        defaults={"value": value, "granularity": granularity, "flag": "", "note": "", "manual": True},
    )
    article_dates_resolve(article_id=mention.layer.article_id)
    return row


@transaction.atomic
def article_published_set(*, article: Article, published: date | None, version: int, user: Any) -> ArticleCheck:
    """A reviewer confirms (the same date) or corrects the publication date. The client names the
    `published_version` it read: a second reviewer deciding on a stale read gets PublishedConflict (409)
    and nothing of the first decision is lost. A correction resolves the article's dates again."""
    Article.objects.select_for_update().filter(pk=article.pk).first()  # serialise deciders on the article row
    check, _ = ArticleCheck.objects.select_for_update().get_or_create(article=article)
    if check.published_version != version:
        raise PublishedConflict(article_id=article.pk, expected=version, current=check.published_version)
    Article.objects.filter(pk=article.pk).update(published=published)
    article.published = published
    check.published_suspect = False
    check.published_suspect_reason = ""
    check.published_checked_by = user
    check.published_checked_at = timezone.now()
    check.published_version += 1
    check.save()
    article_dates_resolve(article_id=article.pk)
    check.refresh_from_db()
    return check


def check_reliability(reliability: str) -> None:
    if reliability not in ArticleCheck.Reliability.values:
        allowed = ", ".join(v for v in ArticleCheck.Reliability.values if v) + " or empty"
        raise ValidationError({"reliability": [f"{reliability!r} is not a reliability flag; use {allowed}"]})


@transaction.atomic
def article_reliability_set(*, article: Article, reliability: str, note: str = "") -> ArticleCheck:
    """Flag (or clear) the article's source as machine-spun, unreliable or a translation, with a note."""
    check_reliability(reliability)
    check, _ = ArticleCheck.objects.update_or_create(
        article=article, defaults={"reliability": reliability, "reliability_note": note.strip()}
    )
    return check

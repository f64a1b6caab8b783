"""services.dates on the database: DATE values stored, events dated and placed, the publication date
checked, confirmed or corrected by a reviewer (409 on a stale read), the source reliability flag."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from annotations.models import ArticleCheck, EventArgument, EventResolution, MentionDate
from annotations.services.dates import (
    PublishedConflict,
    article_dates_resolve,
    article_published_set,
    article_reliability_set,
    mention_date_set,
)
from tests.factories import ArticleFactory, LayerFactory, MentionFactory, UserFactory

TEXT = (
    "After the reception on Sunday December 3rd in Bamako, the delegation was received this Monday "
    "December 4th in Niamey by General Tiani. Documents were signed. Talks on February 30 failed."
)


def mention(layer, words: str, label: str = "DATE"):
    start = layer.article.text.index(words)
    return MentionFactory(layer=layer, label=label, start=start, end=start + len(words))


@pytest.fixture
def article(db):
    return ArticleFactory(text=TEXT, published=date(2023, 4, 12))


def test_date_mentions_get_values_and_a_wrong_publication_date_is_flagged(article):
    # given an annotator's layer with the dates of the text, "Monday" and "December 4th" apart
    layer = LayerFactory(article=article)
    sunday, monday, december, impossible = (
        mention(layer, w) for w in ("Sunday December 3rd", "Monday", "December 4th", "February 30")
    )

    article_dates_resolve(article_id=article.pk)

    values = {m.text: (m.date.value, m.date.granularity, m.date.flag) for m in (sunday, monday, december)}
    assert values == {
        "Sunday December 3rd": ("2023-12-03", "day", "weekday_conflict"),
        "Monday": ("2023-12-04", "day", "weekday_conflict"),
        "December 4th": ("2023-12-04", "day", "weekday_conflict"),
    }
    # the impossible date keeps its mention, without a value, flagged
    impossible.refresh_from_db()
    assert (impossible.date.value, impossible.date.flag) == ("", "impossible")
    check = ArticleCheck.objects.get(article=article)
    assert check.published_suspect
    assert "December 4 is a Monday in 2023, not in 2022" in check.published_suspect_reason


def test_a_reviewer_correction_resolves_the_dates_again_and_a_stale_second_decision_is_a_conflict(article):
    layer = LayerFactory(article=article)
    december = mention(layer, "December 4th")
    article_dates_resolve(article_id=article.pk)
    first, second = UserFactory(username="reviewer1"), UserFactory(username="reviewer2")

    check = article_published_set(article=article, published=date(2023, 12, 4), version=1, user=first)

    december.date.refresh_from_db()
    assert (december.date.value, december.date.flag) == ("2023-12-04", "")
    assert (check.published_suspect, check.published_version, check.published_checked_by) == (False, 2, first)
    # when a second reviewer decides on what they read before the first decision
    with pytest.raises(PublishedConflict, match="at version 2, not 1"):
        article_published_set(article=article, published=date(2023, 4, 12), version=1, user=second)
    # then nothing of the first decision is lost
    article.refresh_from_db()
    assert article.published == date(2023, 12, 4)
    assert ArticleCheck.objects.get(article=article).published_checked_by == first


def test_an_event_is_dated_by_its_time_argument_else_its_sentence_else_the_publication_date(article):
    article.published = date(2023, 12, 4)
    article.save()
    layer = LayerFactory(article=article)
    monday, niamey, tiani = mention(layer, "Monday"), mention(layer, "Niamey", "GPE"), mention(layer, "Tiani", "PERSON")
    mention(layer, "December 4th")
    received = layer.events.create(
        event_type="CONSULT", trigger_start=TEXT.index("received"), trigger_end=TEXT.index("received") + 8
    )
    EventArgument.objects.create(event=received, role="time", mention=monday)
    EventArgument.objects.create(event=received, role="place", mention=niamey)
    EventArgument.objects.create(event=received, role="actor", mention=tiani)
    start = TEXT.index("signed")
    signed = layer.events.create(event_type="AGREE", trigger_start=start, trigger_end=start + 6)

    article_dates_resolve(article_id=article.pk)

    found = EventResolution.objects.get(event=received)
    assert (found.date_value, found.date_source, found.place_text) == ("2023-12-04", "time_argument", "Niamey")
    assert EventResolution.objects.get(event=signed).date_source == "published"


def test_a_date_set_by_hand_is_kept_when_the_dates_are_resolved_again(article):
    layer = LayerFactory(article=article)
    december = mention(layer, "December 4th")

    mention_date_set(mention=december, value="2023-12")
    article_dates_resolve(article_id=article.pk)

    assert MentionDate.objects.filter(mention=december).values_list("value", "granularity", "manual").get() == (
        "2023-12",
        "month",
        True,
    )
    with pytest.raises(ValidationError, match="is not YYYY"):
        mention_date_set(mention=december, value="4 Dec")
    with pytest.raises(ValidationError, match="2023-02-30 is not a date"):
        mention_date_set(mention=december, value="2023-02-30")


def test_without_a_publication_date_relative_dates_stay_unresolved(db):
    article = ArticleFactory(text="The delegation was received on Monday in Niamey.", published=None)
    monday = mention(LayerFactory(article=article), "Monday")

    article_dates_resolve(article_id=article.pk)

    monday.refresh_from_db()
    assert (monday.date.value, monday.date.flag) == ("", "no_anchor")
    assert not ArticleCheck.objects.filter(article=article).exists()


def test_the_reliability_flag_is_set_with_a_note_and_checked(article):
    check = article_reliability_set(article=article, reliability="machine_spun", note=" rewritten by a bot ")
    assert (check.reliability, check.reliability_note) == ("machine_spun", "rewritten by a bot")
    with pytest.raises(ValidationError, match="'fake' is not a reliability flag"):
        article_reliability_set(article=article, reliability="fake")

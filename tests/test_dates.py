"""annotations.dates: date mentions normalised against a publication date or an anchor in the text."""

from __future__ import annotations

from datetime import date

import pytest

from annotations.dates import DateValue, Span, published_check, resolve, resolve_article, sentence_bounds

APRIL_12_2023 = date(2023, 4, 12)


@pytest.mark.parametrize(
    ("text", "value", "granularity"),
    [
        ("August 11, 2023", "2023-08-11", "day"),
        ("4 December 2023", "2023-12-04", "day"),
        ("March 2024", "2024-03", "month"),
        ("in 2021", "2021", "year"),
        ("2021-2023", "2021-01-01/2023-12-31", "range"),
        ("December 3-5, 2023", "2023-12-03/2023-12-05", "range"),
        ("July 26", "2022-07-26", "day"),  # the most recent July 26 on or before the base
        ("last July", "2022-07", "month"),
        ("at the end of March", "2023-03", "month"),
        ("on Monday", "2023-04-10", "day"),
        ("yesterday", "2023-04-11", "day"),
    ],
)
def test_dates_resolve_to_a_value_and_granularity(text, value, granularity):
    found = resolve(text, APRIL_12_2023)
    assert (found.value, found.granularity) == (value, granularity)


def test_a_weekday_and_date_take_the_year_the_calendar_agrees_with_and_flag_a_base_that_disagrees():
    # given an article published (it says) on April 12, 2023: December 4, 2022 was a Sunday
    found = resolve("this Monday December 4th", APRIL_12_2023)

    assert (found.value, found.flag) == ("2023-12-04", "weekday_conflict")
    assert found.note == "December 4 is a Monday in 2023, not in 2022 (the year the date 2023-04-12 suggests)"
    # and once the publication date is right, the same words resolve without a flag
    assert resolve("this Monday December 4th", date(2023, 12, 4)) == DateValue("2023-12-04", "day", absolute=True)


def test_a_weekday_and_its_date_in_two_mentions_resolve_together():
    text = "was received this Monday December 4th in Niamey"
    monday, december = Span(text.index("Monday"), text.index("Monday") + 6), Span(text.index("December"), 37)
    assert text[december.start : december.end] == "December 4th"

    values = resolve_article(text, date(2023, 12, 4), [monday, december])

    assert [v.value for v in values] == ["2023-12-04", "2023-12-04"]


def test_an_impossible_date_has_no_value_and_is_flagged():
    found = resolve("February 30", APRIL_12_2023)
    assert (found.value, found.flag, found.note) == (None, "impossible", "February 30 does not exist")
    assert resolve("Monday February 30", APRIL_12_2023).flag == "impossible"
    assert resolve("February 29", date(2024, 4, 1)).value == "2024-02-29"


def test_durations_and_vague_phrases_get_no_value():
    assert [resolve(t, APRIL_12_2023).flag for t in ("six months", "recent weeks", "earlier this month")] == [
        "duration",
        "duration",
        "unparsed",
    ]


def test_without_a_publication_date_relative_dates_resolve_only_against_an_absolute_date_of_the_text():
    # given an article without publication date, with one absolute date
    text = "The tour began on Tuesday January 16. On Thursday he was in Tehran. Protest on August 11, 2023."
    words = ("Tuesday January 16", "Thursday", "August 11, 2023")
    spans = [Span(text.index(w), text.index(w) + len(w)) for w in words]

    values = resolve_article(text, None, spans)

    # the pair takes the year near the anchor in which January 16 is a Tuesday, "Thursday" the one before it
    assert [v.value for v in values] == ["2024-01-16", "2024-01-11", "2023-08-11"]
    assert [v.flag for v in values] == ["", "", ""]
    # and with no absolute date at all, nothing relative resolves
    alone = resolve_article("We met on Monday, in July.", None, [Span(10, 16), Span(21, 25)])
    assert [(v.value, v.flag) for v in alone] == [(None, "no_anchor"), (None, "no_anchor")]


def test_a_sentence_is_found_around_a_position():
    text = "First one. The second “quoted.” Third\n\nFourth."
    assert text[slice(*sentence_bounds(text, text.index("second")))] == "The second “quoted.”"
    assert text[slice(*sentence_bounds(text, text.index("Fourth")))] == "Fourth."


def test_the_publication_date_check_names_its_reasons():
    pair = resolve("Monday December 4th", APRIL_12_2023)
    reason = published_check(APRIL_12_2023, [("Monday December 4th", pair)], [date(2023, 12, 4)])
    assert reason == (
        "weekday and date disagree with the calendar: “Monday December 4th”: December 4 is a Monday in 2023, "
        "not in 2022 (the year the date 2023-04-12 suggests); every dated event (2023-12-04) falls after the "
        "publication date 2023-04-12 (8 months later)"
    )
    assert published_check(date(2023, 12, 4), [], [date(2023, 12, 4)]) == ""
    assert published_check(None, [("x", pair)], [date(2030, 1, 1)]) == ""

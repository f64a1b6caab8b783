"""Date mentions normalised: an ISO value with its granularity, resolved against a base date.

Pure (no database). `resolve_article` takes an article's text, its publication date (or none)
and its DATE mention spans, and returns one `DateValue` per span:

- explicit dates ("August 11, 2023", "March 2024", "2021") resolve without a base;
- a weekday + date pair ("this Monday December 4th", also when the model split it into two
  mentions) takes the year near the base in which that date falls on that weekday; when the year
  the base suggests (the most recent such date on or before it) disagrees with the calendar, the
  value carries `weekday_conflict` (a sign the publication date is wrong);
- relative dates ("on Monday", "last July", "at the end of March", "yesterday") resolve against
  the publication date, or without one against the nearest absolute date of the text, else not;
- impossible dates ("February 30") get no value and the flag `impossible`; what dateparser cannot
  read gets `unparsed`; a relative date without anything to anchor it `no_anchor`.

Values: `YYYY-MM-DD` (day), `YYYY-MM` (month), `YYYY` (year), `START/END` (range of days).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dateparser.date import DateDataParser

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_FLAGS = re.IGNORECASE

# "Monday December 4th", "Monday, 4 December", "Monday December 4, 2023"
WEEKDAY_DATE = re.compile(
    rf"\b{_WEEKDAY},?\s+(?:the\s+)?(?:{_MONTH}\s+{_DAY}|{_DAY.replace('day>', 'day2>')}\s+(?:of\s+)?"
    rf"{_MONTH.replace('month>', 'month2>')})(?:,?\s+{_YEAR})?\b",
    _FLAGS,
)
MONTH_DAY = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY}|{_DAY.replace('day>', 'day2>')}\s+(?:of\s+)?{_MONTH.replace('month>', 'month2>')})"
    rf"(?:,?\s+{_YEAR})?\b",
    _FLAGS,
)
MONTH_DAY_RANGE = re.compile(
    rf"\b{_MONTH}\s+(?P<first>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|–|to|and)\s*(?P<last>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"(?:,?\s+{_YEAR})?\b",
    _FLAGS,
)
MONTH_YEAR = re.compile(
    rf"^(?:(?:in|since|by|until|of|early|late|mid|the end of|end of|the)\s+)*{_MONTH}\s+{_YEAR}$", _FLAGS
)
YEAR_ONLY = re.compile(rf"^(?:(?:in|since|by|until|of|early|late|mid|the)\s+)*{_YEAR}$", _FLAGS)
YEAR_RANGE = re.compile(r"^(?:from\s+|between\s+)?(?P<first>\d{4})\s*(?:-|–|to|and)\s*(?P<last>\d{4})$", _FLAGS)
MONTH_ONLY = re.compile(
    rf"^(?:(?:at|in|since|by|until|of|early|late|mid|last|this|the end of|end of|the beginning of|the)\s+)*-?{_MONTH}$",
    _FLAGS,
)
WEEKDAY_ONLY = re.compile(
    rf"^(?:(?:on|this|last|past|since|by)\s+)*{_WEEKDAY}(?:\s+(?:morning|evening|night))?$", _FLAGS
)
# A length of time, not a date ("six months", "just over two months", "days").
DURATION = re.compile(
    r"^(?:(?:about|some|over|just|nearly|almost|more|than|less|for|the|past|next|few|several|a|an|\d+|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|twelve|recent)\s+)*(?:days?|weeks?|months?|years?|decades?)$",
    _FLAGS,
)
# Words around a date that dateparser would stumble on.
NOISE = re.compile(r"^(?:on|in|at|since|by|until|from|of|the|this)\s+", _FLAGS)
# How far ahead of a weekday mention a date may follow ("Monday December 4th" split in two mentions).
PAIR_GAP = 3

# Years a weekday + date pair is looked for around its base (the weekday cycle repeats in 6-11 years).
YEAR_SPAN = 5


@dataclass(frozen=True)
class DateValue:
    value: str | None  # ISO: day, month, year, or START/END
    granularity: str  # day | month | year | range | "" (no value)
    flag: str = ""  # "" | impossible | unparsed | no_anchor | weekday_conflict
    absolute: bool = False  # stands on its own (an explicit year, or a weekday + date pair): can anchor others
    note: str = ""  # why: "December 4 is a Monday in 2023, not in 2022"

    @property
    def first_day(self) -> date | None:
        """The first day the value covers (for windows and comparisons)."""
        if not self.value:
            return None
        text = self.value.partition("/")[0]
        parts = [int(p) for p in text.split("-")]
        return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)

    @property
    def last_day(self) -> date | None:
        if not self.value:
            return None
        text = self.value.rpartition("/")[2]
        parts = [int(p) for p in text.split("-")]
        if len(parts) == 3:
            return date(*parts)
        if len(parts) == 2:
            return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
        return date(parts[0], 12, 31)


NONE = DateValue(None, "")


def _valid_day(year: int | None, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    # Without a year, February 29 is possible.
    last = calendar.monthrange(year if year is not None else 2024, month)[1]
    return day <= last


def _month_of(match: re.Match[str]) -> int:
    name = (match.groupdict().get("month") or match.groupdict().get("month2") or "").lower().rstrip(".")
    return MONTHS[name]


def _day_of(match: re.Match[str]) -> int:
    return int(match.groupdict().get("day") or match.groupdict().get("day2") or 0)


def _most_recent(month: int, day: int, base: date) -> date:
    """The date (month, day) on or before `base` (news report what happened)."""
    for year in (base.year, base.year - 1):
        if _valid_day(year, month, day) and (candidate := date(year, month, day)) <= base:
            return candidate
    return date(base.year - 1, month, min(day, 28))


def weekday_pair(weekday: int, month: int, day: int, year: int | None, base: date | None) -> DateValue:
    """A weekday with a month and day: the year is the one that agrees with the calendar."""
    if not _valid_day(year, month, day):
        return DateValue(None, "", "impossible", note=f"{calendar.month_name[month]} {day} does not exist")
    name = f"{calendar.month_name[month]} {day}"
    if year is not None:
        found = date(year, month, day)
        if found.weekday() != weekday:
            return DateValue(
                found.isoformat(),
                "day",
                "weekday_conflict",
                True,
                f"{name}, {year} is a {calendar.day_name[found.weekday()]}, not a {calendar.day_name[weekday]}",
            )
        return DateValue(found.isoformat(), "day", absolute=True)
    if base is None:
        return DateValue(None, "", "no_anchor")
    candidates = [
        date(y, month, day)
        for y in range(base.year - YEAR_SPAN, base.year + YEAR_SPAN + 1)
        if _valid_day(y, month, day) and date(y, month, day).weekday() == weekday
    ]
    if not candidates:
        return DateValue(None, "", "unparsed")
    found = min(candidates, key=lambda d: (abs((d - base).days), d))
    assumed = _most_recent(month, day, base)
    if assumed.weekday() != weekday:
        note = (
            f"{name} is a {calendar.day_name[weekday]} in {found.year}, not in {assumed.year} "
            f"(the year the date {base.isoformat()} suggests)"
        )
        return DateValue(found.isoformat(), "day", "weekday_conflict", True, note)
    return DateValue(found.isoformat(), "day", absolute=True)


def _parse_relative(text: str, base: date) -> DateValue:
    """What dateparser makes of `text` against `base` (past preferred), with its granularity."""
    parser = DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime(base.year, base.month, base.day),
            "PREFER_DATES_FROM": "past",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    data = parser.get_date_data(text)
    if data.date_obj is None:
        return DateValue(None, "", "unparsed")
    found = data.date_obj.date()
    period = data.period or "day"
    if period == "year":
        return DateValue(f"{found.year:04d}", "year")
    if period == "month":
        return DateValue(f"{found.year:04d}-{found.month:02d}", "month")
    if period == "week":
        start = found - timedelta(days=found.weekday())
        return DateValue(f"{start.isoformat()}/{(start + timedelta(days=6)).isoformat()}", "range")
    return DateValue(found.isoformat(), "day")


def resolve(text: str, base: date | None, *, after: str = "", before: str = "") -> DateValue:
    """The value of one date expression. `base`: the publication date or an anchor (None: neither).

    `after` is the article text right after the mention (a weekday mention followed by its date),
    `before` the text right before it (a date preceded by its weekday).
    """
    phrase = " ".join(text.split()).strip(" ,.;:()")
    if not phrase:
        return DateValue(None, "", "unparsed")
    # A weekday and its date, in the mention or across it and its neighbour ("Monday" + "December 4th").
    pair = WEEKDAY_DATE.search(phrase)
    if pair is None and WEEKDAY_ONLY.match(phrase) and after and len(after) - len(after.lstrip()) <= PAIR_GAP:
        pair = WEEKDAY_DATE.match(f"{WEEKDAY_ONLY.match(phrase)['weekday']} {after.strip()}")  # type: ignore[index]
    if pair is None and (ahead := re.search(rf"{_WEEKDAY},?\s+(?:the\s+)?$", before, _FLAGS)):
        pair = WEEKDAY_DATE.match(f"{ahead['weekday']} {phrase}")
        pair = pair if pair is not None and pair.end() >= len(ahead["weekday"]) + len(phrase) else None
    if pair is not None:
        year = int(pair["year"]) if pair["year"] else None
        return weekday_pair(WEEKDAYS[pair["weekday"].lower()], _month_of(pair), _day_of(pair), year, base)
    if match := MONTH_DAY_RANGE.search(phrase):
        month, year = _month_of(match), int(match["year"]) if match["year"] else None
        first, last = int(match["first"]), int(match["last"])
        if not (_valid_day(year, month, first) and _valid_day(year, month, last)) or first > last:
            return DateValue(None, "", "impossible", note="a day of the range does not exist")
        if year is None:
            if base is None:
                return DateValue(None, "", "no_anchor")
            year = _most_recent(month, first, base).year
        return DateValue(
            f"{date(year, month, first).isoformat()}/{date(year, month, last).isoformat()}", "range", absolute=True
        )
    if match := MONTH_DAY.search(phrase):
        month, day = _month_of(match), _day_of(match)
        year = int(match["year"]) if match["year"] else None
        if not _valid_day(year, month, day):
            return DateValue(None, "", "impossible", note=f"{calendar.month_name[month]} {day} does not exist")
        if year is not None:
            return DateValue(date(year, month, day).isoformat(), "day", absolute=True)
        if base is None:
            return DateValue(None, "", "no_anchor")
        return DateValue(_most_recent(month, day, base).isoformat(), "day")
    if match := MONTH_YEAR.match(phrase):
        return DateValue(f"{int(match['year']):04d}-{_month_of(match):02d}", "month", absolute=True)
    if match := YEAR_RANGE.match(phrase):
        first, last = int(match["first"]), int(match["last"])
        if first <= last:
            return DateValue(f"{first:04d}-01-01/{last:04d}-12-31", "range", absolute=True)
    if match := YEAR_ONLY.match(phrase):
        return DateValue(f"{int(match['year']):04d}", "year", absolute=True)
    if DURATION.match(phrase):
        return DateValue(None, "", "duration")
    if match := MONTH_ONLY.match(phrase):
        if base is None:
            return DateValue(None, "", "no_anchor")
        month = _month_of(match)
        # "in March" written in March is this March; "last March" then is a year earlier.
        year = (
            base.year if month < base.month or (month == base.month and "last" not in phrase.lower()) else base.year - 1
        )
        return DateValue(f"{year:04d}-{month:02d}", "month")
    if match := WEEKDAY_ONLY.match(phrase):
        if base is None:
            return DateValue(None, "", "no_anchor")
        back = (base.weekday() - WEEKDAYS[match["weekday"].lower()]) % 7
        return DateValue((base - timedelta(days=back)).isoformat(), "day")
    if base is None:
        # Anything else is relative ("yesterday", "two days ago") unless it names a year.
        if not re.search(r"\d{4}", phrase):
            return DateValue(None, "", "no_anchor")
        value = _parse_relative(NOISE.sub("", phrase), date.today())
        return replace(value, absolute=value.value is not None)
    return _parse_relative(NOISE.sub("", phrase), base)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def resolve_article(text: str, published: date | None, spans: Sequence[Span]) -> list[DateValue]:
    """Every DATE span of an article resolved (in the order given).

    With a publication date everything resolves against it. Without, a first pass finds the
    dates that stand on their own (an explicit year); the others resolve against the nearest of
    those before them (else the first one in the text); a text with none leaves them unresolved.
    """

    def one(span: Span, base: date | None) -> DateValue:
        return resolve(
            text[span.start : span.end],
            base,
            after=text[span.end : span.end + 30],
            before=text[max(0, span.start - 12) : span.start],
        )

    if published is not None:
        return [one(span, published) for span in spans]
    resolved = [one(span, None) for span in spans]
    # Round 0 resolves the weekday + date pairs against the explicit dates; round 1 the relative
    # dates against those and the pairs. A pair's year then agrees with the calendar near an
    # anchor, not with a publication date, so it carries no conflict.
    for round_ in (0, 1):
        anchors = sorted(
            (span.start, day)
            for span, value in zip(spans, resolved, strict=True)
            if value.absolute and value.granularity == "day" and (day := value.first_day) is not None
        )
        if not anchors:
            return resolved
        for i, (span, value) in enumerate(zip(spans, resolved, strict=True)):
            if value.value is not None or value.flag != "no_anchor":
                continue
            before = [day for start, day in anchors if start < span.start]
            found = one(span, before[-1] if before else anchors[0][1])
            if round_ == 1 or found.absolute:
                resolved[i] = replace(found, flag="", note="") if found.flag == "weekday_conflict" else found
    return resolved


def nearest(values: Sequence[tuple[int, DateValue]], position: int) -> DateValue | None:
    """The resolved value whose span starts closest to `position` (ties: the earlier)."""
    best = min(
        ((abs(start - position), start, value) for start, value in values if value.value is not None),
        default=None,
        key=lambda item: (item[0], item[1]),
    )
    return best[2] if best else None


# --- Sentences, event dates, the publication date check ----------------------------------------

# A sentence ends at . ! ? (maybe before a closing quote) followed by space and a capital, or at a blank line.
SENTENCE_END = re.compile(r"(?<=[.!?])(?P<close>[\"”’)]?)\s+(?=[\"“«'‘(\[]?[A-Z0-9À-Ý])|\n\s*\n")


def sentence_bounds(text: str, position: int) -> tuple[int, int]:
    """[start, end) of the sentence around `position` (a plain rule: no NLP in the web process)."""
    start = 0
    for match in SENTENCE_END.finditer(text, 0, len(text)):
        if match.end() <= position:
            start = match.end()
        elif match.start() >= position:
            return start, match.start() + len(match["close"] or "")
    return start, len(text)


# How far after the publication date the dates an article reports may fall before it is suspect.
FUTURE_MARGIN_DAYS = 31


def published_check(published: date | None, values: Sequence[tuple[str, DateValue]], event_days: Sequence[date]) -> str:
    """Why the publication date is suspect ("" when it is not): weekday + date pairs that disagree with
    the calendar for the year the publication date suggests, or event dates all well after it.

    `values` are (mention text, value) of the article's DATE mentions, `event_days` the resolved days of
    its events that come from the text (time arguments, sentence dates), not from the publication date.
    """
    if published is None:
        return ""
    reasons = []
    conflicts = [f"“{text}”: {value.note}" for text, value in values if value.flag == "weekday_conflict"]
    if conflicts:
        reasons.append("weekday and date disagree with the calendar: " + "; ".join(dict.fromkeys(conflicts)))
    limit = published + timedelta(days=FUTURE_MARGIN_DAYS)
    if event_days and all(day > limit for day in event_days):
        first, last = min(event_days), max(event_days)
        months = (first.year - published.year) * 12 + first.month - published.month
        span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        reasons.append(
            f"every dated event ({span}) falls after the publication date {published.isoformat()}"
            f" ({months} months later)"
        )
    return "; ".join(reasons)

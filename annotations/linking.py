"""Cross-document event linking: which events of different articles report the same real-world event.

Pure (no database): `link` takes `EventRecord`s and returns proposed clusters with a confidence.

Candidate pairs come from blocking, never from all pairs: events meet only within their type family
(`family`), and then only when their dates are within `window` days (a sliding window over the
events sorted by date), or, when one of them has no date, when they are of one story or share an
actor code (an inverted index on (family, code), capped at `BLOCK_CAP` events per code). The work grows with the
number of events times the events of one family within one window: sub-quadratic for a corpus that
spans more than a few windows.

A pair's score weighs (see `pair_score`) the actors and recipients (registry codes: an actor linked
to the registry counts by its ISO-3 country, else its name; surface strings only when neither side
has a code, at half weight), the dates, the places (a city and its country agree; two countries do
not), the type (same type over same family) and the story (reports grouped as one story at import).
Pairs at or above `threshold` are merged best first, and a merge that would put two dates more than
a window apart, or two incompatible places, in one cluster is refused, so a chain of weak links
cannot glue two real-world events together. Events of clusters a reviewer settled (`frozen`) are
left out of every pair.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

# Event types that can report one real-world event: a visit where an agreement is signed is
# reported as the meeting (CONSULT), the signing (AGREE) or the cooperation it strengthens (COOPERATE).
FAMILIES = {"AGREE": "meet-agree", "COOPERATE": "meet-agree", "CONSULT": "meet-agree"}
WINDOW_DAYS = 3
THRESHOLD = 0.6
BLOCK_CAP = 50
WEIGHTS = {"actors": 0.4, "date": 0.25, "place": 0.1, "type": 0.1, "story": 0.15}


def family(event_type: str) -> str:
    return FAMILIES.get(event_type, event_type)


@dataclass(frozen=True)
class EventRecord:
    id: int
    article_id: int
    story: str  # the article's story key (or its own key)
    event_type: str
    first_day: date | None = None
    last_day: date | None = None
    codes: frozenset[str] = frozenset()  # actors and recipients linked to the registry
    names: frozenset[str] = frozenset()  # actors and recipients not linked (lower-cased text)
    place: str = ""  # the place's registry name, else its text (lower-cased)
    place_country: str = ""  # ISO-3 of a registry place
    place_is_country: bool = False


@dataclass
class Cluster:
    event_ids: list[int]
    confidence: float
    pairs: list[tuple[int, int, float]] = field(default_factory=list)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _gap(a: EventRecord, b: EventRecord) -> int | None:
    """Days between the two events' date intervals (0 when they overlap); None when one has no date."""
    if a.first_day is None or b.first_day is None or a.last_day is None or b.last_day is None:
        return None
    if a.last_day < b.first_day:
        return (b.first_day - a.last_day).days
    if b.last_day < a.first_day:
        return (a.first_day - b.last_day).days
    return 0


def places_compatible(a: EventRecord, b: EventRecord) -> bool | None:
    """True / False, or None when one has no place."""
    if not a.place or not b.place:
        return None
    if a.place == b.place:
        return True
    # A city and its country agree; two cities of one country (or two names of it) too, loosely.
    return bool(a.place_country) and a.place_country == b.place_country


def pair_score(a: EventRecord, b: EventRecord, window: int = WINDOW_DAYS) -> float:
    """0 … 1; 0 when the dates are too far apart or the places disagree."""
    gap = _gap(a, b)
    if gap is not None and gap > window:
        return 0.0
    place = places_compatible(a, b)
    if place is False:
        return 0.0
    if a.codes and b.codes:
        actors = _jaccard(a.codes, b.codes)
    elif a.names and b.names:
        actors = 0.5 * _jaccard(a.names | a.codes, b.names | b.codes)
    else:
        actors = 0.0
    same_story = a.story == b.story
    # An undated report matches on its other evidence, but only within its story does that carry weight.
    dated = (0.5 if same_story else 0.0) if gap is None else 1.0 - gap / (window + 1)
    return (
        WEIGHTS["actors"] * actors
        + WEIGHTS["date"] * dated
        + WEIGHTS["place"] * (1.0 if place else 0.5)
        + WEIGHTS["type"] * (1.0 if a.event_type == b.event_type else 0.8)
        + WEIGHTS["story"] * (1.0 if same_story else 0.0)
    )


def candidate_pairs(records: Sequence[EventRecord], window: int = WINDOW_DAYS) -> Iterable[tuple[int, int]]:
    """Index pairs (i < j) worth scoring: blocked by family, then by date window or a shared actor code."""
    by_family: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_family[family(record.event_type)].append(i)
    seen: set[tuple[int, int]] = set()
    for members in by_family.values():
        dated = sorted((i for i in members if records[i].first_day is not None), key=lambda i: records[i].first_day)  # type: ignore[arg-type,return-value]
        ordinals = [records[i].first_day.toordinal() for i in dated]  # type: ignore[union-attr]
        for position, i in enumerate(dated):
            last = records[i].last_day or records[i].first_day
            assert last is not None
            end = bisect.bisect_right(ordinals, last.toordinal() + window)
            for j in dated[position + 1 : end]:
                pair = (min(i, j), max(i, j))
                if pair not in seen:
                    seen.add(pair)
                    yield pair
        # An undated event meets the events of its story, and a few (BLOCK_CAP) sharing an actor code.
        by_key: dict[str, list[int]] = defaultdict(list)
        for i in members:
            for key in (f"story:{records[i].story}", *(f"code:{c}" for c in records[i].codes or records[i].names)):
                if len(by_key[key]) < BLOCK_CAP or key.startswith("story:"):
                    by_key[key].append(i)
        for i in members:
            if records[i].first_day is not None:
                continue
            keys = (f"story:{records[i].story}", *(f"code:{c}" for c in records[i].codes or records[i].names))
            for key in keys:
                for j in by_key.get(key, ()):
                    if j != i:
                        pair = (min(i, j), max(i, j))
                        if pair not in seen:
                            seen.add(pair)
                            yield pair


def link(records: Sequence[EventRecord], *, window: int = WINDOW_DAYS, threshold: float = THRESHOLD) -> list[Cluster]:
    """Clusters of two or more events, most confident first."""
    scored = []
    for i, j in candidate_pairs(records, window):
        score = pair_score(records[i], records[j], window)
        if score >= threshold:
            scored.append((score, i, j))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    parent = list(range(len(records)))
    # Per component: its members, the date span of its dated members, its places.
    members: dict[int, list[int]] = {i: [i] for i in range(len(records))}
    span: dict[int, tuple[int, int] | None] = {
        i: (r.first_day.toordinal(), (r.last_day or r.first_day).toordinal()) if r.first_day else None
        for i, r in enumerate(records)
    }
    places: dict[int, list[EventRecord]] = {i: [r] if r.place else [] for i, r in enumerate(records)}
    links: dict[int, list[tuple[int, int, float]]] = {i: [] for i in range(len(records))}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for score, i, j in scored:
        a, b = root(i), root(j)
        if a == b:
            links[a].append((records[i].id, records[j].id, score))
            continue
        sa, sb = span[a], span[b]
        merged_span = sa or sb
        if sa and sb:
            merged_span = (min(sa[0], sb[0]), max(sa[1], sb[1]))
            if merged_span[1] - merged_span[0] > window:
                continue
        if any(places_compatible(p, q) is False for p in places[a] for q in places[b]):
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a] += members.pop(b)
        span[a] = merged_span
        places[a] += places.pop(b)
        links[a] += [*links.pop(b), (records[i].id, records[j].id, score)]
    clusters = [
        Cluster(
            event_ids=sorted(records[i].id for i in group),
            confidence=round(min(1.0, sum(s for _, _, s in links[r]) / len(links[r])), 3),
            pairs=links[r],
        )
        for r, group in members.items()
        if len(group) > 1
    ]
    clusters.sort(key=lambda c: (-c.confidence, c.event_ids[0]))
    return clusters


def precision_recall(proposed: Iterable[Iterable[int]], truth: Iterable[Iterable[int]]) -> tuple[float, float]:
    """Pairwise precision and recall of proposed clusters against true ones (pairs of events linked)."""

    def pairs(groups: Iterable[Iterable[int]]) -> set[tuple[int, int]]:
        found = set()
        for group in groups:
            ids = sorted(group)
            found |= {(a, b) for n, a in enumerate(ids) for b in ids[n + 1 :]}
        return found

    got, want = pairs(proposed), pairs(truth)
    precision = len(got & want) / len(got) if got else 1.0
    recall = len(got & want) / len(want) if want else 1.0
    return precision, recall

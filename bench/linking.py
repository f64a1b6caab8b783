"""Cross-document event linking (annotations.linking): run time on 10,000 events, precision and recall
on a synthetic multi-outlet set.

    .venv/bin/python bench/linking.py [--events 10000] [--outlets 3] [--seed 1] [--days 730]

The synthetic set: real-world events (a type, two actor codes, a day, a place) each reported by 1 to
`outlets` outlets; a report keeps the event's codes (sometimes only one of them, sometimes one more
code, sometimes an unlinked name instead), its day (sometimes a day off, sometimes no date), its
place (sometimes none) and its type (sometimes a type of the same family); reports of one event are
grouped as one story half of the time. Distractors: events of the same actors and type some days
apart. Pairwise precision / recall against the true grouping (`linking.precision_recall`).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotations.linking import EventRecord, candidate_pairs, link, precision_recall

TYPES = ["AGREE", "COOPERATE", "CONSULT", "AID", "ACCUSE", "THREATEN", "ASSAULT", "SANCTION", "MOBILIZE", "REQUEST"]
CODES = ["RUS", "NER", "MLI", "BFA", "FRA", "USA", "TCD", "CHN", "TUR", "IRN", "DZA", "NGA", "SEN", "GHA", "CIV"]
PLACES = [("niamey", "NER"), ("bamako", "MLI"), ("ouagadougou", "BFA"), ("moscow", "RUS"), ("paris", "FRA")]


def synthetic(events: int, outlets: int, seed: int, days: int = 730) -> tuple[list[EventRecord], list[list[int]]]:
    """About `events` reports of real-world events; the true clusters as lists of report ids."""
    rng = random.Random(seed)
    records: list[EventRecord] = []
    truth: list[list[int]] = []
    start = date(2023, 1, 1)
    real = 0
    while len(records) < events:
        real += 1
        kind = rng.choice(TYPES)
        codes = rng.sample(CODES, 2)
        day = start + timedelta(days=rng.randrange(days))
        place, country = rng.choice(PLACES)
        story = f"story-{real}"
        group = []
        for outlet in range(rng.randint(1, outlets)):
            report_codes = set(codes)
            roll = rng.random()
            if roll < 0.15:
                report_codes = {codes[0]}
            elif roll < 0.25:
                report_codes.add(rng.choice(CODES))
            names: frozenset[str] = frozenset()
            if rng.random() < 0.1:
                names, report_codes = frozenset({"the delegation"}), {codes[0]}
            report_day: date | None = day
            roll = rng.random()
            if roll < 0.1:
                report_day = day + timedelta(days=rng.choice((-1, 1)))
            elif roll < 0.25:
                report_day = None
            report_type = kind
            if kind in ("AGREE", "COOPERATE", "CONSULT") and rng.random() < 0.3:
                report_type = rng.choice(("AGREE", "COOPERATE", "CONSULT"))
            report_place = place if rng.random() < 0.6 else ""
            records.append(
                EventRecord(
                    id=len(records),
                    article_id=len(records),
                    story=story if rng.random() < 0.5 else f"{story}-{outlet}",
                    event_type=report_type,
                    first_day=report_day,
                    last_day=report_day,
                    codes=frozenset(report_codes),
                    names=names,
                    place=report_place,
                    place_country=country if report_place else "",
                )
            )
            group.append(len(records) - 1)
        truth.append(group)
    return records, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--outlets", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=730, help="Days the real-world events spread over.")
    options = parser.parse_args()
    records, truth = synthetic(options.events, options.outlets, options.seed, options.days)
    began = time.perf_counter()
    pairs = sum(1 for _ in candidate_pairs(records))
    clusters = link(records)
    took = time.perf_counter() - began
    precision, recall = precision_recall([c.event_ids for c in clusters], truth)
    everything = len(records) * (len(records) - 1) // 2
    print(f"{len(records):,} reports of {len(truth):,} real-world events")
    print(f"candidate pairs {pairs:,} of {everything:,} ({pairs / everything:.3%}); {len(clusters):,} clusters")
    print(f"link: {took:.2f} s; pairwise precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    main()

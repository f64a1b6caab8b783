"""annotations.linking: candidate pairs by blocking, pair scores, clusters; the synthetic multi-outlet set."""

from __future__ import annotations

from datetime import date

from annotations.linking import EventRecord, candidate_pairs, link, pair_score, precision_recall
from bench.linking import synthetic

DEC_4 = date(2023, 12, 4)


def report(id: int, *, day: date | None = DEC_4, codes=("RUS", "NER"), story="s", type="AGREE", place=""):
    return EventRecord(
        id=id,
        article_id=id,
        story=story,
        event_type=type,
        first_day=day,
        last_day=day,
        codes=frozenset(codes),
        place=place,
        place_country="NER" if place in ("niamey", "niger") else ("MLI" if place == "bamako" else ""),
    )


def test_reports_of_one_meeting_are_linked_and_a_meeting_elsewhere_or_later_is_not():
    # given three outlets on the Niamey signing (one calls it cooperation, one gives no date), the same
    # actors meeting in Bamako the day before, and the same actors agreeing again three months later
    records = [
        report(1, place="niamey"),
        report(2, type="COOPERATE", story="other", place="niger"),
        report(3, day=None),
        report(4, day=date(2023, 12, 3), place="bamako", story="other"),
        report(5, day=date(2024, 3, 4)),
    ]

    clusters = link(records)

    assert [c.event_ids for c in clusters] == [[1, 2, 3]]
    assert 0.6 <= clusters[0].confidence <= 1
    assert pair_score(records[0], records[3]) == 0.0  # Niamey and Bamako
    assert pair_score(records[0], records[4]) == 0.0  # three months apart


def test_a_chain_of_weak_links_does_not_glue_two_dates_together():
    # given an undated report of the story that matches a December report and a March one equally
    records = [report(1), report(2, day=None), report(3, day=date(2024, 3, 1))]

    clusters = link(records)

    # then the undated report joins one of them, never both
    assert len(clusters) == 1 and len(clusters[0].event_ids) == 2 and 3 not in clusters[0].event_ids


def test_only_events_of_one_family_within_the_date_window_are_compared():
    records = [
        report(0, day=date(2023, 1, 1)),
        report(1, day=date(2023, 1, 3)),
        report(2, day=date(2023, 1, 9)),  # outside the window of both
        report(3, day=date(2023, 1, 2), type="ASSAULT"),  # another family
    ]
    assert sorted(candidate_pairs(records)) == [(0, 1)]


def test_the_synthetic_multi_outlet_set_is_linked_with_good_precision_and_recall():
    records, truth = synthetic(2000, 3, seed=7, days=150)

    precision, recall = precision_recall([c.event_ids for c in link(records)], truth)

    assert precision >= 0.75 and recall >= 0.75, (precision, recall)
    pairs = sum(1 for _ in candidate_pairs(records))
    assert pairs < len(records) * (len(records) - 1) / 2 / 20  # blocking: under 5 % of all pairs


def test_precision_and_recall_are_pairwise():
    assert precision_recall([[1, 2, 3]], [[1, 2], [3]]) == (1 / 3, 1.0)
    assert precision_recall([], [[1, 2]]) == (1.0, 0.0)

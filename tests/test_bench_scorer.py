"""annotations/learning/scoring.py: the suggestion-quality scorer on small hand-made gold / predicted documents."""

from __future__ import annotations

import pytest

from annotations.learning.scoring import (
    Argument,
    Counts,
    Document,
    Event,
    Mention,
    Stance,
    gold_document,
    predicted_document,
    required_roles,
    score_documents,
)
from annotations.nlp import (
    ArgumentSuggestion,
    DocumentSuggestions,
    EventSuggestion,
    MentionSuggestion,
    StanceSuggestion,
)

TEXT = "Russia sent jets to Mali. Mali welcomed them. France condemned it."
RUSSIA, JETS, MALI, MALI2, FRANCE = (0, 6), (12, 16), (20, 24), (26, 30), (46, 52)
SENT, WELCOMED, CONDEMNED = (7, 11), (31, 39), (53, 62)

GOLD_ROW = {
    "text": TEXT,
    "mentions": [
        {"id": "m0", "label": "GPE", "start": 0, "end": 6, "text": "Russia"},
        {"id": "m1", "label": "WEAPON", "start": 12, "end": 16, "text": "jets"},
        {"id": "m2", "label": "GPE", "start": 20, "end": 24, "text": "Mali"},
        {"id": "m3", "label": "GPE", "start": 26, "end": 30, "text": "Mali"},
        {"id": "m4", "label": "GPE", "start": 46, "end": 52, "text": "France"},
    ],
    "events": [
        {
            "id": "e0",
            "type": "AID",
            "trigger": {"start": 7, "end": 11, "text": "sent"},
            "arguments": [
                {"role": "actor", "mention": "m0"},
                {"role": "artifact", "mention": "m1"},
                {"role": "recipient", "mention": "m2"},
            ],
        },
        {
            "id": "e1",
            "type": "SUPPORT",
            "trigger": {"start": 31, "end": 39, "text": "welcomed"},
            "arguments": [{"role": "actor", "mention": "m3"}],
        },
        {
            "id": "e2",
            "type": "ACCUSE",
            "trigger": {"start": 53, "end": 62, "text": "condemned"},
            "arguments": [{"role": "actor", "mention": "m4"}, {"role": "recipient", "mention": "m0"}],
        },
    ],
    "stances": [
        {"label": "AGAINST", "holder": "m4", "target": "m0", "target_actor": None},
        {"label": "FAVOR", "holder": None, "target": "m0", "target_actor": None},
        {"label": "FAVOR", "holder": "m3", "target": None, "target_actor": "Russia"},
    ],
}

SCHEMA = {
    "event_types": [
        {"code": "AID", "roles": [{"name": "actor", "min": 1}, {"name": "recipient", "min": 0}]},
        {"code": "ACCUSE", "roles": [{"name": "actor", "min": 1}]},
        {"code": "SUPPORT", "roles": [{"name": "actor", "min": 1}]},
    ]
}


def test_gold_document_reads_mentions_events_and_stances_as_spans():
    doc = gold_document(GOLD_ROW)

    assert doc.mentions[0] == Mention("GPE", 0, 6)
    assert doc.events[0] == Event(
        "AID", SENT, (Argument("actor", RUSSIA), Argument("artifact", JETS), Argument("recipient", MALI))
    )
    assert doc.stances == (
        Stance("AGAINST", FRANCE, RUSSIA),
        Stance("FAVOR", None, RUSSIA),
        Stance("FAVOR", MALI2, None, "Russia"),
    )


def test_predicted_document_resolves_mention_indices_to_spans():
    suggestions = DocumentSuggestions(
        mentions=[
            MentionSuggestion("GPE", 0, 6, "Russia", 0.95, actor_name="Russia"),
            MentionSuggestion("GPE", 20, 24, "Mali", 0.95, actor_name="Mali"),
        ],
        events=[
            EventSuggestion(
                "AID",
                7,
                11,
                "sent",
                "",
                "actual",
                [],
                0.6,
                [ArgumentSuggestion("actor", 0), ArgumentSuggestion("recipient", 1)],
            )
        ],
        stances=[StanceSuggestion(None, 0, "FAVOR", "sentence", 0, 25, TEXT[:25], 0.4)],
    )

    doc = predicted_document(suggestions)

    assert doc.mentions == (Mention("GPE", 0, 6, "Russia"), Mention("GPE", 20, 24, "Mali"))
    assert doc.events == (Event("AID", SENT, (Argument("actor", RUSSIA), Argument("recipient", MALI))),)
    assert doc.stances == (Stance("FAVOR", None, RUSSIA, "Russia"),)


def test_mentions_need_label_and_exact_offsets():
    gold = gold_document(GOLD_ROW)
    predicted = Document(
        mentions=(
            Mention("GPE", 0, 6),  # exact
            Mention("GPE", 20, 25),  # offsets off by one
            Mention("ORG", 46, 52),  # wrong label
        )
    )

    scores = score_documents([(gold, predicted)])

    assert (scores.mentions.tp, scores.mentions.fp, scores.mentions.fn) == (1, 2, 4)
    assert scores.mentions.precision == pytest.approx(1 / 3)
    assert scores.mentions.recall == pytest.approx(1 / 5)
    assert scores.mentions.f1 == pytest.approx(0.25)


def test_events_match_on_type_and_overlapping_trigger_and_arguments_only_inside_matched_events():
    gold = gold_document(GOLD_ROW)
    predicted = Document(
        events=(
            # matches e0 (trigger overlaps: "sent jets"); actor right, recipient on a partial span, time spurious
            Event(
                "AID", (7, 16), (Argument("actor", RUSSIA), Argument("recipient", (20, 22)), Argument("time", MALI2))
            ),
            # right trigger, wrong type: no match; its argument is a false positive
            Event("ACCUSE", WELCOMED, (Argument("actor", MALI2),)),
            # matches e2 but with the roles swapped
            Event("ACCUSE", CONDEMNED, (Argument("actor", RUSSIA), Argument("recipient", FRANCE))),
        )
    )

    scores = score_documents([(gold, predicted)], required_roles(SCHEMA))

    assert (scores.triggers.tp, scores.triggers.fp, scores.triggers.fn) == (2, 1, 1)
    assert scores.triggers_by_type["AID"] == Counts(tp=1, fp=0, fn=0)
    assert scores.triggers_by_type["ACCUSE"] == Counts(tp=1, fp=1, fn=0)
    assert scores.triggers_by_type["SUPPORT"] == Counts(tp=0, fp=0, fn=1)
    # TP: actor Russia + recipient Mali (overlap) in e0. FN: artifact of e0, actor of unmatched e1,
    # both args of e2. FP: time in e0, the ACCUSE-on-"welcomed" actor, both swapped args on e2.
    assert (scores.arguments.tp, scores.arguments.fp, scores.arguments.fn) == (2, 4, 4)
    assert scores.arguments_by_role["actor"] == Counts(tp=1, fp=2, fn=2)
    assert scores.arguments.f1 == pytest.approx(1 / 3)
    assert scores.predicted_events == 3
    assert scores.events_lacking_required_role == 0


def test_event_matching_is_one_to_one_and_prefers_the_largest_overlap():
    gold = Document(events=(Event("ASSAULT", (10, 20)),))
    predicted = Document(events=(Event("ASSAULT", (8, 12)), Event("ASSAULT", (10, 20))))

    scores = score_documents([(gold, predicted)])

    assert (scores.triggers.tp, scores.triggers.fp, scores.triggers.fn) == (1, 1, 0)


def test_share_of_events_lacking_a_required_role():
    predicted = Document(
        events=(
            Event("AID", SENT, (Argument("recipient", MALI),)),  # no actor
            Event("SUPPORT", WELCOMED, (Argument("actor", MALI2),)),
            Event("CONSULT", (0, 1)),  # a type the schema does not require anything of
            Event("ACCUSE", CONDEMNED),  # no actor
        )
    )

    scores = score_documents([(Document(), predicted)], required_roles(SCHEMA))

    assert scores.events_lacking_required_role == 2
    assert scores.lacking_required_role_share == 0.5


def test_stance_needs_label_holder_and_target():
    gold = gold_document(GOLD_ROW)
    predicted = Document(
        stances=(
            Stance("AGAINST", (46, 50), (0, 3)),  # overlapping holder and target: match
            Stance("FAVOR", MALI2, RUSSIA),  # author-held in gold: a mention holder does not match it
            Stance("FAVOR", MALI2, (0, 6), "Russia"),  # the gold target is the actor Russia: match
            Stance("AGAINST", None, FRANCE),  # nothing like it in gold
        )
    )

    scores = score_documents([(gold, predicted)])

    assert (scores.stances.tp, scores.stances.fp, scores.stances.fn) == (2, 2, 1)
    assert scores.stance_matched_share == pytest.approx(2 / 3)


def test_scores_are_micro_averaged_over_documents_and_empty_input_scores_zero():
    one = Document(mentions=(Mention("GPE", 0, 6),))
    two = Document(mentions=(Mention("GPE", 0, 6), Mention("ORG", 7, 9)))

    scores = score_documents([(one, one), (two, Document())])

    assert (scores.mentions.tp, scores.mentions.fp, scores.mentions.fn) == (1, 0, 2)
    empty = score_documents([])
    assert (empty.mentions.f1, empty.triggers.precision, empty.stance_matched_share) == (0.0, 0.0, 0.0)
    assert empty.lacking_required_role_share == 0.0

"""Accepting and rejecting machine suggestions over the API: copies, learning records, 409."""

from __future__ import annotations

import pytest

from annotations.models import Event, Layer, Mention, Stance, SuggestionDecision
from annotations.services.layers import layer_for_annotator, layer_gold
from tests.factories import ArticleFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, machine_layer, member, span, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator(project):
    return member(project, ROLES.ANNOTATOR, "ann1")


@pytest.fixture
def client(annotator):
    return client_for(annotator)


@pytest.fixture
def layer(article, annotator):
    return layer_for_annotator(article=article, annotator=annotator)


@pytest.fixture
def machine(article):
    return machine_layer(article)


def accept(client, layer: Layer, body: dict[str, object]):
    return client.post(url(layer.article.project, f"layers/{layer.pk}/suggestions/accept/"), body, format="json")


def reject(client, layer: Layer, body: dict[str, object]):
    return client.post(url(layer.article.project, f"layers/{layer.pk}/suggestions/reject/"), body, format="json")


def test_accepting_a_mention_copies_it_and_records_the_decision(client, layer, machine, annotator):
    suggestion = machine.mentions.get(text="Niger")

    response = accept(client, layer, {"version": 1, "items": [{"kind": "mention", "id": suggestion.pk}]})

    assert response.status_code == 200
    copy = layer.mentions.get()
    assert (copy.label, copy.start, copy.end, copy.text, copy.score) == (
        "GPE",
        suggestion.start,
        suggestion.end,
        "Niger",
        None,
    )
    assert response.data["layer_version"] == 3  # one bump for the decision, one for the new mention
    decision = SuggestionDecision.objects.get()
    assert (decision.layer, decision.user, decision.decision, decision.item_kind) == (
        layer,
        annotator,
        "accept",
        "mention",
    )
    assert (decision.model_version, decision.suggestion_id, decision.label) == ("spacy-test-1", suggestion.pk, "GPE")
    assert decision.result_id == copy.pk
    assert (decision.suggestion["text"], decision.suggestion["score"]) == ("Niger", 0.9)
    assert response.data["decisions"][0]["result_id"] == copy.pk


def test_accepting_an_event_copies_its_argument_mentions_reusing_identical_ones(client, layer, machine):
    existing_russia = add_mention(layer, "Russia", "GPE")
    event = machine.events.get()

    response = accept(client, layer, {"version": 2, "items": [{"kind": "event", "id": event.pk}]})

    assert response.status_code == 200
    assert sorted(layer.mentions.values_list("text", flat=True)) == ["Niger", "Russia"]
    copy = layer.events.get()
    arguments = {a.role: a.mention for a in copy.arguments.select_related("mention")}
    assert arguments["actor"].pk == existing_russia.pk
    assert arguments["recipient"].layer_id == layer.pk
    decision = SuggestionDecision.objects.get()
    assert (decision.item_kind, decision.label, decision.result_id) == ("event", "AID", copy.pk)
    assert [(a["role"], a["mention"]["text"]) for a in decision.suggestion["arguments"]] == [
        ("actor", "Russia"),
        ("recipient", "Niger"),
    ]


def test_accepting_a_stance_copies_its_target_mention(client, layer, machine):
    stance = machine.stances.get()

    response = accept(client, layer, {"version": 1, "items": [{"kind": "stance", "id": stance.pk}]})

    assert response.status_code == 200
    copy = layer.stances.select_related("target").get()
    assert (copy.label, copy.target.text, copy.target.layer_id, copy.holder_id) == ("AGAINST", "Russia", layer.pk, None)
    assert copy.evidence_text == stance.evidence_text


def test_rejecting_records_the_decisions_and_leaves_the_annotations_alone(client, layer, machine):
    items = [{"kind": "mention", "id": m.pk} for m in machine.mentions.filter(label="GPE")]

    response = reject(client, layer, {"version": 1, "items": items})

    assert response.status_code == 200
    assert layer.mentions.count() == 0
    assert (
        list(SuggestionDecision.objects.values_list("decision", "label", "result_id")) == [("reject", "GPE", None)] * 3
    )
    assert response.data["layer_version"] == 2


def test_bulk_accept_by_label_takes_every_undecided_suggestion_of_that_label(client, layer, machine):
    first = accept(client, layer, {"version": 1, "kind": "mention", "label": "GPE"})
    second = accept(client, layer, {"version": first.data["layer_version"], "kind": "mention", "label": "GPE"})

    assert first.status_code == 200
    assert sorted(layer.mentions.values_list("text", flat=True)) == ["Niamey", "Niger", "Russia"]
    assert len(first.data["decisions"]) == 3
    # Already decided: nothing more to do, and the version doesn't move.
    assert (second.status_code, second.data["decisions"], second.data["layer_version"]) == (
        200,
        [],
        first.data["layer_version"],
    )
    assert SuggestionDecision.objects.count() == 3


def test_bulk_reject_by_kind_and_accept_all_the_rest(client, layer, machine):
    rejected = reject(client, layer, {"version": 1, "kind": "stance"})
    accepted = accept(client, layer, {"version": rejected.data["layer_version"], "all": True})

    assert accepted.status_code == 200
    assert [d["item_kind"] for d in accepted.data["decisions"]] == ["mention"] * 4 + ["event"]
    assert layer.mentions.count() == 4
    assert layer.events.count() == 1
    assert layer.stances.count() == 0
    assert SuggestionDecision.objects.filter(decision="reject").get().item_kind == "stance"


def test_stale_version_is_409_and_records_nothing(client, layer, machine):
    add_mention(layer, "Russia", "GPE")  # version 2 now
    suggestion = machine.mentions.get(text="Niger")

    response = accept(client, layer, {"version": 1, "items": [{"kind": "mention", "id": suggestion.pk}]})

    assert response.status_code == 409
    assert response.data["current_version"] == 2
    assert SuggestionDecision.objects.count() == 0
    assert list(layer.mentions.values_list("text", flat=True)) == ["Russia"]


def test_unknown_suggestion_is_400_naming_the_item(client, layer, machine):
    other_article_machine = machine_layer(ArticleFactory(project=layer.article.project))
    elsewhere = other_article_machine.mentions.first()
    ok = machine.mentions.first()

    response = accept(
        client,
        layer,
        {"version": 1, "items": [{"kind": "mention", "id": ok.pk}, {"kind": "mention", "id": elsewhere.pk}]},
    )

    assert response.status_code == 400
    assert response.data["errors"] == {
        "items[1].id": [f"no machine mention {elsewhere.pk} on article {layer.article_id}"]
    }
    assert Mention.objects.filter(layer=layer).count() == 0
    assert SuggestionDecision.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"version": 1}, {"items": ["give either items, or kind (and label) for a bulk decision, or all: true"]}),
        (
            {"version": 1, "all": True, "kind": "mention"},
            {"items": ["give either items, or kind (and label) for a bulk decision, or all: true"]},
        ),
        ({"version": 1, "label": "GPE"}, {"kind": ["a bulk decision by label needs the kind"]}),
        (
            {"version": 1, "items": [{"kind": "relation", "id": 1}]},
            {"items[0].kind": ['"relation" is not a valid choice.']},
        ),
        ({"items": [{"kind": "mention", "id": 1}]}, {"version": ["This field is required."]}),
        (
            {"version": 1, "kind": "event", "model_version": "gpt-9"},
            {"model_version": ["article 1 has no suggestions of 'gpt-9'"]},
        ),
    ],
)
def test_malformed_decision_is_400_naming_the_field(client, layer, machine, body, errors):
    response = accept(client, layer, body)

    assert response.status_code == 400
    expected = {k: [m.replace("article 1", f"article {layer.article_id}") for m in v] for k, v in errors.items()}
    assert response.data["errors"] == expected
    assert SuggestionDecision.objects.count() == 0


def test_deciding_for_another_annotators_layer_is_403(project, article, machine):
    theirs = layer_for_annotator(article=article, annotator=member(project, ROLES.ANNOTATOR))
    me = client_for(member(project, ROLES.ANNOTATOR))

    response = accept(me, theirs, {"version": 1, "all": True})

    assert response.status_code == 403
    assert SuggestionDecision.objects.count() == 0


def test_reviewer_accepts_into_gold(project, article, machine):
    reviewer = client_for(member(project, ROLES.REVIEWER, "reviewer"))
    gold = reviewer.post(url(project, f"articles/{article.pk}/layers/"), {}, format="json").data

    response = reviewer.post(
        url(project, f"layers/{gold['id']}/suggestions/accept/"),
        {"version": gold["version"], "kind": "event"},
        format="json",
    )

    assert response.status_code == 200
    assert Event.objects.filter(layer__kind=Layer.Kind.GOLD).count() == 1
    assert Stance.objects.filter(layer__kind=Layer.Kind.GOLD).count() == 0
    # and the event and the argument mentions copied with it record how they got into gold
    event = Event.objects.get(layer__kind=Layer.Kind.GOLD)
    items = [event, *Mention.objects.filter(layer=event.layer)]
    assert len(items) > 1
    for item in items:
        assert item.provenance == {
            "strategy": "accepted",
            "model_version": "spacy-test-1",
            "reviewer": "reviewer",
            "at": event.provenance["at"],
        }


def test_suggestions_accepted_into_an_annotators_layer_record_no_provenance(client, layer, machine):
    response = accept(client, layer, {"version": 1, "kind": "event"})

    assert response.status_code == 200
    assert layer.events.exists()
    assert [e.provenance for e in layer.events.all()] == [{}] * layer.events.count()
    assert {m.provenance == {} for m in layer.mentions.all()} == {True}


# --- A hand-made item settles its matching suggestion ----------------------------------------


def create(client, layer: Layer, kind: str, body: dict[str, object]):
    return client.post(url(layer.article.project, f"layers/{layer.pk}/{kind}s/"), body, format="json")


def test_a_hand_made_event_settles_the_matching_suggestion_and_accept_all_does_not_duplicate_it(
    client, layer, machine, annotator
):
    # Given a suggested AID "sent" (actor Russia, recipient Niger), and the annotator making it by
    # hand with the actor only
    russia = add_mention(layer, "Russia", "GPE")
    suggestion = machine.events.get()
    start, end = span(layer.article, "sent")

    response = create(
        client,
        layer,
        "event",
        {
            "version": 2,
            "event_type": "AID",
            "trigger_start": start,
            "trigger_end": end,
            "arguments": [{"role": "actor", "mention": russia.pk}],
        },
    )

    # Then the suggestion is recorded as corrected by that event, with no new layer version
    assert response.status_code == 201
    assert response.data["layer_version"] == 3
    decision = SuggestionDecision.objects.get(item_kind="event")
    assert (decision.user, decision.decision, decision.suggestion_id, decision.result_id) == (
        annotator,
        "correct",
        suggestion.pk,
        response.data["id"],
    )
    assert Layer.objects.get(pk=layer.pk).version == 3
    # and "Accept all" brings in the other suggestions but not that event again
    accepted = accept(client, layer, {"version": 3, "all": True})
    assert accepted.status_code == 200
    assert "event" not in [d["item_kind"] for d in accepted.data["decisions"]]
    assert layer.events.count() == 1


def test_a_hand_made_mention_and_stance_settle_theirs(client, layer, machine):
    start, end = span(layer.article, "Russia")

    mention = create(client, layer, "mention", {"version": 1, "label": "GPE", "start": start, "end": end})
    stance = create(client, layer, "stance", {"version": 2, "label": "AGAINST", "target": mention.data["id"]})

    assert (mention.status_code, stance.status_code) == (201, 201)
    settled = {(d.item_kind, d.suggestion_id, d.result_id) for d in SuggestionDecision.objects.all()}
    assert settled == {
        ("mention", machine.mentions.get(text="Russia").pk, mention.data["id"]),
        ("stance", machine.stances.get().pk, stance.data["id"]),
    }
    assert set(SuggestionDecision.objects.values_list("decision", flat=True)) == {"correct"}


def test_an_item_unlike_every_suggestion_or_already_decided_settles_nothing(client, layer, machine):
    niger = machine.mentions.get(text="Niger")
    reject(client, layer, {"version": 1, "items": [{"kind": "mention", "id": niger.pk}]})
    start, end = span(layer.article, "Niger")

    as_loc = create(client, layer, "mention", {"version": 2, "label": "LOC", "start": start, "end": end})
    as_gpe = create(client, layer, "mention", {"version": 3, "label": "GPE", "start": start, "end": end})

    assert (as_loc.status_code, as_gpe.status_code) == (201, 201)
    assert list(SuggestionDecision.objects.values_list("decision", "suggestion_id")) == [("reject", niger.pk)]


def test_a_gold_item_settles_too(project, article, machine):
    reviewer = member(project, ROLES.REVIEWER, "rev")
    gold = layer_gold(article=article)
    start, end = span(article, "Niamey")

    response = create(
        client_for(reviewer), gold, "mention", {"version": gold.version, "label": "GPE", "start": start, "end": end}
    )

    assert response.status_code == 201
    decision = SuggestionDecision.objects.get()
    assert (decision.layer, decision.decision, decision.result_id) == (gold, "correct", response.data["id"])

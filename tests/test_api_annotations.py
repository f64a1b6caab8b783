"""Writing mentions, events and stances of a layer over the API: validation, versions, 409."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Event, Layer, Mention, Stance
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_gold
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, member, span, url

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


def mentions_url(layer: Layer, mention_id: int | None = None) -> str:
    project = layer.article.project
    return url(project, f"layers/{layer.pk}/mentions/" + (f"{mention_id}/" if mention_id else ""))


def events_url(layer: Layer, event_id: int | None = None) -> str:
    project = layer.article.project
    return url(project, f"layers/{layer.pk}/events/" + (f"{event_id}/" if event_id else ""))


def stances_url(layer: Layer, stance_id: int | None = None) -> str:
    project = layer.article.project
    return url(project, f"layers/{layer.pk}/stances/" + (f"{stance_id}/" if stance_id else ""))


def current_version(layer: Layer) -> int:
    return Layer.objects.values_list("version", flat=True).get(pk=layer.pk)


# --- Mentions -------------------------------------------------------------------------------


def test_create_mention_returns_it_with_the_new_layer_version(client, layer):
    body = {"version": 1, "label": "GPE", "start": 0, "end": 6, "text": "Russia"}

    response = client.post(mentions_url(layer), body, format="json")

    assert response.status_code == 201
    assert {k: response.data[k] for k in ("label", "start", "end", "text", "layer_version")} == {
        "label": "GPE",
        "start": 0,
        "end": 6,
        "text": "Russia",
        "layer_version": 2,
    }
    layer.refresh_from_db()
    assert (layer.version, layer.status) == (2, Layer.Status.IN_PROGRESS)
    assert layer.mentions.get().pk == response.data["id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"label": "GPE", "start": 0, "end": 999},
            "end",
            "999 is past the end of the article text ({length} characters)",
        ),
        ({"label": "GPE", "start": -1, "end": 6}, "start", "must be 0 or more, got -1"),
        ({"label": "GPE", "start": 6, "end": 6}, "end", "must be greater than start (6), got 6"),
        (
            {"label": "GPE", "start": 0, "end": 6, "text": "Moscow"},
            "text",
            "'Moscow' does not match the article text at [0, 6), which is 'Russia'",
        ),
        (
            {"label": "COUNTRY", "start": 0, "end": 6},
            "label",
            "unknown entity type 'COUNTRY'; the schema has PERSON, ORG, GPE, LOC, FAC, NORP, DATE, MONEY, "
            "QUANTITY, WEAPON",
        ),
        ({"label": "GPE", "start": "zero", "end": 6}, "start", "A valid integer is required."),
        ({"start": 0, "end": 6}, "label", "This field is required."),
        ({"label": "GPE", "start": 0, "end": 6, "actor": 999}, "actor", 'Invalid pk "999" - object does not exist.'),
    ],
)
def test_bad_mention_is_400_naming_the_field_and_writes_nothing(client, layer, body, field, message):
    message = message.format(length=len(layer.article.text))

    response = client.post(mentions_url(layer), {"version": 1, **body}, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {field: [message]}
    assert response.data["detail"] == f"{field}: {message}"
    assert Mention.objects.count() == 0
    assert current_version(layer) == 1


@pytest.mark.parametrize("kind", ["mentions", "events", "stances"])
def test_a_write_without_version_is_400_naming_version(client, layer, kind):
    response = client.post(url(layer.article.project, f"layers/{layer.pk}/{kind}/"), {}, format="json")

    assert response.status_code == 400
    assert response.data["errors"]["version"] == ["This field is required."]


def test_stale_version_is_409_and_changes_nothing(client, layer):
    add_mention(layer, "Russia", "GPE")  # someone else wrote: the layer is at version 2
    body = {"version": 1, "label": "GPE", "start": 69, "end": 74, "text": "Niger"}

    response = client.post(mentions_url(layer), body, format="json")

    assert response.status_code == 409
    assert response.data["current_version"] == 2
    assert response.data["expected_version"] == 1
    assert response.data["detail"] == (
        f"Layer {layer.pk} is at version 2, not 1: it was changed by someone else. "
        "Reload it and apply your change again."
    )
    assert list(layer.mentions.values_list("text", flat=True)) == ["Russia"]
    assert current_version(layer) == 2


def test_stale_version_on_update_and_delete_is_409_and_changes_nothing(client, layer):
    mention = add_mention(layer, "Russia", "GPE")
    add_mention(layer, "Niger", "GPE")  # version 3 now

    patched = client.patch(mentions_url(layer, mention.pk), {"version": 2, "label": "ORG"}, format="json")
    deleted = client.delete(mentions_url(layer, mention.pk), {"version": 2}, format="json")

    assert (patched.status_code, deleted.status_code) == (409, 409)
    mention.refresh_from_db()
    assert mention.label == "GPE"
    assert current_version(layer) == 3


def test_update_mention_changes_label_and_span(client, layer):
    mention = add_mention(layer, "Niger", "GPE")
    start, end = span(layer.article, "Niamey")

    response = client.patch(
        mentions_url(layer, mention.pk), {"version": 2, "start": start, "end": end, "text": "Niamey"}, format="json"
    )

    assert response.status_code == 200
    assert (response.data["text"], response.data["layer_version"]) == ("Niamey", 3)
    mention.refresh_from_db()
    assert (mention.start, mention.end, mention.text) == (start, end, "Niamey")


def test_delete_mention_takes_the_version_in_the_body_or_the_query(client, layer):
    first = add_mention(layer, "Russia", "GPE")
    second = add_mention(layer, "Niger", "GPE")

    by_body = client.delete(mentions_url(layer, first.pk), {"version": 3}, format="json")
    by_query = client.delete(mentions_url(layer, second.pk) + "?version=4")
    missing = client.delete(mentions_url(layer, add_mention(layer, "Niamey", "GPE").pk))

    assert (by_body.status_code, by_body.data) == (200, {"layer_version": 4})
    assert (by_query.status_code, by_query.data) == (200, {"layer_version": 5})
    assert missing.status_code == 400
    assert missing.data["errors"] == {"version": ["This field is required."]}
    assert list(layer.mentions.values_list("text", flat=True)) == ["Niamey"]


def test_a_mention_of_another_layer_is_404_through_this_layer(client, layer, article):
    elsewhere = add_mention(layer_gold(article=article), "Russia", "GPE")

    response = client.patch(mentions_url(layer, elsewhere.pk), {"version": 1, "label": "ORG"}, format="json")

    assert response.status_code == 404


# --- Events ---------------------------------------------------------------------------------


def event_body(layer: Layer, *arguments: tuple[str, int], version: int) -> dict[str, object]:
    start, end = span(layer.article, "sent")
    return {
        "version": version,
        "event_type": "AID",
        "trigger_start": start,
        "trigger_end": end,
        "trigger_text": "sent",
        "mode": "military",
        "contexts": ["military"],
        "arguments": [{"role": role, "mention": mention} for role, mention in arguments],
    }


def test_create_event_with_arguments(client, layer):
    russia = add_mention(layer, "Russia", "GPE")
    niger = add_mention(layer, "Niger", "GPE")

    response = client.post(
        events_url(layer), event_body(layer, ("actor", russia.pk), ("recipient", niger.pk), version=3), format="json"
    )

    assert response.status_code == 201
    assert response.data["layer_version"] == 4
    assert sorted((a["role"], a["mention"]) for a in response.data["arguments"]) == [
        ("actor", russia.pk),
        ("recipient", niger.pk),
    ]
    event = layer.events.get()
    assert (event.event_type, event.mode, event.trigger_text) == ("AID", "military", "sent")


def test_role_not_allowed_for_the_event_type_is_400_naming_arguments(client, layer):
    russia = add_mention(layer, "Russia", "GPE")

    response = client.post(events_url(layer), event_body(layer, ("victim", russia.pk), version=2), format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {
        "arguments": ["role 'victim' is not allowed for AID (roles: actor, recipient, place, time, artifact)"]
    }
    assert Event.objects.count() == 0


def test_too_many_arguments_for_a_role_is_400_naming_arguments(client, layer):
    niger = add_mention(layer, "Niger", "GPE")
    niamey = add_mention(layer, "Niamey", "GPE")

    response = client.post(
        events_url(layer), event_body(layer, ("place", niger.pk), ("place", niamey.pk), version=3), format="json"
    )

    assert response.status_code == 400
    assert response.data["errors"] == {"arguments": ["role 'place' of AID takes at most 1 argument(s), got 2"]}
    assert Event.objects.count() == 0


def test_argument_of_the_wrong_entity_type_or_layer_is_400_naming_arguments(client, layer, article):
    modi = add_mention(layer, "Salifou Modi", "PERSON")
    elsewhere = add_mention(layer_gold(article=article), "Russia", "GPE")

    wrong_type = client.post(events_url(layer), event_body(layer, ("place", modi.pk), version=2), format="json")
    wrong_layer = client.post(events_url(layer), event_body(layer, ("actor", elsewhere.pk), version=2), format="json")

    assert wrong_type.data["errors"] == {
        "arguments": ["role 'place' of AID takes FAC, GPE, LOC, not a PERSON mention ('Salifou Modi')"]
    }
    assert wrong_layer.data["errors"] == {"arguments": [f"mention {elsewhere.pk} does not exist in this layer"]}


def test_malformed_argument_names_the_nested_field(client, layer):
    body = event_body(layer, version=1)
    body["arguments"] = [{"role": "actor", "mention": "Russia"}]

    response = client.post(events_url(layer), body, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {"arguments[0].mention": ["A valid integer is required."]}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"event_type": "INVADE"}, "event_type", "unknown event type 'INVADE'"),
        ({"mode": "sing"}, "mode", "mode 'sing' is not allowed for AID (allowed: military, economic, humanitarian)"),
        ({"realis": "maybe"}, "realis", "unknown realis 'maybe'; allowed: actual, future, hypothetical, negated"),
        ({"contexts": ["military"] * 100_000}, "contexts", "context 'military' is listed twice"),
        ({"trigger_end": 10_000}, "trigger_end", "10000 is past the end of the article text ({length} characters)"),
        (
            {"trigger_text": "gave"},
            "trigger_text",
            "'gave' does not match the article text at [11, 15), which is 'sent'",
        ),
    ],
)
def test_bad_event_is_400_naming_the_field(client, layer, change, field, message):
    message = message.format(length=len(layer.article.text))

    response = client.post(events_url(layer), {**event_body(layer, version=1), **change}, format="json")

    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]
    assert response.data["errors"][field][0].startswith(message)


def test_update_event_replaces_its_arguments(client, layer):
    russia = add_mention(layer, "Russia", "GPE")
    niger = add_mention(layer, "Niger", "GPE")
    start, end = span(layer.article, "sent")
    event = event_create(
        layer=layer, event_type="AID", trigger_start=start, trigger_end=end, arguments=[("actor", russia.pk)]
    )

    response = client.patch(
        events_url(layer, event.pk),
        {"version": 4, "realis": "future", "arguments": [{"role": "actor", "mention": niger.pk}]},
        format="json",
    )

    assert response.status_code == 200
    assert response.data["realis"] == "future"
    assert [(a["role"], a["mention"]) for a in response.data["arguments"]] == [("actor", niger.pk)]
    assert response.data["layer_version"] == 5


def test_delete_event(client, layer):
    start, end = span(layer.article, "sent")
    event = event_create(layer=layer, event_type="AID", trigger_start=start, trigger_end=end)

    response = client.delete(events_url(layer, event.pk), {"version": 2}, format="json")

    assert (response.status_code, response.data) == (200, {"layer_version": 3})
    assert Event.objects.count() == 0


# --- Stances --------------------------------------------------------------------------------


def test_create_update_and_delete_a_stance(client, layer):
    russia = add_mention(layer, "Russia", "GPE")
    modi = add_mention(layer, "Salifou Modi", "PERSON")
    sentence = layer.article.text[: layer.article.text.index(".") + 1]

    created = client.post(
        stances_url(layer),
        {
            "version": 3,
            "label": "FAVOR",
            "holder": modi.pk,
            "target": russia.pk,
            "evidence_start": 0,
            "evidence_end": len(sentence),
            "evidence_text": sentence,
        },
        format="json",
    )
    stance_id = created.data["id"]
    updated = client.patch(
        stances_url(layer, stance_id), {"version": 4, "label": "AGAINST", "holder": None}, format="json"
    )
    deleted = client.delete(stances_url(layer, stance_id), {"version": 5}, format="json")

    assert created.status_code == 201
    assert (created.data["holder"], created.data["target"], created.data["layer_version"]) == (modi.pk, russia.pk, 4)
    assert updated.status_code == 200
    assert (updated.data["label"], updated.data["holder"], updated.data["layer_version"]) == ("AGAINST", None, 5)
    assert (deleted.status_code, deleted.data) == (200, {"layer_version": 6})
    assert Stance.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"label": "LOVE"}, "label", "unknown stance label 'LOVE'; allowed: FAVOR, AGAINST, NONE"),
        ({"scope": "chapter"}, "scope", "unknown scope 'chapter'; allowed: sentence, document"),
        ({"target": None}, "target", "a stance needs a target mention or a target actor"),
        ({"evidence_end": 5000}, "evidence_end", "5000 is past the end of the article text ({length} characters)"),
        ({"evidence_text": "nothing"}, "evidence_text", "'nothing' does not match the article text at [0, 6)"),
    ],
)
def test_bad_stance_is_400_naming_the_field(client, layer, change, field, message):
    russia = add_mention(layer, "Russia", "GPE")
    body = {"version": 2, "label": "AGAINST", "target": russia.pk, "evidence_start": 0, "evidence_end": 6}
    message = message.format(length=len(layer.article.text))

    response = client.post(stances_url(layer), {**body, **change}, format="json")

    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]
    assert response.data["errors"][field][0].startswith(message)
    assert Stance.objects.count() == 0


def test_bad_stance_update_is_400_and_changes_nothing(client, layer):
    russia = add_mention(layer, "Russia", "GPE")
    stance = stance_create(layer=layer, label="AGAINST", target_id=russia.pk)

    response = client.patch(stances_url(layer, stance.pk), {"version": 3, "label": "LOVE"}, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {"label": ["unknown stance label 'LOVE'; allowed: FAVOR, AGAINST, NONE"]}
    stance.refresh_from_db()
    assert stance.label == "AGAINST"
    assert current_version(layer) == 3


# --- Layers ---------------------------------------------------------------------------------


def test_layer_detail_has_mentions_events_with_arguments_and_stances(client, layer):
    russia = add_mention(layer, "Russia", "GPE")
    niger = add_mention(layer, "Niger", "GPE")
    start, end = span(layer.article, "sent")
    event_create(
        layer=layer,
        event_type="AID",
        trigger_start=start,
        trigger_end=end,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    stance_create(layer=layer, label="AGAINST", target_id=russia.pk)

    response = client.get(url(layer.article.project, f"layers/{layer.pk}/"))

    assert response.status_code == 200
    assert (response.data["kind"], response.data["annotator"], response.data["version"]) == ("annotator", "ann1", 5)
    assert [m["text"] for m in response.data["mentions"]] == ["Russia", "Niger"]
    assert [(a["role"], a["mention"]) for a in response.data["events"][0]["arguments"]] == [
        ("actor", russia.pk),
        ("recipient", niger.pk),
    ]
    assert [(s["label"], s["holder"], s["target"]) for s in response.data["stances"]] == [("AGAINST", None, russia.pk)]


def annotated_layer(mentions: int) -> tuple[Layer, object]:
    """A gold layer with `mentions` mentions, an event with arguments each and a stance each."""
    words = " ".join(f"Word{i}" for i in range(mentions))
    article = ArticleFactory(project=ProjectFactory(), text=f"Russia sent aid. {words}.")
    gold = layer_gold(article=article)
    start, end = span(article, "sent")
    for i in range(mentions):
        needle = f"Word{i}"
        first = article.text.index(needle + " " if i < mentions - 1 else needle + ".")
        mention = mention_create(layer=gold, label="GPE", start=first, end=first + len(needle))
        event_create(
            layer=gold, event_type="AID", trigger_start=start, trigger_end=end, arguments=[("actor", mention.pk)]
        )
        stance_create(layer=gold, label="FAVOR", target_id=mention.pk)
    return gold, member(article.project, ROLES.REVIEWER)


def test_layer_detail_takes_the_same_number_of_queries_for_3_or_30_mentions(django_assert_max_num_queries):
    small, small_reader = annotated_layer(3)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(small_reader).get(url(small.article.project, f"layers/{small.pk}/"))
    assert len(response.data["mentions"]) == 3
    large, large_reader = annotated_layer(30)

    with django_assert_max_num_queries(len(queries)):
        response = client_for(large_reader).get(url(large.article.project, f"layers/{large.pk}/"))

    assert len(response.data["mentions"]) == 30
    assert len(response.data["events"]) == 30
    assert len(response.data["stances"]) == 30


def test_mark_layer_done_with_its_version(client, layer):
    add_mention(layer, "Russia", "GPE")

    response = client.patch(url(layer.article.project, f"layers/{layer.pk}/"), {"version": 2, "status": "done"})
    stale = client.patch(url(layer.article.project, f"layers/{layer.pk}/"), {"version": 2, "status": "in_progress"})

    assert response.status_code == 200
    assert (response.data["status"], response.data["version"]) == ("done", 3)
    assert stale.status_code == 409
    assert Layer.objects.get(pk=layer.pk).status == Layer.Status.DONE


def test_layer_with_an_incomplete_event_cant_be_done(client, layer):
    start, end = span(layer.article, "sent")
    event_create(layer=layer, event_type="AID", trigger_start=start, trigger_end=end)

    response = client.patch(url(layer.article.project, f"layers/{layer.pk}/"), {"version": 2, "status": "done"})

    assert response.status_code == 400
    assert list(response.data["errors"]) == ["status"]
    assert "AID needs at least 1 'actor' argument(s), has 0" in response.data["errors"]["status"][0]
    assert Layer.objects.get(pk=layer.pk).status == Layer.Status.IN_PROGRESS


def test_only_gold_can_be_adjudicated(client, layer):
    response = client.patch(url(layer.article.project, f"layers/{layer.pk}/"), {"version": 1, "status": "adjudicated"})

    assert response.status_code == 400
    assert response.data["errors"] == {"status": ["only a gold layer can be adjudicated; this is an annotator layer"]}


def test_post_layer_gets_or_creates_the_annotators_own_layer(client, article, annotator):
    created = client.post(url(article.project, f"articles/{article.pk}/layers/"), {}, format="json")
    again = client.post(url(article.project, f"articles/{article.pk}/layers/"), {}, format="json")
    gold = client.post(url(article.project, f"articles/{article.pk}/layers/"), {"kind": "gold"}, format="json")

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.data["id"] == again.data["id"]
    assert (created.data["kind"], created.data["annotator"]) == ("annotator", "ann1")
    assert gold.status_code == 403
    assert Layer.objects.filter(kind=Layer.Kind.GOLD).count() == 0


def test_post_layer_gives_reviewers_the_gold_layer_and_their_own_on_request(project, article):
    reviewer = client_for(member(project, ROLES.REVIEWER, "rev"))

    gold = reviewer.post(url(project, f"articles/{article.pk}/layers/"), {}, format="json")
    own = reviewer.post(url(project, f"articles/{article.pk}/layers/"), {"kind": "annotator"}, format="json")
    machine = reviewer.post(url(project, f"articles/{article.pk}/layers/"), {"kind": "machine"}, format="json")

    assert (gold.status_code, gold.data["kind"]) == (201, "gold")
    assert (own.status_code, own.data["kind"], own.data["annotator"]) == (201, "annotator", "rev")
    assert machine.status_code == 400
    assert machine.data["errors"] == {"kind": ['"machine" is not a valid choice.']}


# --- Roles the text does not state ----------------------------------------------------------


def test_an_event_created_with_its_actor_not_stated_is_complete_and_the_layer_can_be_done(client, layer):
    niger = add_mention(layer, "Niger", "GPE")
    body = {**event_body(layer, ("recipient", niger.pk), version=2), "not_stated": ["actor"]}

    created = client.post(events_url(layer), body, format="json")
    done = client.patch(url(layer.article.project, f"layers/{layer.pk}/"), {"version": 3, "status": "done"})

    assert created.status_code == 201
    assert created.data["not_stated"] == ["actor"]
    assert Event.objects.get().not_stated == ["actor"]
    assert (done.status_code, done.data["status"]) == (200, "done")


def test_patch_not_stated_marks_a_role_and_the_layer_shows_it(client, layer):
    start, end = span(layer.article, "sent")
    event = event_create(layer=layer, event_type="AID", trigger_start=start, trigger_end=end)

    response = client.patch(events_url(layer, event.pk), {"version": 2, "not_stated": ["actor"]}, format="json")
    detail = client.get(url(layer.article.project, f"layers/{layer.pk}/"))

    assert response.status_code == 200
    assert (response.data["not_stated"], response.data["layer_version"]) == (["actor"], 3)
    assert detail.data["events"][0]["not_stated"] == ["actor"]


def test_not_stated_role_outside_the_event_type_is_400_naming_the_field(client, layer):
    start, end = span(layer.article, "sent")
    event = event_create(layer=layer, event_type="AID", trigger_start=start, trigger_end=end)

    response = client.patch(events_url(layer, event.pk), {"version": 2, "not_stated": ["victim"]}, format="json")

    assert response.status_code == 400
    assert list(response.data["errors"]) == ["not_stated"]
    assert "'victim' is not a role of AID" in response.data["errors"]["not_stated"][0]
    assert Event.objects.get().not_stated == []

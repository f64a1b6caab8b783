"""Write services: every annotation write is checked against the text and the label schema,
is all-or-nothing, bumps the layer version, and refuses stale versions."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from annotations.errors import InvalidAnnotation, VersionConflict
from annotations.models import Actor, Article, Event, EventArgument, Layer, Mention, Stance
from annotations.services.actors import actor_upsert
from annotations.services.articles import ArticleInput, articles_create, content_hash
from annotations.services.items import (
    event_create,
    event_delete,
    event_update,
    mention_create,
    mention_delete,
    mention_update,
    stance_create,
    stance_delete,
)
from annotations.services.layers import layer_gold, layer_set_status
from annotations.services.projects import project_set_schema
from tests.factories import ActorFactory, ArticleFactory, LayerFactory, MentionFactory, ProjectFactory, UserFactory

TEXT = (
    "On 12 April 2024, Russia sent an anti-aircraft system and 100 military trainers to Niger. "
    "The agreement was signed on 4 December 2023 in Niamey by Salifou Modi and Yunus-Bek Yevkurov. "
    "A US official said that if they choose a partnership with Russia it will be complicated."
)


def at(phrase: str, occurrence: int = 1) -> tuple[int, int]:
    """[start, end) of the n-th occurrence of `phrase` in TEXT."""
    start = -1
    for _ in range(occurrence):
        start = TEXT.index(phrase, start + 1)
    return start, start + len(phrase)


MENTIONS = {
    "russia": ("GPE", "Russia", 1),
    "weapon": ("WEAPON", "anti-aircraft system", 1),
    "trainers": ("QUANTITY", "100 military trainers", 1),
    "niger": ("GPE", "Niger", 1),
    "niamey": ("GPE", "Niamey", 1),
    "modi": ("PERSON", "Salifou Modi", 1),
    "yevkurov": ("PERSON", "Yunus-Bek Yevkurov", 1),
    "april": ("DATE", "12 April 2024", 1),
    "december": ("DATE", "4 December 2023", 1),
    "us": ("GPE", "US", 1),
    "russia2": ("GPE", "Russia", 2),
}


@pytest.fixture
def article(project):
    return ArticleFactory(project=project, text=TEXT)


@pytest.fixture
def other_layer(article):
    """A second annotator's layer on the same article."""
    return LayerFactory(article=article, annotator=UserFactory(username="annotator2"))


@pytest.fixture
def m(layer, other_layer):
    """Mentions on the layer (written directly: the layer stays at version 1, not started)."""
    mentions = {}
    for key, (label, phrase, occurrence) in MENTIONS.items():
        start, end = at(phrase, occurrence)
        mentions[key] = MentionFactory(layer=layer, label=label, start=start, end=end)
    start, end = at("Russia")
    mentions["other"] = MentionFactory(layer=other_layer, label="GPE", start=start, end=end)
    return mentions


def state(layer: Layer) -> dict:
    """Everything a write could change in the layer, read from the database."""
    return {
        "layer": Layer.objects.values("version", "status").get(pk=layer.pk),
        "mentions": list(Mention.objects.filter(layer=layer).values_list("id", "label", "start", "end", "text")),
        "events": list(
            Event.objects.filter(layer=layer).values_list(
                "id", "event_type", "trigger_start", "trigger_end", "mode", "realis", "contexts"
            )
        ),
        "arguments": sorted(
            EventArgument.objects.filter(event__layer=layer).values_list("event_id", "role", "mention")
        ),
        "stances": list(
            Stance.objects.filter(layer=layer).values_list("id", "label", "holder", "target", "evidence_start")
        ),
    }


def refused(layer: Layer, write) -> InvalidAnnotation:
    """Run a write that must be refused; check it wrote nothing and return the error."""
    before = state(layer)
    with pytest.raises(InvalidAnnotation) as excinfo:
        write()
    assert state(layer) == before
    return excinfo.value


def arguments_of(event: Event) -> set[tuple[str, str]]:
    return {(a.role, a.mention.text) for a in EventArgument.objects.filter(event=event).select_related("mention")}


def aid_event(layer: Layer, m: dict, **changes) -> Event:
    start, end = at("sent")
    kwargs = {
        "layer": layer,
        "event_type": "AID",
        "trigger_start": start,
        "trigger_end": end,
        "trigger_text": "sent",
        "mode": "military",
        "contexts": ["military"],
        "arguments": [
            ("actor", m["russia"].pk),
            ("recipient", m["niger"].pk),
            ("artifact", m["weapon"].pk),
        ],
    }
    kwargs.update(changes)
    return event_create(**kwargs)


def version_of(layer: Layer) -> int:
    return Layer.objects.values_list("version", flat=True).get(pk=layer.pk)


# --- Mentions -----------------------------------------------------------------------------------


def test_mention_create_stores_the_quoted_text_and_starts_the_layer(layer):
    start, end = at("Salifou Modi")

    mention = mention_create(layer=layer, label="PERSON", start=start, end=end, text="Salifou Modi")

    mention.refresh_from_db()
    assert (mention.label, mention.start, mention.end, mention.text) == ("PERSON", start, end, "Salifou Modi")
    layer.refresh_from_db()
    assert (layer.version, layer.status) == (2, Layer.Status.IN_PROGRESS)


def test_mention_create_without_a_quote_reads_the_text_and_links_the_actor(layer):
    actor = ActorFactory(name="Niger")
    start, end = at("Niger")

    mention = mention_create(layer=layer, label="GPE", start=start, end=end, actor=actor)

    mention.refresh_from_db()
    assert (mention.text, mention.actor) == ("Niger", actor)


WHITESPACE = at(" Russia")[0]

BAD_SPANS = [
    pytest.param(-1, 6, None, "start", id="negative-start"),
    pytest.param(0, len(TEXT) + 1, None, "end", id="end-past-text"),
    pytest.param(5, 5, None, "end", id="empty-span"),
    pytest.param(9, 3, None, "end", id="start-after-end"),
    pytest.param(*at("Russia"), "Rusia", "text", id="quote-mismatch"),
    pytest.param(*at("Russia"), "russia", "text", id="quote-case-mismatch"),
    pytest.param(WHITESPACE, WHITESPACE + 1, None, "start", id="whitespace-only"),
    pytest.param("0", 6, None, "start", id="string-start"),
    pytest.param(0, 6.0, None, "end", id="float-end"),
    pytest.param(None, 6, None, "start", id="missing-start"),
    pytest.param(True, 6, None, "start", id="boolean-start"),
]


@pytest.mark.parametrize(("start", "end", "text", "field"), BAD_SPANS)
def test_mention_create_refuses_a_bad_span(layer, start, end, text, field):
    error = refused(layer, lambda: mention_create(layer=layer, label="GPE", start=start, end=end, text=text))

    assert list(error.message_dict) == [field]


def test_mention_create_span_errors_say_what_is_wrong(layer):
    start, end = at("Russia")

    past = refused(layer, lambda: mention_create(layer=layer, label="GPE", start=0, end=len(TEXT) + 1))
    quote = refused(layer, lambda: mention_create(layer=layer, label="GPE", start=start, end=end, text="Rusia"))

    assert past.message_dict == {
        "end": [f"{len(TEXT) + 1} is past the end of the article text ({len(TEXT)} characters)"]
    }
    assert quote.message_dict == {
        "text": [f"'Rusia' does not match the article text at [{start}, {end}), which is 'Russia'"]
    }


@pytest.mark.parametrize("label", ["COUNTRY", "gpe", "", None, ["GPE"]])
def test_mention_create_refuses_an_unknown_label(layer, label):
    start, end = at("Russia")

    error = refused(layer, lambda: mention_create(layer=layer, label=label, start=start, end=end))

    assert list(error.message_dict) == ["label"]
    assert error.message_dict["label"][0].startswith(f"unknown entity type {label!r}; the schema has PERSON, ORG")


def test_mention_create_refuses_the_same_span_and_label_twice(layer, m):
    start, end = at("Russia")

    error = refused(layer, lambda: mention_create(layer=layer, label="GPE", start=start, end=end))

    assert error.message_dict == {"start": [f"a GPE mention on [{start}, {end}) already exists in this layer"]}


def test_mention_create_allows_another_label_on_the_same_span(layer, m):
    start, end = at("Russia")

    mention_create(layer=layer, label="ORG", start=start, end=end)

    assert Mention.objects.filter(layer=layer, start=start, end=end).count() == 2


def test_mention_update_changes_label_and_span(layer, m):
    start, end = at("military trainers")

    mention_update(mention=m["trainers"], label="ORG", start=start, end=end)

    m["trainers"].refresh_from_db()
    assert (m["trainers"].label, m["trainers"].start, m["trainers"].text) == ("ORG", start, "military trainers")
    assert version_of(layer) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"label": "COUNTRY"}, "label", id="unknown-label"),
        pytest.param({"end": len(TEXT) + 5}, "end", id="end-past-text"),
        pytest.param({"start": -3}, "start", id="negative-start"),
        pytest.param({"start": at("Niger")[1]}, "end", id="start-at-end"),
        pytest.param({"text": "Nigeria"}, "text", id="quote-mismatch"),
        pytest.param({"start": at("Niamey")[0], "end": at("Niamey")[1]}, "start", id="duplicate-of-niamey"),
    ],
)
def test_mention_update_refuses_a_bad_change(layer, m, changes, field):
    error = refused(layer, lambda: mention_update(mention=m["niger"], **changes))

    assert list(error.message_dict) == [field]
    # The caller's objects still show what is stored, so a retry starts from the truth.
    assert (m["niger"].label, m["niger"].start, m["niger"].end, m["niger"].text) == ("GPE", *at("Niger"), "Niger")
    assert layer.version == 1


def test_mention_update_refuses_a_label_its_argument_role_does_not_take(layer, m):
    event = aid_event(layer, m)

    error = refused(layer, lambda: mention_update(mention=m["russia"], label="DATE"))

    assert error.message_dict == {
        "label": [f"the mention fills role 'actor' of event {event.pk}, which takes GPE, NORP, ORG, PERSON, not DATE"]
    }


def test_mention_update_accepts_a_label_its_argument_role_takes(layer, m):
    aid_event(layer, m)

    mention_update(mention=m["russia"], label="ORG")

    assert Mention.objects.get(pk=m["russia"].pk).label == "ORG"


def test_mention_delete_deletes_its_arguments_and_the_stances_it_holds(layer, m):
    event = aid_event(layer, m)
    stance = stance_create(layer=layer, label="AGAINST", holder_id=m["us"].pk, target_id=m["russia2"].pk)
    version = version_of(layer)

    mention_delete(mention=m["weapon"])
    mention_delete(mention=m["us"])

    assert arguments_of(event) == {("actor", "Russia"), ("recipient", "Niger")}
    assert not Stance.objects.filter(pk=stance.pk).exists()
    assert not Mention.objects.filter(pk__in=[m["weapon"].pk, m["us"].pk]).exists()
    assert version_of(layer) == version + 2


# --- Events -------------------------------------------------------------------------------------


def test_event_create_aid_with_actor_recipient_and_artifacts(layer, m):
    event = aid_event(
        layer,
        m,
        arguments=[
            ("actor", m["russia"].pk),
            ("recipient", m["niger"].pk),
            ("artifact", m["weapon"].pk),
            ("artifact", m["trainers"].pk),
            ("time", m["april"].pk),
        ],
    )

    event.refresh_from_db()
    assert (event.event_type, event.trigger_text, event.mode, event.realis, event.contexts) == (
        "AID",
        "sent",
        "military",
        "actual",
        ["military"],
    )
    assert arguments_of(event) == {
        ("actor", "Russia"),
        ("recipient", "Niger"),
        ("artifact", "anti-aircraft system"),
        ("artifact", "100 military trainers"),
        ("time", "12 April 2024"),
    }
    layer.refresh_from_db()
    assert (layer.version, layer.status) == (2, Layer.Status.IN_PROGRESS)


def test_event_create_agreement_with_both_sides_as_actors(layer, m):
    start, end = at("signed")

    event = event_create(
        layer=layer,
        event_type="AGREE",
        trigger_start=start,
        trigger_end=end,
        realis="actual",
        contexts=["military", "diplomatic"],
        arguments=[
            ("actor", m["modi"].pk),
            ("actor", m["yevkurov"].pk),
            ("place", m["niamey"].pk),
            ("time", m["december"].pk),
        ],
    )

    assert arguments_of(event) == {
        ("actor", "Salifou Modi"),
        ("actor", "Yunus-Bek Yevkurov"),
        ("place", "Niamey"),
        ("time", "4 December 2023"),
    }


BAD_EVENTS = [
    pytest.param(lambda m: {"event_type": "INVADE"}, "event_type", id="unknown-type"),
    pytest.param(lambda m: {"event_type": "aid"}, "event_type", id="lowercase-type"),
    pytest.param(lambda m: {"event_type": None}, "event_type", id="no-type"),
    pytest.param(lambda m: {"mode": "discontinue"}, "mode", id="mode-of-another-type"),
    pytest.param(lambda m: {"event_type": "AGREE", "mode": "military"}, "mode", id="mode-on-type-without-modes"),
    pytest.param(lambda m: {"mode": None}, "mode", id="mode-none"),
    pytest.param(lambda m: {"realis": "probable"}, "realis", id="unknown-realis"),
    pytest.param(lambda m: {"realis": "Actual"}, "realis", id="realis-case"),
    pytest.param(lambda m: {"contexts": ["sports"]}, "contexts", id="unknown-context"),
    pytest.param(lambda m: {"contexts": "military"}, "contexts", id="contexts-string"),
    pytest.param(lambda m: {"arguments": [("beneficiary", m["niger"].pk)]}, "arguments", id="role-not-allowed"),
    pytest.param(lambda m: {"arguments": [("actor", m["april"].pk)]}, "arguments", id="date-as-actor"),
    pytest.param(lambda m: {"arguments": [("artifact", m["niger"].pk)]}, "arguments", id="gpe-as-artifact"),
    pytest.param(
        lambda m: {"arguments": [("actor", m["russia"].pk), ("place", m["niger"].pk), ("place", m["niamey"].pk)]},
        "arguments",
        id="two-places",
    ),
    pytest.param(
        lambda m: {"arguments": [("actor", m["russia"].pk), ("time", m["april"].pk), ("time", m["december"].pk)]},
        "arguments",
        id="two-times",
    ),
    pytest.param(
        lambda m: {"arguments": [("actor", m["russia"].pk), ("actor", m["russia"].pk)]},
        "arguments",
        id="same-mention-twice",
    ),
    pytest.param(lambda m: {"arguments": [("actor", m["other"].pk)]}, "arguments", id="mention-of-another-layer"),
    pytest.param(lambda m: {"arguments": [("actor", 10**9)]}, "arguments", id="no-such-mention"),
    pytest.param(lambda m: {"arguments": [("actor", str(m["russia"].pk))]}, "arguments", id="mention-id-string"),
    pytest.param(lambda m: {"arguments": [("actor",)]}, "arguments", id="argument-not-a-pair"),
    pytest.param(lambda m: {"trigger_start": -1}, "trigger_start", id="trigger-negative"),
    pytest.param(lambda m: {"trigger_end": len(TEXT) + 1, "trigger_text": None}, "trigger_end", id="trigger-past"),
    pytest.param(lambda m: {"trigger_end": at("sent")[0]}, "trigger_end", id="trigger-empty"),
    pytest.param(lambda m: {"trigger_text": "send"}, "trigger_text", id="trigger-mismatch"),
    pytest.param(
        lambda m: {"trigger_start": WHITESPACE, "trigger_end": WHITESPACE + 1, "trigger_text": None},
        "trigger_start",
        id="trigger-whitespace",
    ),
]


@pytest.mark.parametrize(("changes", "field"), BAD_EVENTS)
def test_event_create_refuses_what_the_schema_or_text_does_not_allow(layer, m, changes, field):
    error = refused(layer, lambda: aid_event(layer, m, **changes(m)))

    assert list(error.message_dict) == [field]


def test_event_argument_errors_name_the_role_and_the_mention(layer, m):
    date_actor = refused(layer, lambda: aid_event(layer, m, arguments=[("actor", m["april"].pk)]))
    two_places = refused(
        layer, lambda: aid_event(layer, m, arguments=[("place", m["niger"].pk), ("place", m["niamey"].pk)])
    )

    assert date_actor.message_dict == {
        "arguments": ["role 'actor' of AID takes GPE, NORP, ORG, PERSON, not a DATE mention ('12 April 2024')"]
    }
    assert two_places.message_dict == {"arguments": ["role 'place' of AID takes at most 1 argument(s), got 2"]}


def test_event_update_changes_type_mode_realis_and_arguments(layer, m):
    event = aid_event(layer, m)

    event_update(
        event=event,
        event_type="SANCTION",
        mode="discontinue",
        realis="future",
        contexts=["military", "diplomatic"],
        arguments=[("actor", m["niger"].pk), ("recipient", m["us"].pk)],
    )

    event.refresh_from_db()
    assert (event.event_type, event.mode, event.realis, event.contexts) == (
        "SANCTION",
        "discontinue",
        "future",
        ["military", "diplomatic"],
    )
    assert arguments_of(event) == {("actor", "Niger"), ("recipient", "US")}
    assert version_of(layer) == 3


def test_event_update_type_change_drops_the_old_mode(layer, m):
    event = aid_event(layer, m, arguments=[("actor", m["russia"].pk)])

    event_update(event=event, event_type="SUPPORT")

    event.refresh_from_db()
    assert (event.event_type, event.mode) == ("SUPPORT", "")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            lambda m: {"event_type": "CONSULT"},
            "arguments",
            "role 'artifact' is not allowed for CONSULT (roles: actor, recipient, place, time)",
            id="type-without-artifact-role",
        ),
        pytest.param(
            lambda m: {"mode": "coup"},
            "mode",
            "mode 'coup' is not allowed for AID (allowed: military, economic, humanitarian)",
            id="mode",
        ),
        pytest.param(
            lambda m: {"realis": "rumoured"},
            "realis",
            "unknown realis 'rumoured'; allowed: actual, future, hypothetical, negated",
            id="realis",
        ),
        pytest.param(
            lambda m: {"contexts": "military"}, "contexts", "must be a list of context names", id="contexts-string"
        ),
        pytest.param(
            lambda m: {"arguments": [("actor", m["december"].pk)]},
            "arguments",
            "role 'actor' of AID takes GPE, NORP, ORG, PERSON, not a DATE mention ('4 December 2023')",
            id="date-as-actor",
        ),
        pytest.param(
            lambda m: {"arguments": [("actor", m["other"].pk)]},
            "arguments",
            lambda m: f"mention {m['other'].pk} does not exist in this layer",
            id="mention-of-another-layer",
        ),
    ],
)
def test_event_update_refuses_a_bad_change_and_keeps_the_event(layer, m, changes, field, message):
    event = aid_event(layer, m)

    error = refused(layer, lambda: event_update(event=event, **changes(m)))

    expected = message(m) if callable(message) else message
    assert error.message_dict == {field: [expected]}


def test_event_delete_deletes_its_arguments_but_not_the_mentions(layer, m):
    event = aid_event(layer, m)

    event_delete(event=event)

    assert not Event.objects.filter(pk=event.pk).exists()
    assert not EventArgument.objects.filter(event_id=event.pk).exists()
    assert Mention.objects.filter(layer=layer).count() == len(MENTIONS)
    assert version_of(layer) == 3


# --- Stance -------------------------------------------------------------------------------------


def test_stance_held_by_a_mention_with_evidence(layer, m):
    start, end = at("it will be complicated")

    stance = stance_create(
        layer=layer,
        label="AGAINST",
        holder_id=m["us"].pk,
        target_id=m["russia2"].pk,
        evidence_start=start,
        evidence_end=end,
        evidence_text="it will be complicated",
    )

    stance.refresh_from_db()
    assert (stance.holder, stance.target, stance.label, stance.holder_is_author) == (
        m["us"],
        m["russia2"],
        "AGAINST",
        False,
    )
    assert (stance.evidence_start, stance.evidence_end, stance.evidence_text) == (start, end, "it will be complicated")
    assert version_of(layer) == 2


def test_stance_held_by_the_author_toward_a_mention_or_an_actor(layer, m):
    actor = ActorFactory(name="Russia")

    on_mention = stance_create(layer=layer, label="NONE", target_id=m["niger"].pk, scope="document")
    on_actor = stance_create(layer=layer, label="FAVOR", target_actor=actor)

    on_mention.refresh_from_db()
    on_actor.refresh_from_db()
    assert (on_mention.holder_is_author, on_mention.target, on_mention.scope) == (True, m["niger"], "document")
    assert (on_actor.holder_is_author, on_actor.target_actor, on_actor.evidence_text) == (True, actor, "")
    assert version_of(layer) == 3


EVIDENCE = at("it will be complicated")

BAD_STANCES = [
    pytest.param(lambda m: {"label": "OPPOSE"}, "label", id="unknown-label"),
    pytest.param(lambda m: {"label": "against"}, "label", id="label-case"),
    pytest.param(lambda m: {"holder_id": m["other"].pk}, "holder", id="holder-of-another-layer"),
    pytest.param(lambda m: {"holder_id": 10**9}, "holder", id="no-such-holder"),
    pytest.param(lambda m: {"holder_id": str(m["us"].pk)}, "holder", id="holder-id-string"),
    pytest.param(lambda m: {"target_id": m["other"].pk}, "target", id="target-of-another-layer"),
    pytest.param(lambda m: {"target_id": None}, "target", id="no-target"),
    pytest.param(lambda m: {"scope": "paragraph"}, "scope", id="unknown-scope"),
    pytest.param(lambda m: {"evidence_end": len(TEXT) + 1, "evidence_text": None}, "evidence_end", id="past"),
    pytest.param(lambda m: {"evidence_start": -1}, "evidence_start", id="evidence-negative"),
    pytest.param(lambda m: {"evidence_text": "it will be easy"}, "evidence_text", id="evidence-mismatch"),
    pytest.param(lambda m: {"evidence_end": None, "evidence_text": None}, "evidence_end", id="evidence-start-only"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_STANCES)
def test_stance_create_refuses_a_bad_stance(layer, m, changes, field):
    kwargs = {
        "layer": layer,
        "label": "AGAINST",
        "holder_id": m["us"].pk,
        "target_id": m["russia2"].pk,
        "evidence_start": EVIDENCE[0],
        "evidence_end": EVIDENCE[1],
        "evidence_text": "it will be complicated",
    }
    kwargs.update(changes(m))

    error = refused(layer, lambda: stance_create(**kwargs))

    assert list(error.message_dict) == [field]


def test_stance_without_target_says_what_it_needs(layer, m):
    error = refused(layer, lambda: stance_create(layer=layer, label="FAVOR", holder_id=m["us"].pk))

    assert error.message_dict == {"target": ["a stance needs a target mention or a target actor"]}


def test_stance_delete(layer, m):
    stance = stance_create(layer=layer, label="AGAINST", holder_id=m["us"].pk, target_id=m["russia2"].pk)

    stance_delete(stance=stance)

    assert not Stance.objects.filter(layer=layer).exists()
    assert version_of(layer) == 3
    assert Mention.objects.filter(pk__in=[m["us"].pk, m["russia2"].pk]).count() == 2


# --- Layer versions and status ------------------------------------------------------------------


def test_each_write_bumps_the_layer_version_by_one(layer, m):
    versions = []

    mention = mention_create(layer=layer, label="ORG", start=at("Russia")[0], end=at("Russia")[1])
    versions.append(layer.version)
    mention_update(mention=mention, label="NORP")
    versions.append(layer.version)
    event = aid_event(layer, m)
    versions.append(layer.version)
    event_update(event=event, realis="negated")
    versions.append(layer.version)
    stance = stance_create(layer=layer, label="FAVOR", target_id=m["russia"].pk)
    versions.append(layer.version)
    stance_delete(stance=stance)
    versions.append(layer.version)
    event_delete(event=event)
    versions.append(layer.version)
    mention_delete(mention=mention)
    versions.append(layer.version)

    assert versions == [2, 3, 4, 5, 6, 7, 8, 9]
    assert version_of(layer) == 9


def test_a_refused_write_leaves_the_version_and_status(layer, m):
    refused(layer, lambda: mention_create(layer=layer, label="COUNTRY", start=0, end=2))

    layer.refresh_from_db()
    assert (layer.version, layer.status) == (1, Layer.Status.NOT_STARTED)


def test_a_write_records_when_the_layer_changed(layer, m):
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Layer.objects.filter(pk=layer.pk).update(updated_at=long_ago)

    mention_create(layer=layer, label="ORG", start=at("Russia")[0], end=at("Russia")[1])

    layer.refresh_from_db()
    assert layer.updated_at > long_ago


def test_a_write_does_not_reopen_a_layer_marked_done_elsewhere(layer, m):
    # Given a stale copy of the layer (read while not started) and the layer since marked done
    stale = Layer.objects.get(pk=layer.pk)
    layer_set_status(layer=layer, status="done")

    mention_create(layer=stale, label="ORG", start=at("Russia")[0], end=at("Russia")[1])

    assert Layer.objects.get(pk=layer.pk).status == Layer.Status.DONE


def test_a_gold_layer_becomes_in_progress_on_its_first_write(article, m):
    gold = layer_gold(article=article)

    mention_create(layer=gold, label="GPE", start=at("Niger")[0], end=at("Niger")[1])

    gold.refresh_from_db()
    assert (gold.kind, gold.version, gold.status) == (Layer.Kind.GOLD, 2, Layer.Status.IN_PROGRESS)


def test_an_adjudicated_gold_layer_takes_no_writes_until_reopened(article, m):
    gold = layer_gold(article=article)
    niger = mention_create(layer=gold, label="GPE", start=at("Niger")[0], end=at("Niger")[1])
    layer_set_status(layer=gold, status="adjudicated")
    version = Layer.objects.get(pk=gold.pk).version

    # every kind of write is refused, naming the layer; nothing changes
    writes = [
        lambda: mention_create(layer=gold, label="GPE", start=at("Russia")[0], end=at("Russia")[1]),
        lambda: mention_update(mention=niger, label="LOC", expected_version=version),
        lambda: mention_delete(mention=niger),
    ]
    for write in writes:
        with pytest.raises(InvalidAnnotation) as error:
            write()
        assert "adjudicated" in error.value.message_dict["layer"][0]
    # a stale version is still a conflict first
    with pytest.raises(VersionConflict):
        mention_delete(mention=niger, expected_version=version - 1)
    gold.refresh_from_db()
    assert (gold.version, gold.status, gold.mentions.count()) == (version, "adjudicated", 1)

    # reopened, it takes writes again
    layer_set_status(layer=gold, status="in_progress", expected_version=version)
    mention_delete(mention=niger)
    assert not gold.mentions.exists()


def test_adjudicating_twice_keeps_the_first_adjudicator(article, django_user_model):
    first, second = (django_user_model.objects.create(username=name) for name in ("first", "second"))
    gold = layer_gold(article=article)
    layer_set_status(layer=gold, status="adjudicated", by=first)
    gold.refresh_from_db()
    version, at_time = gold.version, gold.adjudicated_at

    again = layer_set_status(layer=gold, status="adjudicated", by=second, expected_version=version)

    assert (again.adjudicated_by, again.adjudicated_at, again.version) == (first, at_time, version)
    with pytest.raises(VersionConflict):
        layer_set_status(layer=gold, status="adjudicated", by=second, expected_version=version - 1)


def test_layer_done_is_refused_while_an_event_lacks_its_actor(layer, m):
    event = aid_event(layer, m, arguments=[("recipient", m["niger"].pk)])

    error = refused(layer, lambda: layer_set_status(layer=layer, status="done"))

    assert error.message_dict == {
        "status": [
            f"the layer can't be done yet: event {event.pk} 'sent': AID needs at least 1 'actor' argument(s), has 0"
        ]
    }
    assert Layer.objects.get(pk=layer.pk).status == Layer.Status.IN_PROGRESS


def test_layer_done_once_the_actor_is_there_then_reopened(layer, m):
    event = aid_event(layer, m, arguments=[("recipient", m["niger"].pk)])
    event_update(event=event, arguments=[("actor", m["russia"].pk), ("recipient", m["niger"].pk)])

    layer_set_status(layer=layer, status="done")
    done = Layer.objects.values_list("status", "version").get(pk=layer.pk)
    layer_set_status(layer=layer, status="in_progress")
    reopened = Layer.objects.values_list("status", "version").get(pk=layer.pk)

    assert done == (Layer.Status.DONE, 4)
    assert reopened == (Layer.Status.IN_PROGRESS, 5)
    assert layer.status == Layer.Status.IN_PROGRESS


def test_layer_done_with_no_events_at_all(layer):
    layer_set_status(layer=layer, status="done")

    assert Layer.objects.get(pk=layer.pk).status == Layer.Status.DONE


@pytest.mark.parametrize("status", ["finished", "DONE", ""])
def test_layer_status_must_be_a_known_status(layer, status):
    error = refused(layer, lambda: layer_set_status(layer=layer, status=status))

    assert list(error.message_dict) == ["status"]


def test_only_a_complete_gold_layer_can_be_adjudicated(article, layer, m):
    gold = layer_gold(article=article)
    start, end = at("Niger")
    niger = mention_create(layer=gold, label="GPE", start=start, end=end)
    start, end = at("sent")
    event = event_create(
        layer=gold, event_type="AID", trigger_start=start, trigger_end=end, arguments=[("recipient", niger.pk)]
    )

    annotator_layer = refused(layer, lambda: layer_set_status(layer=layer, status="adjudicated"))
    incomplete = refused(gold, lambda: layer_set_status(layer=gold, status="adjudicated"))
    event_update(event=event, arguments=[("actor", niger.pk)])
    layer_set_status(layer=gold, status="adjudicated")

    assert annotator_layer.message_dict == {
        "status": ["only a gold layer can be adjudicated; this is an annotator layer"]
    }
    assert list(incomplete.message_dict) == ["status"]
    assert Layer.objects.get(pk=gold.pk).status == Layer.Status.ADJUDICATED


def test_layer_done_after_the_schema_dropped_an_event_type_names_the_event(project, layer, m):
    event = aid_event(layer, m)
    schema = dict(project.label_schema)
    schema["event_types"] = [e for e in schema["event_types"] if e["code"] != "AID"]
    project_set_schema(project=project, label_schema=schema)
    layer = Layer.objects.get(pk=layer.pk)

    error = refused(layer, lambda: layer_set_status(layer=layer, status="done"))

    assert error.message_dict == {
        "status": [
            f"the layer can't be done yet: event {event.pk} 'sent': event type 'AID' is no longer in the label schema"
        ]
    }


# --- Optimistic concurrency ---------------------------------------------------------------------


def test_a_write_naming_the_current_version_succeeds(layer, m):
    start, end = at("Niamey")

    mention_create(layer=layer, label="LOC", start=start, end=end, expected_version=1)

    assert version_of(layer) == 2
    assert Mention.objects.filter(layer=layer, label="LOC").count() == 1


STALE_WRITES = [
    pytest.param(
        lambda layer, m, event, stance, v: mention_create(
            layer=layer, label="LOC", start=at("Niamey")[0], end=at("Niamey")[1], expected_version=v
        ),
        id="mention_create",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: mention_update(mention=m["niger"], label="ORG", expected_version=v),
        id="mention_update",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: mention_delete(mention=m["weapon"], expected_version=v),
        id="mention_delete",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: aid_event(layer, m, expected_version=v),
        id="event_create",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: event_update(event=event, realis="future", expected_version=v),
        id="event_update",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: event_delete(event=event, expected_version=v),
        id="event_delete",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: stance_create(
            layer=layer, label="FAVOR", target_id=m["niger"].pk, expected_version=v
        ),
        id="stance_create",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: stance_delete(stance=stance, expected_version=v),
        id="stance_delete",
    ),
    pytest.param(
        lambda layer, m, event, stance, v: layer_set_status(layer=layer, status="done", expected_version=v),
        id="layer_set_status",
    ),
]


@pytest.mark.parametrize("write", STALE_WRITES)
def test_a_write_naming_a_stale_version_conflicts_and_writes_nothing(layer, m, write):
    event = aid_event(layer, m)
    stance = stance_create(layer=layer, label="AGAINST", holder_id=m["us"].pk, target_id=m["russia2"].pk)
    assert layer.version == 3
    before = state(layer)

    with pytest.raises(VersionConflict) as excinfo:
        write(layer, m, event, stance, 2)

    assert state(layer) == before
    assert (excinfo.value.layer_id, excinfo.value.expected, excinfo.value.current) == (layer.pk, 2, 3)


@pytest.mark.parametrize("write", STALE_WRITES)
def test_the_same_write_naming_the_current_version_succeeds(layer, m, write):
    event = aid_event(layer, m)
    stance = stance_create(layer=layer, label="AGAINST", holder_id=m["us"].pk, target_id=m["russia2"].pk)

    write(layer, m, event, stance, 3)

    assert version_of(layer) == 4


def test_two_writers_holding_the_same_version_the_second_conflicts(layer, m):
    # Given two clients that both read the layer at version 1
    first = Layer.objects.get(pk=layer.pk)
    second = Layer.objects.get(pk=layer.pk)
    niamey, niger = at("Niamey"), at("Niger")

    mention_create(layer=first, label="LOC", start=niamey[0], end=niamey[1], expected_version=1)
    with pytest.raises(VersionConflict) as excinfo:
        mention_create(layer=second, label="LOC", start=niger[0], end=niger[1], expected_version=1)

    assert list(Mention.objects.filter(layer=layer, label="LOC").values_list("text", flat=True)) == ["Niamey"]
    assert version_of(layer) == 2
    assert str(excinfo.value) == (
        f"Layer {layer.pk} is at version 2, not 1: it was changed by someone else. "
        "Reload it and apply your change again."
    )


# --- Articles -----------------------------------------------------------------------------------

BODY = "Russia sent trainers to Niger.\nThe Nigérien junta welcomed them."


def test_articles_create_stores_the_batch(project):
    result = articles_create(
        project=project,
        articles=[
            ArticleInput(title="  Trainers arrive ", text=BODY, source="RFI", published=dt.date(2024, 4, 12)),
            ArticleInput(title="Coup", text="The junta seized power in Niamey.", language="fr"),
        ],
        imported_from="seeds/articles.jsonl",
    )

    stored = list(Article.objects.filter(project=project).values_list("title", "text", "language", "imported_from"))
    assert stored == [
        ("Trainers arrive", BODY, "en", "seeds/articles.jsonl"),
        ("Coup", "The junta seized power in Niamey.", "fr", "seeds/articles.jsonl"),
    ]
    assert [a.pk for a in result.imported] == list(Article.objects.values_list("pk", flat=True))
    assert result.duplicates == []
    assert result.imported[0].content_hash == content_hash(BODY)


def test_articles_create_skips_duplicates_within_a_batch(project):
    spaced = "Russia  sent trainers to Niger.\r\nThe Nigérien   junta welcomed them.\r\n"
    decomposed = unicodedata.normalize("NFD", BODY)
    assert decomposed != BODY

    result = articles_create(
        project=project,
        articles=[
            ArticleInput(title="A", text=BODY),
            ArticleInput(title="B", text=spaced),
            ArticleInput(title="C", text=decomposed),
            ArticleInput(title="D", text=BODY.replace("Niger.", "Mali.")),
        ],
    )

    assert [a.title for a in result.imported] == ["A", "D"]
    assert result.duplicates == ["B", "C"]
    assert list(Article.objects.values_list("title", flat=True)) == ["A", "D"]


def test_articles_create_skips_duplicates_of_existing_articles(project):
    articles_create(project=project, articles=[ArticleInput(title="A", text=BODY)])

    result = articles_create(
        project=project,
        articles=[
            ArticleInput(title="A again", text=BODY.replace("\n", "\r\n")),
            ArticleInput(title="New", text="Wagner left Mali."),
        ],
    )

    assert [a.title for a in result.imported] == ["New"]
    assert result.duplicates == ["A again"]
    assert list(Article.objects.values_list("title", flat=True)) == ["A", "New"]


def test_articles_differing_in_words_or_case_are_not_duplicates(project):
    result = articles_create(
        project=project,
        articles=[
            ArticleInput(title="A", text=BODY),
            ArticleInput(title="B", text=BODY.lower()),
        ],
    )

    assert [a.title for a in result.imported] == ["A", "B"]
    assert result.duplicates == []


def test_the_same_text_in_another_project_is_not_a_duplicate(project):
    articles_create(project=project, articles=[ArticleInput(title="A", text=BODY)])

    result = articles_create(project=ProjectFactory(), articles=[ArticleInput(title="A", text=BODY)])

    assert (len(result.imported), result.duplicates) == (1, [])
    assert Article.objects.count() == 2


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param(ArticleInput(title="Empty", text=""), "text", id="empty-text"),
        pytest.param(ArticleInput(title="Blank", text=" \r\n\t "), "text", id="blank-text"),
        pytest.param(ArticleInput(title="", text="Some text."), "title", id="empty-title"),
        pytest.param(ArticleInput(title="   ", text="Some text."), "title", id="blank-title"),
        pytest.param(ArticleInput(title="x" * 1001, text="Some text."), "title", id="long-title"),
        pytest.param(ArticleInput(title="Meta", text="Some text.", metadata=[1]), "metadata", id="meta"),
    ],
)
def test_articles_create_refuses_a_bad_article_and_writes_nothing(project, bad, field):
    with pytest.raises(ValidationError) as excinfo:
        articles_create(project=project, articles=[ArticleInput(title="Good", text=BODY), bad])

    assert list(excinfo.value.message_dict) == [field]
    assert Article.objects.count() == 0


@override_settings(ARTICLE_MAX_CHARS=40)
def test_articles_create_refuses_text_over_the_limit(project):
    at_limit = "x" * 40

    with pytest.raises(ValidationError) as excinfo:
        articles_create(
            project=project,
            articles=[
                ArticleInput(title="Fits", text=at_limit),
                ArticleInput(title="Long", text="y" * 41),
            ],
        )
    result = articles_create(project=project, articles=[ArticleInput(title="Fits", text=at_limit)])

    assert excinfo.value.message_dict == {"text": ["has 41 characters, over the limit of 40 (ARTICLE_MAX_CHARS)"]}
    assert [a.title for a in result.imported] == ["Fits"]
    assert Article.objects.count() == 1


# --- Actors -------------------------------------------------------------------------------------


def test_actor_upsert_writes_nothing_when_nothing_changed(db):
    first, _ = actor_upsert(name="Niger", kind="GPE", country="NER")
    stamp = Actor.objects.get().updated_at

    again, outcome = actor_upsert(name="Niger", kind="GPE", country="NER")

    assert (again.pk, outcome) == (first.pk, "unchanged")
    assert Actor.objects.get().updated_at == stamp


def test_actor_upsert_creates_then_updates_by_name(db):
    first, created = actor_upsert(name="Niger", kind="GPE", aliases=["Republic of Niger"], country="NER", sector="GOV")
    second, created_again = actor_upsert(
        name=" Niger ",
        kind="GPE",
        aliases=["Niger", "Republic of Niger"],
        country="NER",
        sector="MIL",
        wikidata_id="Q1032",
    )

    assert (created, created_again) == ("created", "updated")
    assert second.pk == first.pk
    stored = Actor.objects.get()
    assert (stored.name, stored.aliases, stored.country, stored.sector, stored.wikidata_id) == (
        "Niger",
        ["Niger", "Republic of Niger"],
        "NER",
        "MIL",
        "Q1032",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"country": "NE"}, "country", id="iso2"),
        pytest.param({"country": "ner"}, "country", id="lowercase"),
        pytest.param({"country": "NIGR"}, "country", id="four-letters"),
        pytest.param({"country": "N3R"}, "country", id="digit"),
        pytest.param({"country": "ÄÖÜ"}, "country", id="non-ascii"),
        pytest.param({"sector": "ARMY"}, "sector", id="unknown-sector"),
        pytest.param({"sector": "gov"}, "sector", id="sector-case"),
        pytest.param({"name": "  "}, "name", id="blank-name"),
        pytest.param({"name": "N" * 201}, "name", id="long-name"),
        pytest.param({"kind": ""}, "kind", id="no-kind"),
        pytest.param({"kind": "country"}, "kind", id="kind-not-a-code"),
    ],
)
def test_actor_upsert_refuses_bad_fields(db, changes, field):
    kwargs = {"name": "Niger", "kind": "GPE", "country": "NER", "sector": "GOV"} | changes

    with pytest.raises(ValidationError) as excinfo:
        actor_upsert(**kwargs)

    assert list(excinfo.value.message_dict) == [field]
    assert Actor.objects.count() == 0


def test_actor_upsert_refusal_leaves_the_existing_actor(db):
    actor_upsert(name="Niger", kind="GPE", country="NER", sector="GOV")

    with pytest.raises(ValidationError):
        actor_upsert(name="Niger", kind="GPE", country="NIG", sector="JUNTA")

    assert list(Actor.objects.values_list("name", "country", "sector")) == [("Niger", "NER", "GOV")]

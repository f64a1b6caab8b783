"""The item copier: copies into a layer reuse the same items it holds, report what they added or found."""

from __future__ import annotations

import pytest

from annotations.errors import InvalidAnnotation
from annotations.models import Event, Layer, Mention, Stance
from annotations.selectors import with_copied_rows
from annotations.services.copying import ItemCopier
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add(layer: Layer, phrase: str, label: str = "GPE") -> Mention:
    start = layer.article.text.index(phrase)
    return mention_create(layer=layer, label=label, start=start, end=start + len(phrase))


def span(layer: Layer, phrase: str) -> tuple[int, int]:
    start = layer.article.text.index(phrase)
    return start, start + len(phrase)


def aid(layer: Layer, **attributes: str) -> Event:
    """AID on "sent": actor Russia, recipient Niger (the mentions are made or found in `layer`)."""
    russia = Mention.objects.filter(layer=layer, label="GPE", text="Russia").first() or add(layer, "Russia")
    niger = Mention.objects.filter(layer=layer, label="GPE", text="Niger").first() or add(layer, "Niger")
    start, end = span(layer, "sent")
    return event_create(
        layer=layer,
        event_type="AID",
        trigger_start=start,
        trigger_end=end,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
        **attributes,
    )


def modi_against_russia(layer: Layer, evidence: str = "Russia has sent") -> Stance:
    modi = add(layer, "Salifou Modi", "PERSON")
    russia = Mention.objects.filter(layer=layer, label="GPE", text="Russia").first() or add(layer, "Russia")
    start, end = span(layer, evidence)
    return stance_create(
        layer=layer, label="AGAINST", holder_id=modi.pk, target_id=russia.pk, evidence_start=start, evidence_end=end
    )


def loaded(kind: str, item: Mention | Event | Stance):
    """The source item as callers load it: with the related rows a copy reads."""
    return with_copied_rows(kind, type(item).objects.filter(pk=item.pk)).get()


@pytest.fixture
def target(article):
    return layer_for_annotator(article=article, annotator=UserFactory(username="annotator2"))


def version(layer: Layer) -> int:
    return Layer.objects.values_list("version", flat=True).get(pk=layer.pk)


def test_a_mention_the_layer_holds_is_reused_not_copied(layer, target):
    # given both layers hold Russia as GPE
    source = add(layer, "Russia")
    own = add(target, "Russia")
    before = version(target)

    # when the source mention is copied
    copier = ItemCopier(target)
    result = copier.copy("mention", loaded("mention", source))

    # then the target's own mention is the answer, reported as existing; nothing is written
    assert result == own.pk
    assert (copier.created, copier.existing) == ([], [("mention", own.pk)])
    assert list(target.mentions.values_list("pk", flat=True)) == [own.pk]
    assert version(target) == before


def test_an_other_label_on_the_same_span_is_another_mention(layer, target):
    source = add(layer, "Russia", "ORG")
    add(target, "Russia", "GPE")

    copier = ItemCopier(target)
    copied = copier.copy("mention", loaded("mention", source))

    assert copier.created == [("mention", copied)]
    assert sorted(target.mentions.values_list("text", "label")) == [("Russia", "GPE"), ("Russia", "ORG")]


def test_an_event_comes_with_its_argument_mentions_reusing_the_layers_own(layer, target):
    # given an AID event in the source; the target already holds Russia, not Niger
    source = aid(layer, mode="military", realis="future")
    russia = add(target, "Russia")

    copier = ItemCopier(target)
    copied = Event.objects.get(pk=copier.copy("event", loaded("event", source)))

    # then the event and Niger are new, Russia is the target's own (reused, so not listed)
    niger = target.mentions.get(text="Niger")
    arguments = sorted((a.role, a.mention_id) for a in copied.arguments.all())
    assert arguments == [("actor", russia.pk), ("recipient", niger.pk)]
    assert (copied.event_type, copied.trigger_text, copied.mode, copied.realis) == ("AID", "sent", "military", "future")
    assert copier.created == [("mention", niger.pk), ("event", copied.pk)]
    assert copier.existing == []
    assert copied.provenance == {} and niger.provenance == {}


def test_a_stance_comes_with_its_holder_and_target(layer, target):
    source = modi_against_russia(layer)

    copier = ItemCopier(target)
    copied = Stance.objects.select_related("holder", "target").get(pk=copier.copy("stance", loaded("stance", source)))

    assert (copied.label, copied.holder.text, copied.target.text) == ("AGAINST", "Salifou Modi", "Russia")
    assert copied.holder.layer_id == copied.target.layer_id == target.pk
    assert (copied.evidence_text, copied.scope) == ("Russia has sent", "sentence")
    assert copier.created == [("mention", copied.holder_id), ("mention", copied.target_id), ("stance", copied.pk)]


def test_each_new_item_keeps_the_provenance_given_for_what_it_copies(layer, article):
    gold = layer_gold(article=article)
    source = aid(layer)
    annotators = {("mention", *span(layer, "Niger"), "GPE"): ["annotator1", "annotator2"]}

    def provenance(key):
        return {"strategy": "picked", "annotators": annotators.get(key, ["annotator1"])}

    ItemCopier(gold, provenance=provenance).copy("event", loaded("event", source))

    assert gold.events.get().provenance == {"strategy": "picked", "annotators": ["annotator1"]}
    assert dict(gold.mentions.values_list("text", "provenance")) == {
        "Russia": {"strategy": "picked", "annotators": ["annotator1"]},
        "Niger": {"strategy": "picked", "annotators": ["annotator1", "annotator2"]},
    }


def test_copying_the_same_items_again_creates_nothing_and_says_so(layer, target, django_assert_num_queries):
    # given a mention, an event and a stance copied once
    sources = [
        ("mention", loaded("mention", add(layer, "Niamey"))),
        ("event", loaded("event", aid(layer))),
        ("stance", loaded("stance", modi_against_russia(layer))),
    ]
    first = ItemCopier(target)
    ids = [first.copy(kind, item) for kind, item in sources]
    assert [kind for kind, _ in first.created] == ["mention", "mention", "mention", "event", "mention", "stance"]
    # the same copier asked again finds its own copies
    assert [first.copy(kind, item) for kind, item in sources] == ids
    before = version(target)

    # when a new copier copies them again
    again = ItemCopier(target)
    # then it reads the layer once per kind (mentions; events and their arguments; stances), no query per item
    with django_assert_num_queries(4):
        assert [again.copy(kind, item) for kind, item in sources] == ids

    assert again.created == []
    assert again.existing == list(zip(["mention", "event", "stance"], ids, strict=True))
    assert (target.mentions.count(), target.events.count(), target.stances.count()) == (4, 1, 1)
    assert version(target) == before


def test_an_event_held_with_another_mode_or_realis_is_the_same_event(layer, target):
    # given the target holds the AID event with its own mode and realis (an annotator's correction)
    own = aid(target, mode="military", realis="actual")
    source = aid(layer, mode="economic", realis="future")

    copier = ItemCopier(target)

    # then the copy is that event: no second AID on the same trigger with the same arguments
    assert copier.copy("event", loaded("event", source)) == own.pk
    assert (copier.created, copier.existing) == ([], [("event", own.pk)])
    assert list(target.events.values_list("mode", "realis")) == [("military", "actual")]


def test_an_event_with_other_arguments_is_another_event(layer, target):
    own = aid(target)
    source = aid(layer)
    source.arguments.filter(role="recipient").delete()

    copier = ItemCopier(target)
    copied = copier.copy("event", loaded("event", source))

    assert copied != own.pk and copier.created == [("event", copied)]
    assert target.events.count() == 2


@pytest.mark.parametrize(("stance_evidence", "stances"), [(False, 1), (True, 2)])
def test_stances_differing_only_in_evidence_are_told_apart_when_asked(layer, target, stance_evidence, stances):
    # given two stances of Modi against Russia, on two sentences
    first = modi_against_russia(layer, evidence="Russia has sent")
    start, end = span(layer, "The documents were signed")
    second = stance_create(
        layer=layer,
        label="AGAINST",
        holder_id=first.holder_id,
        target_id=first.target_id,
        evidence_start=start,
        evidence_end=end,
    )

    copier = ItemCopier(target, stance_evidence=stance_evidence)
    ids = [copier.copy("stance", loaded("stance", s)) for s in (first, second)]

    # then suggestions keep each sentence; review keeps one stance per holder, target and label
    assert target.stances.count() == stances
    assert len(set(ids)) == stances
    assert [kind for kind, _ in copier.existing] == ["stance"] * (2 - stances)


def test_a_copy_into_a_gold_layer_adjudicated_meanwhile_is_refused(layer, article):
    # given a copier on a gold layer that a reviewer adjudicates after it was read
    source = loaded("event", aid(layer))
    gold = layer_gold(article=article)
    copier = ItemCopier(gold)
    layer_set_status(layer=Layer.objects.get(pk=gold.pk), status=Layer.Status.ADJUDICATED)
    adjudicated = version(gold)

    # when it copies, the first write is refused with the layer's own error; nothing is written
    with pytest.raises(InvalidAnnotation) as error:
        copier.copy("event", source)
    assert error.value.message_dict == {
        "layer": [f"gold layer {gold.pk} is adjudicated: reopen it (status in_progress) before changing it"]
    }
    assert not gold.mentions.exists() and not gold.events.exists()
    assert version(gold) == adjudicated and copier.created == []

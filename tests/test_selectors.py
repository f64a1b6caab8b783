"""Selectors: reads both front doors share."""

from __future__ import annotations

import pytest

from annotations.selectors import layer_detail, layer_with_items
from annotations.services.items import event_create, mention_create, stance_create
from api.serializers.layers import EventOutput, LayerDetailOutput, MentionOutput, StanceOutput
from tests.factories import ActorFactory


@pytest.mark.django_db
def test_a_layers_detail_has_exactly_the_fields_the_api_documents(layer):
    text = layer.article.text  # "Russia has sent an anti-aircraft system and 100 military trainers to Niger. …"
    actor = ActorFactory()
    russia = mention_create(layer=layer, label="GPE", start=0, end=6, text="Russia", actor=actor)
    niger = mention_create(layer=layer, label="GPE", start=text.index("Niger"), end=text.index("Niger") + 5)
    event = event_create(
        layer=layer,
        event_type="AID",
        trigger_start=11,
        trigger_end=15,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    stance = stance_create(layer=layer, label="AGAINST", holder_id=niger.pk, target_id=russia.pk)

    detail = layer_detail(layer_with_items(layer.pk))

    assert list(detail) == LayerDetailOutput.Meta.fields
    assert [list(m) for m in detail["mentions"]] == [MentionOutput.Meta.fields] * 2
    assert list(detail["events"][0]) == EventOutput.Meta.fields
    assert list(detail["stances"][0]) == StanceOutput.Meta.fields
    assert [(m["id"], m["text"], m["actor_name"]) for m in detail["mentions"]] == [
        (russia.pk, "Russia", actor.name),
        (niger.pk, "Niger", None),
    ]
    assert detail["events"][0]["arguments"] == [
        {"id": a.pk, "role": a.role, "mention": a.mention_id} for a in event.arguments.order_by("role")
    ]
    assert (detail["stances"][0]["id"], detail["stances"][0]["holder"]) == (stance.pk, niger.pk)
    assert detail["created_at"].endswith("Z")

"""Selectors: reads both front doors share."""

from __future__ import annotations

import json

import pytest

from annotations.selectors import layer_detail, layer_with_items
from annotations.services.items import event_create, mention_create, stance_create
from api.serializers import LayerDetailOutput
from tests.factories import ActorFactory


@pytest.mark.django_db
def test_a_layers_detail_is_what_the_api_serializer_documents(layer):
    text = layer.article.text  # "Russia has sent an anti-aircraft system and 100 military trainers to Niger. …"
    russia = mention_create(layer=layer, label="GPE", start=0, end=6, text="Russia", actor=ActorFactory())
    niger = mention_create(layer=layer, label="GPE", start=text.index("Niger"), end=text.index("Niger") + 5)
    event_create(
        layer=layer,
        event_type="AID",
        trigger_start=11,
        trigger_end=15,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    stance_create(layer=layer, label="AGAINST", holder_id=niger.pk, target_id=russia.pk)

    detail = layer_detail(layer_with_items(layer.pk))

    documented = json.loads(json.dumps(LayerDetailOutput(layer_with_items(layer.pk)).data))
    assert detail == documented
    assert [m["id"] for m in detail["mentions"]] == [russia.pk, niger.pk]
    assert detail["events"][0]["arguments"][0]["role"] == "actor"

"""Roles "not stated in the text": an event may list required roles the text leaves implicit
("since the coup" has no actor). Such an event is complete; the list is validated, copied, part of
an event's review key, exported (JSONL, brat) and read back by the annotated import."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from annotations.errors import InvalidAnnotation
from annotations.exports.brat import annotation_conf
from annotations.models import Event, Layer
from annotations.review import event_key
from annotations.schema import LabelSchema, load_default_schema
from annotations.services.annotated_import import corpus_import_jsonl
from annotations.services.copying import ItemCopier
from annotations.services.items import event_create, event_update, mention_create
from annotations.services.layers import layer_gold, layer_set_status
from annotations.services.projects import project_create
from annotations.validation import validate_event_complete
from tests.factories import ArticleFactory, LayerFactory
from tests.test_exports import stream

TEXT = "Since the coup, the assets of Niger were frozen. Russia sent trainers to Niamey."


def at(phrase: str) -> tuple[int, int]:
    start = TEXT.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def gold(project):
    return layer_gold(article=ArticleFactory(project=project, text=TEXT))


def frozen(layer: Layer, **options) -> Event:
    """SANCTION "frozen" with Niger as recipient and no actor mention."""
    start, end = at("Niger")
    niger = mention_create(layer=layer, label="GPE", start=start, end=end)
    trigger_start, trigger_end = at("frozen")
    return event_create(
        layer=layer,
        event_type="SANCTION",
        trigger_start=trigger_start,
        trigger_end=trigger_end,
        arguments=[("recipient", niger.pk)],
        **options,
    )


def test_an_event_with_its_missing_actor_not_stated_is_complete(gold):
    # given a SANCTION without an actor argument, marked "actor not stated"
    event = frozen(gold, not_stated=["actor"])

    # when the gold layer is adjudicated
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    # then it is, and the event keeps the list
    gold.refresh_from_db()
    assert gold.status == Layer.Status.ADJUDICATED
    assert Event.objects.get(pk=event.pk).not_stated == ["actor"]


def test_an_event_missing_its_actor_without_not_stated_is_incomplete(gold):
    # given the same event without not_stated
    frozen(gold)

    # when the layer is marked done, then it is refused naming the missing role
    with pytest.raises(InvalidAnnotation) as refused:
        layer_set_status(layer=gold, status=Layer.Status.DONE)
    assert "SANCTION needs at least 1 'actor' argument(s), has 0" in str(refused.value.message_dict["status"])


def test_validate_event_complete_counts_a_not_stated_role_as_filled():
    schema = LabelSchema(load_default_schema())
    assert validate_event_complete(schema, event_type="SANCTION", role_counts=Counter(), not_stated=["actor"]) == []
    assert validate_event_complete(schema, event_type="SANCTION", role_counts=Counter()) == [
        "SANCTION needs at least 1 'actor' argument(s), has 0"
    ]


@pytest.mark.parametrize(
    ("not_stated", "message"),
    [
        (["speaker"], "role 'speaker' is not a role of SANCTION (roles: actor, recipient, place, time, artifact)"),
        (["actor", "actor"], "role 'actor' is listed twice"),
        (["recipient"], "role 'recipient' has an argument, so it is stated; remove it from not_stated"),
        ("actor", "must be a list of role names, got 'actor'"),
        ([7], "role 7 is not a role of SANCTION (roles: actor, recipient, place, time, artifact)"),
    ],
)
def test_not_stated_is_checked_and_errors_name_the_field(gold, not_stated, message):
    with pytest.raises(InvalidAnnotation) as refused:
        frozen(gold, not_stated=not_stated)
    assert refused.value.field == "not_stated"
    assert refused.value.message_dict == {"not_stated": [message]}
    assert gold.events.count() == 0


def test_event_update_sets_not_stated_and_drops_a_role_once_it_has_an_argument(gold):
    # given an event without not_stated
    event = frozen(gold)

    # when not_stated is set, then it is stored
    event_update(event=event, not_stated=["actor"])
    assert Event.objects.get(pk=event.pk).not_stated == ["actor"]

    # when the actor is then given an argument (not_stated left as it is), then the role is stated
    start, end = at("Russia")
    russia = mention_create(layer=gold, label="GPE", start=start, end=end)
    niger = gold.mentions.get(label="GPE", text="Niger")
    event_update(event=event, arguments=[("actor", russia.pk), ("recipient", niger.pk)])
    assert Event.objects.get(pk=event.pk).not_stated == []

    # and naming a role that has an argument is refused
    with pytest.raises(InvalidAnnotation) as refused:
        event_update(event=event, not_stated=["actor"])
    assert refused.value.field == "not_stated"


def test_a_copy_carries_not_stated_and_the_event_key_includes_it(project):
    # given an annotator's event with actor not stated and another without
    article = ArticleFactory(project=project, text=TEXT)
    annotator = LayerFactory(article=article)
    with_list = frozen(annotator, not_stated=["actor"])
    gold = layer_gold(article=article)
    without = frozen(LayerFactory(article=article))

    # then the two are different versions of the event in review
    assert event_key(with_list) != event_key(without)
    assert event_key(with_list)[-1] == ("actor",)

    # when the first is copied into gold, then the copy keeps the list
    copier = ItemCopier(gold)
    copied = Event.objects.get(pk=copier.copy("event", with_list))
    assert copied.not_stated == ["actor"]
    # and the second is a new event in gold, not the same one
    assert copier.copy("event", without) != copied.pk


def test_jsonl_writes_not_stated_only_when_there_is_one_and_reads_it_back(project, tmp_path):
    # given an adjudicated gold layer: one event with actor not stated, one with every role stated
    gold = layer_gold(article=ArticleFactory(project=project, text=TEXT))
    frozen(gold, not_stated=["actor"])
    start, end = at("Russia")
    russia = mention_create(layer=gold, label="GPE", start=start, end=end)
    start, end = at("Niamey")
    niamey = mention_create(layer=gold, label="GPE", start=start, end=end)
    trigger_start, trigger_end = at("sent")
    event_create(
        layer=gold,
        event_type="AID",
        trigger_start=trigger_start,
        trigger_end=trigger_end,
        arguments=[("actor", russia.pk), ("recipient", niamey.pk)],
    )
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    # when exported as JSONL
    first = stream(project, format="jsonl")

    # then only the first event has the key
    (line,) = [orjson.loads(raw) for raw in first.splitlines()]
    assert [(e["type"], e.get("not_stated")) for e in line["events"]] == [("SANCTION", ["actor"]), ("AID", None)]

    # and imported into a fresh project and exported again, the bytes are the same
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(first)
    fresh = project_create(slug="fresh", name="Fresh")
    corpus_import_jsonl(project=fresh, path=path)
    assert stream(fresh, format="jsonl") == first
    assert Event.objects.get(layer__article__project=fresh, event_type="SANCTION").not_stated == ["actor"]


def test_brat_writes_one_not_stated_attribute_per_role_declared_in_annotation_conf(gold, tmp_path):
    import bratly

    from tests.test_exports import _export_folder, _parse_ann

    # given an adjudicated event with actor not stated
    frozen(gold, not_stated=["actor"])
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    # when the project is exported as brat
    out = _export_folder(gold.article.project, "brat", tmp_path / "brat")

    # then the event has a NotStated attribute, declared in annotation.conf, and bratly reads it
    (ann,) = out.rglob("*.ann")
    lines = ann.read_text(encoding="utf-8").splitlines()
    assert "E1\tSANCTION:T2 recipient:T1" in lines
    assert [line.split("\t", 1)[1] for line in lines if "NotStated" in line] == ["NotStated E1 actor"]
    conf = (out / "annotation.conf").read_text(encoding="utf-8")
    assert "NotStated Arg:<EVENT>, Value:actor|recipient|place|time|artifact\n" in conf
    assert conf == annotation_conf(LabelSchema(gold.article.project.label_schema), _labels(conf))
    parsed = _parse_ann(ann.read_text(encoding="utf-8"))
    document = bratly.Document(
        fullpath=str(Path(ann).with_suffix(".txt")),
        annotation_collections=[bratly.AnnotationCollection(annotations=parsed)],
    )
    assert document.check_ann_compatibility_with_txt()


def _labels(conf: str) -> list[str]:
    entities = conf.split("[entities]\n", 1)[1].split("\n\n", 1)[0]
    return entities.splitlines()

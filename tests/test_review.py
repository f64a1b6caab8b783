"""Review services: grouping the annotators' versions, merge strategies, picking into gold, stages."""

from __future__ import annotations

import orjson
import pytest

from annotations.errors import InvalidAnnotation, VersionConflict
from annotations.exports.runner import export_request, export_stream
from annotations.models import Event, Layer, Mention, Stance
from annotations.review import groups_of
from annotations.selectors import Stage, article_stage, articles_with_stage, compared_layers, filter_stage, review_of
from annotations.services.articles import ArticleInput, articles_create
from annotations.services.gold import gold_merge, gold_open, gold_pick
from annotations.services.items import mention_create
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from tests.factories import MembershipFactory, UserFactory
from tests.review_fixtures import first_span, review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return review_setup()


def by_text(groups, kind="mentions"):
    """Groups of a review payload by (text, label) for mentions."""
    return {(g["text"], g["label"]): g for g in groups["groups"][kind]}


def item_of(setup, username, model, **filters):
    layer = setup.layers[username][0]
    return model.objects.get(layer=layer, **filters)


# --- Groups and disagreements -----------------------------------------------------------------


def test_groups_show_who_gave_each_version_and_why_it_is_disputed(setup):
    # when the reviewer compares seed 000
    review = review_of(setup.first)

    # then both annotators are compared, each mention version is a group with who gave it
    assert [a["username"] for a in review["annotators"]] == ["annotator1", "annotator2"]
    mentions = by_text(review)
    assert mentions[("Niger", "GPE")]["agreement"] == "unanimous"
    assert mentions[("Niger", "GPE")]["disagreements"] == []
    assert mentions[("Yevkurov", "PERSON")]["annotators"] == ["annotator1", "annotator2"]
    # Niamey: the same span with two labels
    assert mentions[("Niamey", "GPE")]["annotators"] == ["annotator1"]
    assert mentions[("Niamey", "GPE")]["disagreements"] == ["label", "missing"]
    assert mentions[("Niamey", "LOC")]["disagreements"] == ["label", "missing"]
    assert mentions[("Niamey", "LOC")]["agreement"] == "minority"
    # Salifou Modi / Modi: the same label on overlapping, different spans
    assert mentions[("Salifou Modi", "PERSON")]["disagreements"] == ["boundary", "missing"]
    assert mentions[("Modi", "PERSON")]["disagreements"] == ["boundary", "missing"]
    # the item ids are the annotators' own, to pick
    niamey = item_of(setup, "annotator1", Mention, text="Niamey")
    assert mentions[("Niamey", "GPE")]["items"] == {"annotator1": niamey.pk}
    assert review["summary"]["mentions"] == {"groups": 7, "disputed": 4, "in_gold": 0}


def test_events_disagree_on_arguments_or_presence_and_stances_on_labels(setup):
    review = review_of(setup.first)
    events = {(g["event_type"], g["annotators"][0]): g for g in review["groups"]["events"]}
    # AGREE on "signed": same trigger and type, different actors (Salifou Modi vs Modi)
    agree_1, agree_2 = events[("AGREE", "annotator1")], events[("AGREE", "annotator2")]
    assert agree_1["disagreements"] == ["arguments", "missing"]
    assert sorted((a["role"], a["text"]) for a in agree_1["arguments"]) == [
        ("actor", "Salifou Modi"),
        ("actor", "Yevkurov"),
    ]
    assert sorted((a["role"], a["text"]) for a in agree_2["arguments"]) == [("actor", "Modi"), ("actor", "Yevkurov")]
    # AID on "provide": annotator1 only
    assert events[("AID", "annotator1")]["disagreements"] == ["missing"]
    # the author's stance toward Russia: AGAINST vs NONE
    stances = {g["label"]: g for g in review["groups"]["stances"]}
    assert set(stances) == {"AGAINST", "NONE"}
    assert stances["AGAINST"]["holder"] is None and stances["AGAINST"]["target"]["text"] == "Russia"
    assert stances["AGAINST"]["disagreements"] == ["label", "missing"]
    # seed 001: identical layers, nothing disputed
    same = review_of(setup.articles[1])
    assert all(not g["disagreements"] for kind in ("mentions", "events", "stances") for g in same["groups"][kind])
    assert all(g["agreement"] == "unanimous" for g in same["groups"]["mentions"])


def test_types_differing_on_one_trigger_are_a_type_disagreement(setup):
    # given annotator2's AGREE on "signed" turned into a CONSULT
    event = item_of(setup, "annotator2", Event, event_type="AGREE")
    Event.objects.filter(pk=event.pk).update(event_type="CONSULT")

    groups = groups_of(compared_layers(setup.first))
    disagreements = {g.item.event_type: g.disagreements for g in groups["event"]}
    assert disagreements["AGREE"] == ["type", "missing"]
    assert disagreements["CONSULT"] == ["type", "missing"]


def test_one_annotator_or_empty_layers_are_not_an_error(setup):
    # given one annotator's layer reopened to not started: only annotator1 is compared
    Layer.objects.filter(pk=setup.layers["annotator2"][0].pk).update(status=Layer.Status.NOT_STARTED)
    review = review_of(setup.first)
    assert [a["username"] for a in review["annotators"]] == ["annotator1"]
    assert {g["agreement"] for g in review["groups"]["mentions"]} == {"unanimous"}
    assert all("missing" not in g["disagreements"] for g in review["groups"]["mentions"])

    # an article nobody annotated has no groups and no gold
    (bare,) = articles_create(project=setup.project, articles=[ArticleInput(title="Bare", text="Niger.")]).imported
    empty = review_of(bare)
    assert empty["annotators"] == [] and empty["gold"] is None and empty["stage"] == Stage.UNASSIGNED
    assert empty["groups"] == {"mentions": [], "events": [], "stances": []}

    # two started but empty layers: nothing to compare, nothing disputed
    for username in ("annotator1", "annotator2"):
        layer = layer_for_annotator(article=bare, annotator=setup.users[username])
        layer_set_status(layer=layer, status=Layer.Status.DONE)
    assert review_of(bare)["summary"]["mentions"] == {"groups": 0, "disputed": 0, "in_gold": 0}


# --- Merge strategies -------------------------------------------------------------------------


def test_unanimous_merge_takes_what_both_gave_with_provenance(setup):
    gold = layer_gold(article=setup.first)
    reviewer = setup.users["reviewer"]

    result = gold_merge(gold=gold, strategy="unanimous", reviewer=reviewer, expected_version=gold.version)

    # then gold has the three mentions both gave, and no disputed event or stance
    assert sorted(gold.mentions.values_list("text", "label")) == [
        ("Niger", "GPE"),
        ("Russia", "GPE"),
        ("Yevkurov", "PERSON"),
    ]
    assert not gold.events.exists() and not gold.stances.exists()
    assert result.count("mention") == 3 and result.layer_version == Layer.objects.get(pk=gold.pk).version
    provenance = gold.mentions.get(text="Niger").provenance
    assert provenance["strategy"] == "unanimous"
    assert provenance["annotators"] == ["annotator1", "annotator2"]
    assert provenance["reviewer"] == "reviewer" and provenance["at"]
    # the review now shows them in gold
    review = review_of(setup.first)
    assert by_text(review)[("Niger", "GPE")]["gold"] == gold.mentions.get(text="Niger").pk
    assert review["summary"]["mentions"]["in_gold"] == 3

    # a second merge adds nothing: gold is not doubled
    gold.refresh_from_db()
    again = gold_merge(gold=gold, strategy="unanimous", reviewer=reviewer, expected_version=gold.version)
    assert again.created == [] and gold.mentions.count() == 3


def test_majority_merge_takes_what_more_than_half_gave(setup):
    # given a third annotator who agrees with annotator1 on Niamey (GPE) and labels nothing else
    third = UserFactory(username="annotator3")
    MembershipFactory(project=setup.project, user=third, role="annotator")
    layer = layer_for_annotator(article=setup.first, annotator=third)
    start, end = first_span(setup.first.text, "Niamey")
    mention_create(layer=layer, label="GPE", start=start, end=end)
    gold = layer_gold(article=setup.first)

    # when the reviewer merges by majority
    gold_merge(gold=gold, strategy="majority", reviewer=setup.users["reviewer"], expected_version=gold.version)

    # then Niamey GPE (2 of 3) and what annotators 1 and 2 agree on (2 of 3) are in; LOC (1 of 3) is not
    labels = dict(gold.mentions.values_list("text", "label"))
    assert labels == {"Niger": "GPE", "Russia": "GPE", "Yevkurov": "PERSON", "Niamey": "GPE"}
    assert gold.mentions.get(text="Niamey").provenance["annotators"] == ["annotator1", "annotator3"]
    assert gold.mentions.get(text="Niamey").provenance["strategy"] == "majority"


def test_none_merge_writes_nothing_and_an_unknown_strategy_is_refused(setup):
    gold = layer_gold(article=setup.first)
    result = gold_merge(gold=gold, strategy="none", reviewer=None, expected_version=gold.version)
    assert result.created == [] and not gold.mentions.exists()
    with pytest.raises(InvalidAnnotation) as error:
        gold_merge(gold=gold, strategy="loudest", reviewer=None, expected_version=None)
    assert "strategy" in error.value.message_dict


# --- Picking ----------------------------------------------------------------------------------


def test_picking_an_event_brings_its_argument_mentions_and_reuses_gold_ones(setup):
    gold = layer_gold(article=setup.first)
    reviewer = setup.users["reviewer"]
    gold_merge(gold=gold, strategy="unanimous", reviewer=reviewer, expected_version=None)
    yevkurov = gold.mentions.get(text="Yevkurov")
    agree = item_of(setup, "annotator1", Event, event_type="AGREE")

    gold.refresh_from_db()
    result = gold_pick(gold=gold, items=[("event", agree.pk)], reviewer=reviewer, expected_version=gold.version)

    event = gold.events.get()
    assert event.event_type == "AGREE" and event.trigger_text == "signed"
    arguments = sorted((a.role, a.mention.text, a.mention.layer_id) for a in event.arguments.all())
    assert arguments == [("actor", "Salifou Modi", gold.pk), ("actor", "Yevkurov", gold.pk)]
    # Yevkurov was reused, Salifou Modi created; both recorded in `created` only when new
    assert yevkurov.pk in {a.mention_id for a in event.arguments.all()}
    assert sorted(kind for kind, _ in result.created) == ["event", "mention"]
    assert event.provenance["strategy"] == "picked" and event.provenance["annotators"] == ["annotator1"]
    assert gold.mentions.get(text="Salifou Modi").provenance["strategy"] == "picked"


def test_picking_a_stance_and_a_disputed_label(setup):
    gold = layer_gold(article=setup.first)
    reviewer = setup.users["reviewer"]
    stance = item_of(setup, "annotator2", Stance)
    niamey = item_of(setup, "annotator1", Mention, text="Niamey")

    result = gold_pick(
        gold=gold, items=[("stance", stance.pk), ("mention", niamey.pk)], reviewer=reviewer, expected_version=None
    )

    picked = gold.stances.get()
    assert picked.label == "NONE" and picked.holder is None and picked.target.text == "Russia"
    assert picked.target.layer_id == gold.pk
    assert picked.provenance["annotators"] == ["annotator2"]
    assert gold.mentions.get(text="Niamey").label == "GPE"
    # picking the same again adds nothing and says so
    gold.refresh_from_db()
    again = gold_pick(
        gold=gold,
        items=[("stance", stance.pk), ("mention", niamey.pk)],
        reviewer=reviewer,
        expected_version=gold.version,
    )
    assert again.created == [] and sorted(k for k, _ in again.existing) == ["mention", "stance"]
    assert result.layer_version < again.layer_version


def test_picks_that_are_not_annotator_items_of_the_article_are_refused(setup):
    gold = layer_gold(article=setup.first)
    elsewhere = item_of(setup, "annotator1", Mention, text="Niger")
    other_article = Mention.objects.filter(layer=setup.layers["annotator1"][1]).first()
    gold_mention = mention_create(layer=gold, label="GPE", start=elsewhere.start, end=elsewhere.end)
    version = Layer.objects.get(pk=gold.pk).version

    for items in ([("mention", other_article.pk)], [("mention", gold_mention.pk)], [("relation", 1)], []):
        with pytest.raises(InvalidAnnotation) as error:
            gold_pick(gold=gold, items=items, reviewer=None, expected_version=version)
        assert "items" in error.value.message_dict
    with pytest.raises(InvalidAnnotation):
        gold_pick(
            gold=setup.layers["annotator1"][0], items=[("mention", elsewhere.pk)], reviewer=None, expected_version=None
        )
    # nothing was written, the version did not move
    assert Layer.objects.get(pk=gold.pk).version == version and gold.mentions.count() == 1


def test_a_stale_version_writes_nothing(setup):
    gold = layer_gold(article=setup.first)
    read = gold.version
    gold_merge(gold=gold, strategy="unanimous", reviewer=None, expected_version=read)  # someone else first
    niamey = item_of(setup, "annotator1", Mention, text="Niamey")

    with pytest.raises(VersionConflict):
        gold_pick(gold=gold, items=[("mention", niamey.pk)], reviewer=None, expected_version=read)
    with pytest.raises(VersionConflict):
        gold_merge(gold=gold, strategy="majority", reviewer=None, expected_version=read)
    assert not gold.mentions.filter(text="Niamey").exists() and gold.mentions.count() == 3


# --- Adjudication, stages, export -------------------------------------------------------------


def test_stages_follow_the_layers(setup):
    def stages():
        return dict(articles_with_stage(setup.project.articles.all()).values_list("title", "stage"))

    # both annotators done on every seed (overlap 2): annotated
    assert set(stages().values()) == {Stage.ANNOTATED}
    # one layer reopened: assigned
    second = setup.layers["annotator2"][1]
    layer_set_status(layer=second, status=Layer.Status.IN_PROGRESS)
    assert article_stage(setup.articles[1]) == Stage.ASSIGNED
    # gold adjudicated: adjudicated, by whom and when
    gold = layer_gold(article=setup.first)
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED, by=setup.users["reviewer"])
    gold.refresh_from_db()
    assert gold.adjudicated_by == setup.users["reviewer"] and gold.adjudicated_at is not None
    assert article_stage(setup.first) == Stage.ADJUDICATED
    assert list(filter_stage(setup.project.articles.all(), "adjudicated")) == [setup.first]
    # reopened gold is no longer adjudicated, nor recorded as such
    layer_set_status(layer=gold, status=Layer.Status.IN_PROGRESS)
    gold.refresh_from_db()
    assert gold.adjudicated_by is None and gold.adjudicated_at is None
    assert article_stage(setup.first) == Stage.ANNOTATED
    # no layer: unassigned; a bad stage is refused by name
    (bare,) = articles_create(project=setup.project, articles=[ArticleInput(title="Bare", text="Niger.")]).imported
    assert article_stage(bare) == Stage.UNASSIGNED
    with pytest.raises(InvalidAnnotation):
        filter_stage(setup.project.articles.all(), "done")


def test_the_gold_export_holds_exactly_the_adjudicated_items(setup):
    # given seed 000 merged and one disputed mention picked, then adjudicated; seed 001 merged only
    reviewer = setup.users["reviewer"]
    gold = layer_gold(article=setup.first)
    gold_merge(gold=gold, strategy="unanimous", reviewer=reviewer, expected_version=None)
    niamey = item_of(setup, "annotator1", Mention, text="Niamey")
    gold_pick(gold=gold, items=[("mention", niamey.pk)], reviewer=reviewer, expected_version=None)
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED, by=reviewer)
    pending = layer_gold(article=setup.articles[1])
    gold_merge(gold=pending, strategy="unanimous", reviewer=reviewer, expected_version=None)

    # when the gold layer is exported by default
    lines = [
        orjson.loads(line)
        for line in b"".join(export_stream(export_request(project=setup.project, format="jsonl"))).splitlines()
    ]

    # then only seed 000 is in it, with exactly its gold mentions
    assert [line["id"] for line in lines] == [setup.first.content_hash]
    assert sorted((m["text"], m["label"]) for m in lines[0]["mentions"]) == [
        ("Niamey", "GPE"),
        ("Niger", "GPE"),
        ("Russia", "GPE"),
        ("Yevkurov", "PERSON"),
    ]
    assert lines[0]["events"] == [] and lines[0]["stances"] == []
    assert lines[0]["layer"]["status"] == "adjudicated"


@pytest.mark.parametrize(
    ("strategy", "mentions"),
    [("unanimous", {"Niger", "Russia", "Yevkurov"}), ("none", set())],
)
def test_a_new_gold_layer_is_prefilled_by_the_projects_strategy_once(setup, strategy, mentions):
    setup.project.merge_strategy = strategy
    setup.project.save()

    gold = gold_open(article=setup.first, reviewer=setup.users["reviewer"])

    assert set(gold.mentions.values_list("text", flat=True)) == mentions
    if mentions:
        assert gold.mentions.first().provenance["strategy"] == strategy
    # opened again (after the reviewer removed everything): not filled a second time
    gold.mentions.all().delete()
    assert gold_open(article=setup.first, reviewer=setup.users["reviewer"]).pk == gold.pk
    assert not gold.mentions.exists()


def test_the_items_of_one_merge_share_its_time(setup):
    gold = layer_gold(article=setup.first)
    gold_merge(gold=gold, strategy="unanimous", reviewer=setup.users["reviewer"], expected_version=None)
    times = {m.provenance["at"] for m in gold.mentions.all()}
    assert len(times) == 1 and gold.mentions.count() == 3

"""Review over the API: the comparison, picks and merges into gold, adjudication, stages, access."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from annotations.models import Layer, Membership, Mention, Stance
from annotations.services.layers import layer_gold
from tests.review_fixtures import first_span, review_setup
from tests.test_api_helpers import client_for, member, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return review_setup()


@pytest.fixture
def reviewer(setup):
    return client_for(setup.users["reviewer"])


def annotator_item(setup, username, model, **filters):
    return model.objects.get(layer=setup.layers[username][0], **filters)


def review_url(setup, article=None):
    return url(setup.project, f"articles/{(article or setup.first).pk}/review/")


# --- Reading the comparison ---------------------------------------------------------------------


def test_reviewer_reads_the_comparison_of_an_article(setup, reviewer):
    response = reviewer.get(review_url(setup))

    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "annotated" and body["overlap"] == 2 and body["gold"] is None
    assert [a["username"] for a in body["annotators"]] == ["annotator1", "annotator2"]
    niamey = [g for g in body["groups"]["mentions"] if g["text"] == "Niamey"]
    assert sorted((g["label"], g["annotators"][0], tuple(g["disagreements"])) for g in niamey) == [
        ("GPE", "annotator1", ("label", "missing")),
        ("LOC", "annotator2", ("label", "missing")),
    ]
    assert body["summary"]["events"] == {"groups": 3, "disputed": 3, "in_gold": 0}


@pytest.mark.parametrize(("role", "expected"), [("manager", 200), ("consumer", 200), ("annotator", 403)])
def test_comparison_access_by_role(setup, role, expected):
    user = setup.users.get(role) or member(setup.project, role)
    assert client_for(user).get(review_url(setup)).status_code == expected


def test_other_projects_and_strangers_get_404_or_401(setup):
    other = review_setup(slug="other")
    outsider = client_for(other.users["reviewer"])
    assert outsider.get(review_url(setup)).status_code == 404
    # an article of another project, through this project's URL
    assert client_for(setup.users["reviewer"]).get(review_url(setup, other.first)).status_code == 404
    assert client_for(setup.users["reviewer"]).get(url(setup.project, "articles/999999/review/")).status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(review_url(setup)).status_code in (401, 403)


# --- Writing gold -----------------------------------------------------------------------------


def test_merge_then_pick_then_adjudicate(setup, reviewer):
    gold = layer_gold(article=setup.first)

    merged = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert merged.status_code == 200, merged.json()
    assert merged.json()["created"] == {"mentions": 3, "events": 0, "stances": 0}
    version = merged.json()["layer_version"]

    stance = annotator_item(setup, "annotator1", Stance)
    niamey = annotator_item(setup, "annotator1", Mention, text="Niamey")
    picked = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/pick/"),
        {"version": version, "items": [{"kind": "stance", "id": stance.pk}, {"kind": "mention", "id": niamey.pk}]},
        format="json",
    )
    assert picked.status_code == 200, picked.json()
    assert sorted(item["kind"] for item in picked.json()["created"]) == ["mention", "stance"]
    # the stance's target (Russia) was already in gold: reused, not listed as created
    version = picked.json()["layer_version"]

    adjudicated = reviewer.patch(
        url(setup.project, f"layers/{gold.pk}/"), {"status": "adjudicated", "version": version}, format="json"
    )
    assert adjudicated.status_code == 200
    assert adjudicated.json()["adjudicated_by"] == "reviewer" and adjudicated.json()["adjudicated_at"]
    detail = reviewer.get(url(setup.project, f"layers/{gold.pk}/")).json()
    assert {m["text"]: m["provenance"]["strategy"] for m in detail["mentions"]} == {
        "Niger": "unanimous",
        "Russia": "unanimous",
        "Yevkurov": "unanimous",
        "Niamey": "picked",
    }
    assert detail["stances"][0]["provenance"]["annotators"] == ["annotator1"]
    review = reviewer.get(review_url(setup)).json()
    assert review["stage"] == "adjudicated" and review["gold"]["adjudicated_by"] == "reviewer"


def test_a_gold_item_written_directly_is_recorded_as_manual(setup, reviewer):
    gold = layer_gold(article=setup.first)
    start, end = first_span(setup.first.text, "Wagner Group")
    response = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/mentions/"),
        {"version": gold.version, "label": "ORG", "start": start, "end": end},
        format="json",
    )
    assert response.status_code == 201
    provenance = response.json()["provenance"]
    assert provenance["strategy"] == "manual" and provenance["reviewer"] == "reviewer"
    # an annotator's own items carry no provenance
    annotator = client_for(setup.users["annotator1"])
    mine = annotator.get(url(setup.project, f"layers/{setup.layers['annotator1'][0].pk}/mentions/")).json()
    assert {m["provenance"] == {} for m in mine} == {True}


def test_bad_picks_and_merges_answer_400_naming_the_field(setup, reviewer):
    gold = layer_gold(article=setup.first)
    other_article = Mention.objects.filter(layer=setup.layers["annotator1"][1]).first()
    pick = url(setup.project, f"layers/{gold.pk}/pick/")
    cases = [
        ({"version": gold.version, "items": [{"kind": "mention", "id": other_article.pk}]}, "items"),
        ({"version": gold.version, "items": [{"kind": "relation", "id": 1}]}, "items"),
        ({"version": gold.version, "items": []}, "items"),
        ({"items": [{"kind": "mention", "id": other_article.pk}]}, "version"),
    ]
    for body, field in cases:
        response = reviewer.post(pick, body, format="json")
        assert response.status_code == 400, body
        assert any(key.startswith(field) for key in response.json()["errors"]), response.json()
    merge = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/merge/"), {"version": gold.version, "strategy": "loud"}, format="json"
    )
    assert merge.status_code == 400 and "strategy" in merge.json()["errors"]
    # picking into an annotator layer is not adjudication
    annotator_layer = setup.layers["annotator1"][0]
    response = reviewer.post(
        url(setup.project, f"layers/{annotator_layer.pk}/merge/"),
        {"version": annotator_layer.version, "strategy": "unanimous"},
        format="json",
    )
    assert response.status_code in (400, 403)
    assert not gold.mentions.exists()


@pytest.mark.parametrize("role", ["annotator", "consumer"])
def test_only_reviewers_and_managers_write_gold(setup, role):
    gold = layer_gold(article=setup.first)
    client = client_for(setup.users.get(role) or member(setup.project, role))
    niamey = annotator_item(setup, "annotator1", Mention, text="Niamey")
    pick = client.post(
        url(setup.project, f"layers/{gold.pk}/pick/"),
        {"version": gold.version, "items": [{"kind": "mention", "id": niamey.pk}]},
        format="json",
    )
    merge = client.post(
        url(setup.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert (pick.status_code, merge.status_code) == (403, 403)
    manager = client_for(setup.users["manager"]).post(
        url(setup.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert manager.status_code == 200


def test_another_projects_reviewer_gets_404_for_gold_writes(setup):
    other = review_setup(slug="other")
    gold = layer_gold(article=setup.first)
    outsider = client_for(other.users["reviewer"])
    response = outsider.post(
        url(setup.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert response.status_code == 404
    # and through their own project's URL, this project's layer does not exist
    response = outsider.post(
        url(other.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert response.status_code == 404


def test_two_reviewers_adjudicating_at_once_the_second_gets_409_and_nothing_is_lost(setup, reviewer):
    second_reviewer = member(setup.project, Membership.Role.REVIEWER, "reviewer2")
    other = client_for(second_reviewer)
    gold = layer_gold(article=setup.first)
    read = gold.version  # both open the article at this version
    niamey_gpe = annotator_item(setup, "annotator1", Mention, text="Niamey")
    niamey_loc = annotator_item(setup, "annotator2", Mention, text="Niamey")

    # the first reviewer picks GPE and adjudicates
    first = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/pick/"),
        {"version": read, "items": [{"kind": "mention", "id": niamey_gpe.pk}]},
        format="json",
    )
    done = reviewer.patch(
        url(setup.project, f"layers/{gold.pk}/"),
        {"status": "adjudicated", "version": first.json()["layer_version"]},
        format="json",
    )
    assert done.status_code == 200

    # the second, still at the version they read, picks LOC and adjudicates: 409 both times
    stale_pick = other.post(
        url(setup.project, f"layers/{gold.pk}/pick/"),
        {"version": read, "items": [{"kind": "mention", "id": niamey_loc.pk}]},
        format="json",
    )
    stale_status = other.patch(
        url(setup.project, f"layers/{gold.pk}/"), {"status": "adjudicated", "version": read}, format="json"
    )
    assert stale_pick.status_code == 409 and stale_status.status_code == 409
    assert stale_pick.json()["current_version"] == done.json()["version"]

    # the first reviewer's gold is intact
    gold.refresh_from_db()
    assert gold.status == "adjudicated" and gold.adjudicated_by == setup.users["reviewer"]
    assert list(gold.mentions.values_list("text", "label")) == [("Niamey", "GPE")]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_picks_from_two_connections_let_exactly_one_through():
    if connection.vendor != "postgresql":
        pytest.skip("row locks between two connections at once: PostgreSQL (CI runs it)")
    setup = review_setup()
    gold = layer_gold(article=setup.first)
    read = gold.version
    niamey = {
        "reviewer": annotator_item(setup, "annotator1", Mention, text="Niamey"),
        "reviewer2": annotator_item(setup, "annotator2", Mention, text="Niamey"),
    }
    member(setup.project, Membership.Role.REVIEWER, "reviewer2")
    from django.contrib.auth import get_user_model

    users = {name: get_user_model().objects.get(username=name) for name in niamey}
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def pick(name: str) -> None:
        try:
            client = client_for(users[name])
            barrier.wait(timeout=10)
            response = client.post(
                url(setup.project, f"layers/{gold.pk}/pick/"),
                {"version": read, "items": [{"kind": "mention", "id": niamey[name].pk}]},
                format="json",
            )
            codes[name] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pick, args=(name,)) for name in niamey]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(codes.values()) == [200, 409]
    winner = next(name for name, code in codes.items() if code == 200)
    gold.refresh_from_db()
    assert list(gold.mentions.values_list("label", flat=True)) == [niamey[winner].label]
    assert gold.version == read + 2  # the check, then the mention


# --- Stages in the article list -----------------------------------------------------------------


def test_article_list_has_stages_and_filters_by_them(setup, reviewer):
    layer_gold_first = layer_gold(article=setup.first)
    reviewer.patch(
        url(setup.project, f"layers/{layer_gold_first.pk}/"),
        {"status": "adjudicated", "version": layer_gold_first.version},
        format="json",
    )
    listed = reviewer.get(url(setup.project, "articles/")).json()["results"]
    assert sorted(a["stage"] for a in listed) == ["adjudicated", "annotated", "annotated", "annotated", "annotated"]
    adjudicated = reviewer.get(url(setup.project, "articles/?stage=adjudicated")).json()["results"]
    assert [a["id"] for a in adjudicated] == [setup.first.pk]
    assert reviewer.get(url(setup.project, "articles/?stage=assigned")).json()["results"] == []
    bad = reviewer.get(url(setup.project, "articles/?stage=done"))
    assert bad.status_code == 400 and "stage" in bad.json()["errors"]
    gold_layer = next(layer for layer in adjudicated[0]["layers"] if layer["kind"] == "gold")
    assert gold_layer["adjudicated_by"] == "reviewer"
    assert Layer.objects.get(pk=layer_gold_first.pk).status == "adjudicated"


def test_a_gold_layer_opened_over_the_api_is_prefilled_once(setup, reviewer):
    layers = url(setup.project, f"articles/{setup.first.pk}/layers/")

    created = reviewer.post(layers, {"kind": "gold"}, format="json")
    again = reviewer.post(layers, {"kind": "gold"}, format="json")

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["id"] == again.json()["id"]
    gold = Layer.objects.get(pk=created.json()["id"])
    assert sorted(gold.mentions.values_list("text", flat=True)) == ["Niger", "Russia", "Yevkurov"]
    assert reviewer.get(url(setup.project, "")).json()["merge_strategy"] == "unanimous"


def test_an_adjudicated_gold_layer_refuses_writes_over_the_api(setup, reviewer):
    gold = layer_gold(article=setup.first)
    merged = reviewer.post(
        url(setup.project, f"layers/{gold.pk}/merge/"),
        {"version": gold.version, "strategy": "unanimous"},
        format="json",
    )
    assert len(merged.json()["items"]) == 3 and {i["kind"] for i in merged.json()["items"]} == {"mention"}
    version = reviewer.patch(
        url(setup.project, f"layers/{gold.pk}/"),
        {"status": "adjudicated", "version": merged.json()["layer_version"]},
        format="json",
    ).json()["version"]
    niamey = annotator_item(setup, "annotator1", Mention, text="Niamey")
    start, end = first_span(setup.first.text, "Wagner Group")

    writes = [
        reviewer.post(
            url(setup.project, f"layers/{gold.pk}/mentions/"),
            {"version": version, "label": "ORG", "start": start, "end": end},
            format="json",
        ),
        reviewer.post(
            url(setup.project, f"layers/{gold.pk}/pick/"),
            {"version": version, "items": [{"kind": "mention", "id": niamey.pk}]},
            format="json",
        ),
        reviewer.post(
            url(setup.project, f"layers/{gold.pk}/merge/"), {"version": version, "strategy": "majority"}, format="json"
        ),
    ]
    for response in writes:
        assert response.status_code == 400 and "layer" in response.json()["errors"], response.json()
    gold.refresh_from_db()
    assert (gold.version, gold.status, gold.mentions.count()) == (version, "adjudicated", 3)

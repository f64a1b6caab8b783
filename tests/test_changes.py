"""The change log: every write to a layer is recorded (who, when, through which path, the item
before and after), the layer can be rebuilt from it, and a change can be undone over the API."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from annotations.models import Change, DatasetVersion, Layer
from annotations.services.changes import changes_via, event_snapshot, mention_snapshot, stance_snapshot
from annotations.services.items import (
    event_create,
    event_update,
    mention_delete,
    mention_update,
    stance_create,
    stance_delete,
    stance_update,
)
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, member, span, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotator(project):
    return member(project, ROLES.ANNOTATOR, "ann1")


@pytest.fixture
def layer(article, annotator):
    return layer_for_annotator(article=article, annotator=annotator)


def history_url(layer: Layer, query: str = "") -> str:
    return url(layer.article.project, f"layers/{layer.pk}/history/{query}")


def undo_url(layer: Layer, change_id: int) -> str:
    return url(layer.article.project, f"layers/{layer.pk}/history/{change_id}/undo/")


def current_items(layer: Layer) -> dict[tuple[str, int], dict[str, Any]]:
    items: dict[tuple[str, int], dict[str, Any]] = {}
    items.update({("mention", m.pk): mention_snapshot(m) for m in layer.mentions.all()})
    items.update({("event", e.pk): event_snapshot(e) for e in layer.events.all()})
    items.update({("stance", s.pk): stance_snapshot(s) for s in layer.stances.all()})
    return items


def replayed(layer: Layer) -> tuple[dict[tuple[str, int], dict[str, Any]], str, int]:
    """The layer's items, status and version rebuilt from its change log alone."""
    items: dict[tuple[str, int], dict[str, Any]] = {}
    status, version = Layer.Status.NOT_STARTED, 1
    for change in Change.objects.filter(layer=layer).order_by("id"):
        key = (change.item_kind, change.item_id)
        if change.action == Change.Action.STATUS:
            status = change.after["status"]
        elif change.action == Change.Action.DELETE:
            assert items.pop(key) == change.before
        else:
            if change.action == Change.Action.UPDATE:
                assert items[key] == change.before
            items[key] = change.after
        version = change.layer_version
        if status == Layer.Status.NOT_STARTED:
            status = Layer.Status.IN_PROGRESS  # the first write starts the layer
    return items, status, version


def test_the_layer_is_rebuilt_from_its_change_log(layer, annotator):
    # Given a sequence of writes of every kind, including a mention deleted with what points at it
    russia = add_mention(layer, "Russia", "GPE")
    niger = add_mention(layer, "Niger", "GPE")
    start, end = span(layer.article, "sent")
    event = event_create(
        layer=layer, event_type="AID", trigger_start=start, trigger_end=end, arguments=[("actor", russia.pk)]
    )
    event_update(event=event, arguments=[("actor", russia.pk), ("recipient", niger.pk)], realis="future")
    modi = add_mention(layer, "Salifou Modi", "PERSON")
    stance = stance_create(layer=layer, label="FAVOR", holder_id=modi.pk, target_id=russia.pk)
    stance_update(stance=stance, label="AGAINST")
    held = stance_create(layer=layer, label="NONE", holder_id=niger.pk, target_id=russia.pk)
    mention_update(mention=modi, label="ORG")
    mention_delete(mention=niger)  # takes the recipient argument and `held` with it
    stance_delete(stance=stance)
    niamey = add_mention(layer, "Niamey", "GPE")
    with changes_via(Change.Path.ADMIN, user=annotator):
        layer_set_status(layer=layer, status=Layer.Status.DONE)
    layer.refresh_from_db()

    # When the layer is rebuilt from its changes alone
    items, status, version = replayed(layer)

    # Then it is the layer as it stands
    assert items == current_items(layer)
    assert (status, version) == (layer.status, layer.version) == (Layer.Status.DONE, 14)
    assert ("stance", held.pk) not in items and ("mention", niamey.pk) in items
    assert Change.objects.filter(layer=layer).count() == 15  # 13 writes + the argument and stance taken along
    status_change = Change.objects.filter(layer=layer, action="status").get()
    assert (status_change.path, status_change.user, status_change.before) == (
        "admin",
        annotator,
        {"status": "in_progress"},
    )


def test_the_api_records_path_and_user_and_a_reviewer_pick_records_review(project, article, annotator, layer):
    client = client_for(annotator)
    start, end = span(article, "Russia")
    created = client.post(
        url(project, f"layers/{layer.pk}/mentions/"),
        {"version": 1, "label": "GPE", "start": start, "end": end},
        format="json",
    )
    layer_set_status(layer=layer, status=Layer.Status.DONE)
    reviewer = member(project, ROLES.REVIEWER, "rev")
    gold = layer_gold(article=article)
    picked = client_for(reviewer).post(
        url(project, f"layers/{gold.pk}/pick/"),
        {"version": gold.version, "items": [{"kind": "mention", "id": created.data["id"]}]},
        format="json",
    )

    assert (created.status_code, picked.status_code) == (201, 200)
    mine = Change.objects.filter(layer=layer).order_by("id")
    assert [(c.action, c.path, c.user) for c in mine] == [("create", "api", annotator), ("status", "other", None)]
    assert [(c.action, c.item_kind, c.path, c.user) for c in Change.objects.filter(layer=gold)] == [
        ("create", "mention", "review", reviewer)
    ]


# --- History over the API ------------------------------------------------------------------------


def test_history_lists_the_newest_changes_first(layer, annotator):
    russia = add_mention(layer, "Russia", "GPE")
    mention_update(mention=russia, label="ORG")
    add_mention(layer, "Niger", "GPE")

    response = client_for(annotator).get(history_url(layer, "?limit=2"))

    assert response.status_code == 200
    assert response.data["layer_version"] == 4
    rows = response.data["results"]
    assert [(r["action"], r["item_kind"], r["layer_version"]) for r in rows] == [
        ("create", "mention", 4),
        ("update", "mention", 3),
    ]
    assert rows[1]["before"]["label"] == "GPE" and rows[1]["after"]["label"] == "ORG"
    assert set(rows[0]) == {
        "id", "created_at", "user", "path", "action", "item_kind", "item_id", "before", "after", "layer_version",
        "undoes", "undone_by",
    }  # fmt: skip


def test_history_is_read_as_the_layer_is(project, layer):
    other_annotator = client_for(member(project, ROLES.ANNOTATOR, "ann2"))
    reviewer = client_for(member(project, ROLES.REVIEWER, "rev"))
    outsider = client_for(member(ProjectFactory(slug="elsewhere"), ROLES.MANAGER))

    assert other_annotator.get(history_url(layer)).status_code == 403
    assert reviewer.get(history_url(layer)).status_code == 200
    assert outsider.get(history_url(layer)).status_code == 404
    assert reviewer.get(history_url(layer, "?limit=x")).status_code == 400


# --- Undo -----------------------------------------------------------------------------------------


def newest(layer: Layer) -> Change:
    return Change.objects.filter(layer=layer).order_by("-id").first()


def test_undo_a_create_an_update_and_a_delete(layer, annotator):
    client = client_for(annotator)
    russia = add_mention(layer, "Russia", "GPE")
    created = newest(layer)
    mention_update(mention=russia, label="ORG")
    updated = newest(layer)

    # an update is restored
    first = client.post(undo_url(layer, updated.pk), {"version": 3}, format="json")
    assert first.status_code == 200, first.data
    assert layer.mentions.get().label == "GPE"
    assert first.data["layer_version"] == 4
    assert [(c["action"], c["undoes"]) for c in first.data["changes"]] == [("update", updated.pk)]

    # a create whose item changed since can't be undone: the newer change is named
    conflict = client.post(undo_url(layer, created.pk), {"version": 4}, format="json")
    assert conflict.status_code == 409
    assert conflict.data["newer_change"] == updated.pk
    assert f"change {updated.pk}" in conflict.data["detail"]

    # a delete is undone by creating the item again
    niger = add_mention(layer, "Niger", "GPE")
    mention_delete(mention=niger)
    deleted = newest(layer)
    again = client.post(undo_url(layer, deleted.pk), {"version": 6}, format="json")
    assert again.status_code == 200, again.data
    assert sorted(layer.mentions.values_list("text", "label")) == [("Niger", "GPE"), ("Russia", "GPE")]
    # and undone once only
    twice = client.post(undo_url(layer, deleted.pk), {"version": 7}, format="json")
    assert twice.status_code == 409
    # the history says what was undone by what
    rows = client.get(history_url(layer)).data["results"]
    assert rows[0]["undoes"] == deleted.pk
    assert next(r for r in rows if r["id"] == deleted.pk)["undone_by"] == rows[0]["id"]


def test_undo_a_create_deletes_it(layer, annotator):
    add_mention(layer, "Russia", "GPE")

    response = client_for(annotator).post(undo_url(layer, newest(layer).pk), {"version": 2}, format="json")

    assert response.status_code == 200
    assert not layer.mentions.exists()


def test_undo_with_a_stale_version_is_409(layer, annotator):
    add_mention(layer, "Russia", "GPE")
    change = newest(layer)
    add_mention(layer, "Niger", "GPE")

    response = client_for(annotator).post(undo_url(layer, change.pk), {"version": 2}, format="json")

    assert response.status_code == 409
    assert response.data["current_version"] == 3
    assert layer.mentions.count() == 2


def test_undo_by_another_role_is_403_and_in_another_project_404(project, layer):
    add_mention(layer, "Russia", "GPE")
    change = newest(layer)
    body = {"version": 2}

    assert (
        client_for(member(project, ROLES.ANNOTATOR, "ann2"))
        .post(undo_url(layer, change.pk), body, format="json")
        .status_code
        == 403
    )
    assert (
        client_for(member(project, ROLES.CONSUMER, "ml"))
        .post(undo_url(layer, change.pk), body, format="json")
        .status_code
        == 403
    )
    outsider = client_for(member(ProjectFactory(slug="elsewhere"), ROLES.MANAGER))
    assert outsider.post(undo_url(layer, change.pk), body, format="json").status_code == 404
    assert layer.mentions.count() == 1


# --- Admin ------------------------------------------------------------------------------------------


def test_managers_read_the_change_log_in_the_admin_and_nobody_edits_it(client, project, layer):
    add_mention(layer, "Russia", "GPE")
    manager = UserFactory(username="boss", is_staff=True)
    MembershipFactory(project=project, user=manager, role=ROLES.MANAGER)
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_change", "delete_change", "change_change"])
    )
    client.force_login(manager)
    change = newest(layer)

    listing = client.get(reverse("admin:annotations_change_changelist"))
    page = client.get(reverse("admin:annotations_change_change", args=[change.pk]))
    delete = client.get(reverse("admin:annotations_change_delete", args=[change.pk]))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [change]
    assert page.status_code == 200 and "Russia" in page.content.decode()
    assert delete.status_code == 403


def test_a_dataset_version_stores_the_change_log_on_request(project, layer, annotator, settings, tmp_path):
    # Given a layer with a few changes, and a manager
    settings.MEDIA_ROOT = tmp_path
    russia = add_mention(layer, "Russia", "GPE")
    mention_update(mention=russia, label="ORG")
    manager = member(project, ROLES.MANAGER, "boss")

    # When versions are created with and without the change log
    client = client_for(manager)
    plain = client.post(url(project, "dataset-versions/"), {"name": "v1", "format": "jsonl"},
                        format="json")  # fmt: skip
    logged_version = client.post(url(project, "dataset-versions/"),
                                 {"name": "v2", "format": "jsonl", "changes": True}, format="json")  # fmt: skip

    # Then only the second stores it, line per change, oldest first, with its sha256
    assert (plain.status_code, logged_version.status_code) == (201, 201), plain.data
    assert "changes" not in DatasetVersion.objects.get(name="v1").params
    stored = DatasetVersion.objects.get(name="v2").params["changes"]
    data = (tmp_path / stored["file"]).read_bytes()
    lines = [json.loads(line) for line in data.splitlines()]
    assert [(c["action"], c["item_kind"], c["user"], c["after"]["label"]) for c in lines] == [
        ("create", "mention", None, "GPE"),
        ("update", "mention", None, "ORG"),
    ]
    assert stored["count"] == 2 and stored["sha256"] == hashlib.sha256(data).hexdigest()

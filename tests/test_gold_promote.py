"""Bulk gold for bootstrapping: a machine layer promoted to gold (service, command, API)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from annotations.models import Event, Layer, Membership
from annotations.services.gold import gold_promote
from annotations.services.layers import layer_gold, layer_set_status
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import client_for, machine_layer, member, span, url

pytestmark = pytest.mark.django_db


def with_incomplete_event(article, layer: Layer) -> Event:
    """A SEIZE_POWER suggestion with no actor (as "since the coup" gives)."""
    start, end = span(article, "signed")
    return Event.objects.create(
        layer=layer, event_type="SEIZE_POWER", trigger_start=start, trigger_end=end, trigger_text="signed"
    )


def test_promote_copies_complete_events_and_leaves_incomplete_ones_out(project):
    article = ArticleFactory(project=project)
    machine = machine_layer(article)
    with_incomplete_event(article, machine)

    result = gold_promote(project=project)

    gold = Layer.objects.get(article=article, kind=Layer.Kind.GOLD)
    assert result.promoted == [article.pk]
    assert sorted(gold.mentions.values_list("text", flat=True)) == ["Niamey", "Niger", "Russia", "Salifou Modi"]
    assert list(gold.events.values_list("event_type", flat=True)) == ["AID"]
    assert gold.stances.count() == 1
    assert dict(result.counts) == {"mentions": 4, "events": 1, "stances": 1, "events_dropped": 1}
    event = gold.events.get()
    assert (event.provenance["strategy"], event.provenance["model_version"]) == ("promoted", "spacy-test-1")


def test_promote_can_keep_incomplete_events_with_their_missing_roles_marked_not_stated(project):
    article = ArticleFactory(project=project)
    machine = machine_layer(article)
    suggestion = with_incomplete_event(article, machine)

    result = gold_promote(project=project, not_stated_missing=True)

    gold = Layer.objects.get(article=article, kind=Layer.Kind.GOLD)
    promoted = gold.events.get(event_type="SEIZE_POWER")
    assert promoted.not_stated == ["actor"]
    suggestion.refresh_from_db()
    assert suggestion.not_stated == []  # the suggestion itself is left as it was
    assert result.counts["roles_marked_not_stated"] == 1
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)  # complete: it can be adjudicated


def test_adjudicated_gold_and_articles_without_the_version_are_skipped_and_reported(project):
    settled, bare, fresh = (ArticleFactory(project=project) for _ in range(3))
    machine_layer(settled)
    machine_layer(fresh)
    gold = layer_gold(article=settled)
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    result = gold_promote(project=project, model_version="spacy-test-1")

    assert result.promoted == [fresh.pk]
    assert result.skipped == {"gold already adjudicated": [settled.pk], "no machine layer of that version": [bare.pk]}
    assert gold.mentions.count() == 0


def test_an_unknown_version_or_no_machine_layer_is_an_error_naming_the_layer(project):
    ArticleFactory(project=project)
    with pytest.raises(ValidationError) as none_yet:
        gold_promote(project=project)
    machine_layer(ArticleFactory(project=project))
    with pytest.raises(ValidationError) as unknown:
        gold_promote(project=project, model_version="no-such-version")

    assert list(none_yet.value.message_dict) == ["layer"]
    assert "no machine layer of model version 'no-such-version'" in unknown.value.message_dict["layer"][0]


def test_the_command_promotes_the_articles_named_and_prints_what_it_did(project):
    first, second = ArticleFactory(project=project), ArticleFactory(project=project)
    machine_layer(first)
    machine_layer(second)
    out = StringIO()

    call_command("promote_gold", "--project", project.slug, "--articles", str(second.pk), stdout=out)

    assert json.loads(out.getvalue())["articles"] == [second.pk]
    assert not Layer.objects.filter(article=first, kind=Layer.Kind.GOLD).exists()
    with pytest.raises(CommandError, match="--layer must be machine"):
        call_command("promote_gold", "--project", project.slug, "--layer", "gold")
    with pytest.raises(CommandError, match="no project"):
        call_command("promote_gold", "--project", "nope")


def test_the_api_promotes_for_managers_and_reviewers_only(project):
    article = ArticleFactory(project=project)
    machine_layer(article)
    reviewer = member(project, Membership.Role.REVIEWER)

    response = client_for(reviewer).post(
        url(project, "gold/promote/"), {"layer": "machine:spacy-test-1"}, format="json"
    )

    assert response.status_code == 200, response.data
    assert (response.data["promoted"], response.data["counts"]["events"]) == (1, 1)
    for role in (Membership.Role.ANNOTATOR, Membership.Role.CONSUMER):
        denied = client_for(member(project, role)).post(url(project, "gold/promote/"), {}, format="json")
        assert denied.status_code == 403
    other = ProjectFactory()
    assert client_for(reviewer).post(url(other, "gold/promote/"), {}, format="json").status_code == 404
    bad = client_for(reviewer).post(url(project, "gold/promote/"), {"layer": "gold"}, format="json")
    assert bad.status_code == 400 and "layer" in bad.data["errors"]
    unknown = client_for(reviewer).post(url(project, "gold/promote/"), {"layer": "machine:v9"}, format="json")
    assert unknown.status_code == 400 and "layer" in unknown.data["errors"]

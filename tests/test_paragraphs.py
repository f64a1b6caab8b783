"""A mention or an event trigger may not cross a paragraph break (a blank line): the token exports
would join the two paragraphs into one sentence. Evidence of a stance may."""

from __future__ import annotations

import pytest

from annotations.errors import InvalidAnnotation
from annotations.models import Layer, Mention
from annotations.services.items import event_create, mention_create, mention_update, stance_create
from annotations.services.layers import layer_for_annotator
from tests.factories import ArticleFactory
from tests.test_api_helpers import ROLES, client_for, member, span, url

pytestmark = pytest.mark.django_db

TEXT = "Niger signed the deal in Ankara\n\nRead more: Russia sent trainers to Niger.\n \nThe end."


@pytest.fixture
def annotator(project):
    return member(project, ROLES.ANNOTATOR, "ann1")


@pytest.fixture
def layer(project, annotator):
    return layer_for_annotator(article=ArticleFactory(project=project, text=TEXT), annotator=annotator)


def test_a_mention_across_a_blank_line_is_refused_naming_end(layer):
    start, end = span(layer.article, "Ankara\n\nRead")

    with pytest.raises(InvalidAnnotation) as refused:
        mention_create(layer=layer, label="ORG", start=start, end=end)

    assert refused.value.field == "end"
    assert "crosses a paragraph break" in str(refused.value)
    assert not Mention.objects.exists()


def test_a_blank_line_holding_spaces_is_a_paragraph_break_too(layer):
    start, end = span(layer.article, "Niger.\n \nThe")

    with pytest.raises(InvalidAnnotation):
        mention_create(layer=layer, label="ORG", start=start, end=end)


def test_a_mention_moved_across_a_blank_line_is_refused(layer):
    mention = mention_create(layer=layer, label="GPE", start=25, end=31)

    with pytest.raises(InvalidAnnotation) as refused:
        mention_update(mention=mention, label="GPE", start=25, end=36)

    assert refused.value.field == "end"


def test_an_event_trigger_across_a_blank_line_is_refused_naming_trigger_end(layer):
    start, end = span(layer.article, "Ankara\n\nRead")

    with pytest.raises(InvalidAnnotation) as refused:
        event_create(layer=layer, event_type="AGREE", trigger_start=start, trigger_end=end, not_stated=["actor"])

    assert refused.value.field == "trigger_end"


def test_stance_evidence_may_span_paragraphs(layer):
    holder = mention_create(layer=layer, label="GPE", start=0, end=5)
    russia_start, russia_end = span(layer.article, "Russia")
    target = mention_create(layer=layer, label="GPE", start=russia_start, end=russia_end)
    start, end = span(layer.article, "the deal in Ankara\n\nRead more")

    stance = stance_create(
        layer=layer, holder_id=holder.pk, target_id=target.pk, label="FAVOR", evidence_start=start, evidence_end=end
    )

    assert "\n\n" in stance.evidence_text


def test_the_api_answers_400_naming_end(project, annotator, layer):
    start, end = span(layer.article, "Ankara\n\nRead")

    response = client_for(annotator).post(
        url(project, f"layers/{layer.pk}/mentions/"),
        {"version": 1, "label": "ORG", "start": start, "end": end},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.data["errors"]) == ["end"]
    assert "crosses a paragraph break" in response.data["errors"]["end"][0]
    assert Layer.objects.get(pk=layer.pk).version == 1

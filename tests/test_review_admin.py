"""The article list in the admin shows and filters the review stage."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Layer
from annotations.services.layers import layer_gold, layer_set_status
from tests.review_fixtures import review_setup

pytestmark = pytest.mark.django_db


def test_article_changelist_shows_and_filters_the_stage(admin_client):
    setup = review_setup()
    gold = layer_gold(article=setup.first)
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED, by=setup.users["reviewer"])
    layer_set_status(layer=setup.layers["annotator2"][1], status=Layer.Status.IN_PROGRESS)
    url = reverse("admin:annotations_article_changelist")

    page = admin_client.get(url).content.decode()
    assert page.count("annotated (2/2 done)") == 3
    assert "assigned (1/2 done)" in page and ">adjudicated<" in page

    for stage, expected in (("annotated", 3), ("assigned", 1), ("adjudicated", 1), ("unassigned", 0)):
        response = admin_client.get(url, {"stage": stage})
        assert response.context["cl"].result_count == expected, stage
    adjudicated = admin_client.get(url, {"stage": "adjudicated"}).context["cl"].result_list
    assert [article.pk for article in adjudicated] == [setup.first.pk]

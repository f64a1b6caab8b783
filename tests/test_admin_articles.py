"""Articles added and changed in the admin go through the import service: an article added by hand
gets its story key, so it lands in the export split of its story's other reports (no test-set leak)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from annotations.exports import splits
from annotations.models import Article, Membership
from annotations.services.articles import ArticleInput, articles_create, content_hash
from tests.factories import ArticleFactory, MembershipFactory, UserFactory
from tests.test_stories import edited, seed_texts

pytestmark = pytest.mark.django_db


def add_form(project, title: str, text: str) -> dict[str, object]:
    return {
        "project": project.pk,
        "title": title,
        "text": text,
        "source": "",
        "url": "",
        "published": "",
        "language": "en",
        "metadata": "{}",
        "layers-TOTAL_FORMS": "0",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
    }


def superuser_client(project) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def manager_client(project) -> Client:
    manager = UserFactory(username="lead", is_staff=True)
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label="annotations"))
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    client = Client()
    client.force_login(manager)
    return client


@pytest.mark.parametrize("who", [superuser_client, manager_client])
def test_an_article_added_in_the_admin_joins_the_story_and_split_of_its_other_reports(project, who):
    # Given a stored report, and another story
    texts = seed_texts()
    (original,) = articles_create(project=project, articles=[ArticleInput(title="003", text=texts["003"])]).imported
    (other,) = articles_create(project=project, articles=[ArticleInput(title="002", text=texts["002"])]).imported
    client = who(project)

    # When a lightly edited copy of the report is added by hand, and an unrelated text too
    copy = client.post(
        reverse("admin:annotations_article_add"), add_form(project, "Copy", "Reposted\n" + edited(texts["003"], 6, 7))
    )
    alone = client.post(reverse("admin:annotations_article_add"), add_form(project, "Alone", "A quiet day in Zinder."))

    # Then the copy shares the original's story key, hence its split under any ratios
    assert (copy.status_code, alone.status_code) == (302, 302)
    added = Article.objects.get(title="Copy")
    assert added.story_key == original.story_key == content_hash(texts["003"])
    assert added.story_key != other.story_key
    # (the admin logged the stored row)
    assert LogEntry.objects.get(action_flag=ADDITION, object_repr=str(added)).object_id == str(added.pk)
    for ratios in ("0.8,0.1,0.1", "0.34,0.33,0.33", "0.1,0.1,0.8"):
        parsed = splits.parse_ratios(ratios)
        assert splits.split_of(added.story_key, added.content_hash, parsed) == splits.split_of(
            original.story_key, original.content_hash, parsed
        )
    # and a text of no other story is a story of its own, keyed by its content
    lone = Article.objects.get(title="Alone")
    assert lone.story_key == lone.content_hash == content_hash("A quiet day in Zinder.")


def test_changing_an_article_changes_only_its_editable_fields(project):
    article = ArticleFactory(project=project, title="Before")
    text = article.text
    client = superuser_client(project)
    data = {
        "title": "After",
        "source": "Le Sahel",
        "url": "https://example.org/a",
        "published": "2024-03-01",
        "language": "fr",
        "metadata": '{"desk": "Niamey"}',
        "layers-TOTAL_FORMS": "0",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
        # a text posted anyway is not a field of the change form: ignored
        "text": "Something else entirely.",
    }

    response = client.post(reverse("admin:annotations_article_change", args=[article.pk]), data)

    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.source, article.language, str(article.published)) == (
        "After",
        "Le Sahel",
        "fr",
        "2024-03-01",
    )
    assert article.metadata == {"desk": "Niamey"}
    assert (article.text, article.content_hash) == (text, content_hash(text))


def test_an_article_change_with_an_empty_title_is_a_form_error(project):
    article = ArticleFactory(project=project, title="Kept")
    data = {
        "title": "   ",
        "source": "",
        "url": "",
        "published": "",
        "language": "en",
        "metadata": "{}",
        "layers-TOTAL_FORMS": "0",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
    }

    response = superuser_client(project).post(reverse("admin:annotations_article_change", args=[article.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["title"]
    article.refresh_from_db()
    assert article.title == "Kept"

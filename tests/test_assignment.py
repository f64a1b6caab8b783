"""Assigning articles with overlap k (balanced load), the admin action, and the annotator's queue."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotations.models import Layer, Membership
from annotations.queue import annotator_queue, queue_neighbours
from annotations.services.assignment import articles_assign
from annotations.services.items import mention_create
from tests.factories import ArticleFactory, LayerFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def annotators(project, n: int) -> list:
    users = [UserFactory(username=f"ann{i}") for i in range(n)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    return users


def layers_per_article(project) -> Counter[int]:
    return Counter(
        Layer.objects.filter(article__project=project, kind=Layer.Kind.ANNOTATOR).values_list("article_id", flat=True)
    )


def load(project) -> dict[str, int]:
    return dict(
        Counter(
            Layer.objects.filter(article__project=project, kind=Layer.Kind.ANNOTATOR).values_list(
                "annotator__username", flat=True
            )
        )
    )


def test_each_article_goes_to_k_annotators_with_balanced_load():
    project = ProjectFactory(overlap=2)
    annotators(project, 3)
    articles = [ArticleFactory(project=project) for _ in range(6)]

    result = articles_assign(project=project)

    assert result.created == 12
    assert layers_per_article(project) == {a.pk: 2 for a in articles}
    assert load(project) == {"ann0": 4, "ann1": 4, "ann2": 4}
    assert set(Layer.objects.filter(kind=Layer.Kind.ANNOTATOR).values_list("status", flat=True)) == {"not_started"}
    assert result.load == {"ann0": 4, "ann1": 4, "ann2": 4}


def test_an_annotator_never_gets_the_same_article_twice_and_rerunning_adds_nothing():
    project = ProjectFactory(overlap=3)
    annotators(project, 3)
    articles = [ArticleFactory(project=project) for _ in range(4)]
    articles_assign(project=project)

    again = articles_assign(project=project)

    assert (again.created, again.already_full) == (0, 4)
    assert layers_per_article(project) == {a.pk: 3 for a in articles}


def test_existing_layers_count_towards_k_and_towards_the_load():
    project = ProjectFactory(overlap=1)
    busy, idle = annotators(project, 2)
    first, second, third = (ArticleFactory(project=project) for _ in range(3))
    LayerFactory(article=first, annotator=busy)  # busy opened one article by hand

    result = articles_assign(project=project)

    assert result.created == 2
    assert (result.already_full, load(project)) == (1, {"ann0": 2, "ann1": 1})
    assert Layer.objects.get(article=second).annotator == idle  # the least-loaded goes first
    assert layers_per_article(project) == {first.pk: 1, second.pk: 1, third.pk: 1}


def test_only_annotators_of_the_project_are_assigned():
    project = ProjectFactory(overlap=1)
    (annotator,) = annotators(project, 1)
    MembershipFactory(project=project, role=Membership.Role.REVIEWER)
    MembershipFactory(project=project, role=Membership.Role.CONSUMER)
    other_project_annotator = UserFactory()
    MembershipFactory(project=ProjectFactory(), user=other_project_annotator)
    ArticleFactory(project=project)

    articles_assign(project=project)

    assert list(Layer.objects.values_list("annotator", flat=True)) == [annotator.pk]


def test_k_above_the_number_of_annotators_is_refused_naming_overlap():
    project = ProjectFactory(overlap=3)
    annotators(project, 2)
    ArticleFactory(project=project)

    with pytest.raises(ValidationError) as caught:
        articles_assign(project=project)

    assert caught.value.message_dict == {"overlap": [f"overlap 3 needs at least 3 annotators; {project.slug} has 2"]}
    assert not Layer.objects.exists()


def test_a_project_without_annotators_or_with_bad_k_is_refused():
    project = ProjectFactory()
    ArticleFactory(project=project)
    with pytest.raises(ValidationError) as no_one:
        articles_assign(project=project)
    assert "annotators" in no_one.value.message_dict
    annotators(project, 1)
    with pytest.raises(ValidationError) as zero:
        articles_assign(project=project, overlap=0)
    assert zero.value.message_dict == {"overlap": ["must be a whole number of at least 1, got 0"]}


def test_a_chosen_subset_of_annotators_and_articles():
    project = ProjectFactory(overlap=1)
    _first, second, third = annotators(project, 3)
    chosen = [ArticleFactory(project=project) for _ in range(2)]
    left_out = ArticleFactory(project=project)

    articles_assign(project=project, articles=chosen, annotators=[second, third])

    assert load(project) == {"ann1": 1, "ann2": 1}
    assert not Layer.objects.filter(article=left_out).exists()
    with pytest.raises(ValidationError) as caught:
        articles_assign(project=project, annotators=[UserFactory(username="stranger")])
    assert caught.value.message_dict == {"annotators": [f"not annotators of {project.slug}: stranger"]}


def test_the_queue_lists_the_users_own_layers_with_counts_and_neighbours():
    project = ProjectFactory(overlap=2)
    me, _other = annotators(project, 2)
    articles = [ArticleFactory(project=project) for _ in range(3)]
    articles_assign(project=project)
    mine = Layer.objects.get(article=articles[1], annotator=me)
    mention_create(layer=mine, label="GPE", start=0, end=6)

    queue = list(annotator_queue(user=me))

    assert [layer.article_id for layer in queue] == [a.pk for a in articles]
    assert {layer.annotator_id for layer in queue} == {me.pk}
    assert [(layer.mention_count, layer.event_count, layer.stance_count) for layer in queue] == [
        (0, 0, 0),
        (1, 0, 0),
        (0, 0, 0),
    ]
    assert [layer.status for layer in queue] == ["not_started", "in_progress", "not_started"]
    previous, following = queue_neighbours(layer=mine)
    assert (previous.article_id, following.article_id) == (articles[0].pk, articles[2].pk)


def test_a_user_who_left_the_project_no_longer_sees_its_layers():
    project = ProjectFactory(overlap=1)
    (me,) = annotators(project, 1)
    ArticleFactory(project=project)
    articles_assign(project=project)
    Membership.objects.filter(user=me).delete()

    assert list(annotator_queue(user=me)) == []


# --- The admin action ------------------------------------------------------------------------


@pytest.fixture
def manager_client(client):
    manager = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(manager)
    return client


def test_the_admin_action_asks_for_k_then_assigns(manager_client):
    project = ProjectFactory(overlap=2)
    annotators(project, 2)
    articles = [ArticleFactory(project=project) for _ in range(3)]
    url = reverse("admin:annotations_article_changelist")
    selected = {ACTION_CHECKBOX_NAME: [a.pk for a in articles[:2]], "action": "assign_to_annotators", "index": 0}

    confirm = manager_client.post(url, selected)

    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Assign to annotators (overlap k)" in body
    assert "ann0 (0), ann1 (0)" in body
    assert not Layer.objects.exists()

    done = manager_client.post(url, {**selected, "apply": "Assign", "overlap": "1"}, follow=True)

    assert layers_per_article(project) == {articles[0].pk: 1, articles[1].pk: 1}
    assert "2 assignment(s) created" in done.content.decode()


def test_the_project_action_uses_each_projects_own_k(manager_client):
    project = ProjectFactory(overlap=2)
    annotators(project, 2)
    articles = [ArticleFactory(project=project) for _ in range(2)]
    url = reverse("admin:annotations_project_changelist")

    manager_client.post(
        url, {ACTION_CHECKBOX_NAME: [project.pk], "action": "assign_to_annotators", "index": 0, "apply": "Assign"}
    )

    assert layers_per_article(project) == {a.pk: 2 for a in articles}


def test_the_admin_action_reports_a_k_that_cannot_be_met(manager_client):
    project = ProjectFactory(overlap=1)
    annotators(project, 1)
    article = ArticleFactory(project=project)
    url = reverse("admin:annotations_article_changelist")

    response = manager_client.post(
        url,
        {
            ACTION_CHECKBOX_NAME: [article.pk],
            "action": "assign_to_annotators",
            "index": 0,
            "apply": "Assign",
            "overlap": "2",
        },
        follow=True,
    )

    assert "nothing assigned — overlap: overlap 2 needs at least 2 annotators" in response.content.decode()
    assert not Layer.objects.exists()


def test_only_managers_of_the_project_may_assign(client):
    project = ProjectFactory(overlap=1)
    annotators(project, 1)
    article = ArticleFactory(project=project)
    staff = UserFactory(username="staffer", is_staff=True)
    MembershipFactory(project=project, user=staff, role=Membership.Role.REVIEWER)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_article", "change_article"]))
    client.force_login(staff)

    response = client.post(
        reverse("admin:annotations_article_changelist"),
        {ACTION_CHECKBOX_NAME: [article.pk], "action": "assign_to_annotators", "index": 0, "apply": "Assign"},
        follow=True,
    )

    assert f"Only a manager of {project.slug} can assign its articles" in response.content.decode()
    assert not Layer.objects.exists()

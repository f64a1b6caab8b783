"""API authentication and the permission matrix: who sees what, 401 / 403 / 404."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotations.models import Layer, Mention
from annotations.services.layers import layer_for_annotator, layer_gold
from tests.factories import ArticleFactory, ProjectFactory, UserFactory
from tests.test_api_helpers import ROLES, add_mention, client_for, machine_layer, member, url

pytestmark = pytest.mark.django_db


def mention_body(layer: Layer) -> dict[str, object]:
    return {"version": layer.version, "label": "GPE", "start": 0, "end": 6, "text": "Russia"}


def test_anonymous_request_is_401_with_a_token_challenge(project):
    response = APIClient().get(url(project))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_project_list_shows_only_the_users_projects_with_their_role():
    mine, theirs = ProjectFactory(slug="mine"), ProjectFactory(slug="theirs")
    ArticleFactory.create_batch(2, project=mine)
    user = member(mine, ROLES.ANNOTATOR)
    member(theirs, ROLES.MANAGER)

    response = client_for(user).get("/api/v1/projects/")

    assert response.status_code == 200
    assert [(p["slug"], p["role"], p["article_count"]) for p in response.data["results"]] == [("mine", "annotator", 2)]


def test_superuser_sees_every_project_as_manager():
    ProjectFactory(slug="a-project"), ProjectFactory(slug="b-project")
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)

    response = client_for(admin).get("/api/v1/projects/")

    assert [(p["slug"], p["role"]) for p in response.data["results"]] == [
        ("a-project", "manager"),
        ("b-project", "manager"),
    ]


def test_project_detail_has_schema_and_guidelines(project):
    user = member(project, ROLES.CONSUMER)

    response = client_for(user).get(url(project))

    assert response.status_code == 200
    assert response.data["guidelines"] == "Label every named actor."
    assert "AID" in [e["code"] for e in response.data["label_schema"]["event_types"]]


def test_non_member_gets_404_for_the_project_and_everything_in_it(project, article):
    gold = layer_gold(article=article)
    outsider = member(ProjectFactory(), ROLES.MANAGER)
    client = client_for(outsider)

    for path in (
        "",
        "articles/",
        f"articles/{article.pk}/",
        f"articles/{article.pk}/layers/",
        f"layers/{gold.pk}/",
        "jobs/",
        "dataset-versions/",
        "export/?format=jsonl",
    ):
        assert client.get(url(project, path)).status_code == 404, path
    # A write is 404 too, before its (invalid) body is looked at: the project stays invisible.
    assert client.post(url(project, f"layers/{gold.pk}/mentions/"), {}, format="json").status_code == 404
    assert client.post(url(project, "jobs/"), {"kind": "preannotate"}, format="json").status_code == 404


def test_another_projects_article_or_layer_is_404(project, article):
    other_article = ArticleFactory(project=ProjectFactory())
    other_gold = layer_gold(article=other_article)
    manager = member(project, ROLES.MANAGER)
    member_elsewhere = member(other_article.project, ROLES.MANAGER, username=None)
    client = client_for(manager)

    assert client.get(url(project, f"articles/{other_article.pk}/")).status_code == 404
    assert client.get(url(project, f"articles/{other_article.pk}/layers/")).status_code == 404
    assert client.get(url(project, f"layers/{other_gold.pk}/")).status_code == 404
    response = client.post(url(project, f"layers/{other_gold.pk}/mentions/"), mention_body(other_gold), format="json")
    assert response.status_code == 404
    assert Mention.objects.count() == 0
    # The same layer through its own project is fine for a member of that project.
    assert client_for(member_elsewhere).get(url(other_article.project, f"layers/{other_gold.pk}/")).status_code == 200


def test_annotator_reading_another_annotators_layer_is_403(project, article):
    me = member(project, ROLES.ANNOTATOR, "ann-me")
    other = member(project, ROLES.ANNOTATOR, "ann-other")
    theirs = layer_for_annotator(article=article, annotator=other)

    response = client_for(me).get(url(project, f"layers/{theirs.pk}/"))

    assert response.status_code == 403
    assert (
        response.data["detail"] == f"As annotator in project '{project.slug}' you can't read another annotator's layer."
    )


def test_annotator_reads_own_and_machine_layers_but_not_gold(project, article):
    me = member(project, ROLES.ANNOTATOR)
    mine = layer_for_annotator(article=article, annotator=me)
    gold = layer_gold(article=article)
    machine = machine_layer(article)
    client = client_for(me)

    assert client.get(url(project, f"layers/{mine.pk}/")).status_code == 200
    assert client.get(url(project, f"layers/{machine.pk}/")).status_code == 200
    response = client.get(url(project, f"layers/{gold.pk}/"))
    assert response.status_code == 403
    assert "the gold layer" in response.data["detail"]


def test_annotator_lists_only_own_and_machine_layers(project, article):
    me = member(project, ROLES.ANNOTATOR, "ann-me")
    other = member(project, ROLES.ANNOTATOR, "ann-other")
    mine = layer_for_annotator(article=article, annotator=me)
    layer_for_annotator(article=article, annotator=other)
    layer_gold(article=article)
    machine = machine_layer(article)
    client = client_for(me)

    listed = client.get(url(project, f"articles/{article.pk}/layers/")).data
    in_article_list = client.get(url(project, "articles/")).data["results"][0]["layers"]

    assert sorted(layer["id"] for layer in listed) == sorted([mine.pk, machine.pk])
    assert sorted(layer["id"] for layer in in_article_list) == sorted([mine.pk, machine.pk])


def test_annotator_writing_another_annotators_layer_is_403_and_writes_nothing(project, article):
    me = member(project, ROLES.ANNOTATOR)
    theirs = layer_for_annotator(article=article, annotator=member(project, ROLES.ANNOTATOR))

    response = client_for(me).post(url(project, f"layers/{theirs.pk}/mentions/"), mention_body(theirs), format="json")

    assert response.status_code == 403
    assert Mention.objects.count() == 0


def test_reviewer_reads_every_layer_and_writes_gold_but_not_annotator_layers(project, article):
    reviewer = member(project, ROLES.REVIEWER)
    annotators_layer = layer_for_annotator(article=article, annotator=member(project, ROLES.ANNOTATOR))
    gold = layer_gold(article=article)
    client = client_for(reviewer)

    assert client.get(url(project, f"layers/{annotators_layer.pk}/")).status_code == 200
    assert client.get(url(project, f"layers/{gold.pk}/")).status_code == 200
    assert (
        client.post(url(project, f"layers/{gold.pk}/mentions/"), mention_body(gold), format="json").status_code == 201
    )
    response = client.post(
        url(project, f"layers/{annotators_layer.pk}/mentions/"), mention_body(annotators_layer), format="json"
    )
    assert response.status_code == 403


def test_manager_writes_any_annotator_layer_and_gold(project, article):
    manager = member(project, ROLES.MANAGER)
    annotators_layer = layer_for_annotator(article=article, annotator=member(project, ROLES.ANNOTATOR))
    client = client_for(manager)

    response = client.post(
        url(project, f"layers/{annotators_layer.pk}/mentions/"), mention_body(annotators_layer), format="json"
    )

    assert response.status_code == 201


def test_machine_layers_are_read_only_even_for_managers(project, article):
    machine = machine_layer(article)
    manager = member(project, ROLES.MANAGER)

    response = client_for(manager).post(url(project, f"layers/{machine.pk}/mentions/"), mention_body(machine))

    assert response.status_code == 403
    assert response.data["detail"] == "Machine layers are written by pre-annotation only; accept suggestions instead."


def test_consumer_token_reads_and_exports_but_every_write_is_403(project, article):
    gold = layer_gold(article=article)
    add_mention(gold, "Russia", "GPE")
    gold.refresh_from_db()
    consumer = member(project, ROLES.CONSUMER, "ml")
    client = client_for(consumer, token=True)

    assert client.get(url(project, "export/?format=jsonl")).status_code == 200
    assert client.get(url(project, f"layers/{gold.pk}/")).status_code == 200
    body = {"version": gold.version, "label": "GPE", "start": 69, "end": 74}
    response = client.post(url(project, f"layers/{gold.pk}/mentions/"), body, format="json")
    assert response.status_code == 403
    assert (
        response.data["detail"] == f"Consumers are read-only in project '{project.slug}': annotations can't be written."
    )
    mention = gold.mentions.get()
    detail = url(project, f"layers/{gold.pk}/mentions/{mention.pk}/")
    assert client.patch(detail, {"version": gold.version, "label": "ORG"}, format="json").status_code == 403
    assert client.delete(detail, {"version": gold.version}, format="json").status_code == 403
    assert (
        client.patch(url(project, f"layers/{gold.pk}/"), {"version": gold.version, "status": "done"}).status_code == 403
    )
    assert client.post(url(project, f"articles/{article.pk}/layers/"), {}, format="json").status_code == 403
    assert gold.mentions.count() == 1


def test_annotator_cannot_export_import_or_start_jobs(project, article):
    annotator = member(project, ROLES.ANNOTATOR)
    client = client_for(annotator)

    export = client.get(url(project, "export/?format=jsonl"))
    imported = client.post(url(project, "articles/import/"), b"{}", content_type="application/x-ndjson")
    job = client.post(url(project, "jobs/"), {"kind": "preannotate"}, format="json")
    datasets = client.get(url(project, "dataset-versions/"))

    assert (export.status_code, imported.status_code, job.status_code, datasets.status_code) == (403, 403, 403, 403)
    assert export.data["detail"] == (
        f"Exporting needs the role manager, reviewer, consumer in project '{project.slug}'; you are annotator."
    )


def admin_login(client: APIClient, username: str, password: str):
    """Log in as a person does, through the admin's login form (django-axes needs the request)."""
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_session_login_works_for_admin_users(project, article):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    gold = layer_gold(article=article)
    client = APIClient()
    assert admin_login(client, "admin", "pw-for-tests-only").status_code == 302

    listed = client.get("/api/v1/projects/")
    written = client.post(url(project, f"layers/{gold.pk}/mentions/"), mention_body(gold), format="json")

    assert listed.status_code == 200
    assert [p["slug"] for p in listed.data["results"]] == [project.slug]
    assert written.status_code == 201
    assert admin.is_authenticated


def test_session_writes_need_the_csrf_token(project, article):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    gold = layer_gold(article=article)
    client = APIClient()
    assert admin_login(client, "admin", "pw-for-tests-only").status_code == 302
    client.handler.enforce_csrf_checks = True

    response = client.post(url(project, f"layers/{gold.pk}/mentions/"), mention_body(gold), format="json")

    assert response.status_code == 403
    assert "CSRF" in response.data["detail"]
    assert Mention.objects.count() == 0


def test_invalid_token_is_401(project):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get(url(project))

    assert response.status_code == 401
    assert response.data["detail"] == "Invalid token."


# --- Names that must not leak ------------------------------------------------------------------


def test_an_export_answers_alike_for_an_unknown_name_and_a_user_of_another_project(project, article):
    consumer = client_for(member(project, ROLES.CONSUMER))
    member(ProjectFactory(), ROLES.ANNOTATOR, "elsewhere")  # has an account, not in this project
    mine = member(project, ROLES.ANNOTATOR, "mine")
    add_mention(layer_for_annotator(article=article, annotator=mine), "Russia", "GPE")

    answers = {
        name: consumer.get(url(project, f"export/?format=jsonl&layer=annotator:{name}"))
        for name in ("nobody", "elsewhere", "mine")
    }

    assert answers["mine"].status_code == 200
    for name in ("nobody", "elsewhere"):
        assert answers[name].status_code == 400
        assert answers[name].data["errors"] == {"layer": [f"no annotator named {name!r} in project {project.slug!r}"]}


def test_an_annotator_cannot_filter_articles_by_another_annotator(project, article):
    me, other = member(project, ROLES.ANNOTATOR, "me"), member(project, ROLES.ANNOTATOR, "other")
    layer_for_annotator(article=article, annotator=other)
    layer_for_annotator(article=ArticleFactory(project=project), annotator=me)
    client = client_for(me)

    answers = {
        name: client.get(url(project, f"articles/?annotator={name}&status=not_started"))
        for name in ("other", "nobody", "me")
    }

    assert [a["id"] for a in answers["me"].data["results"]] == list(
        Layer.objects.filter(annotator=me).values_list("article_id", flat=True)
    )
    for name in ("other", "nobody"):
        assert answers[name].status_code == 400
        assert answers[name].data["errors"] == {
            "annotator": [f"no annotator {name!r} whose layers you may read in this project"]
        }


def test_a_reviewer_filters_by_any_annotator_of_the_project_but_not_by_outsiders(project, article):
    reviewer = client_for(member(project, ROLES.REVIEWER))
    annotator = member(project, ROLES.ANNOTATOR, "ann")
    layer_for_annotator(article=article, annotator=annotator)
    member(ProjectFactory(), ROLES.ANNOTATOR, "outsider")

    found = reviewer.get(url(project, "articles/?annotator=ann"))
    outsider = reviewer.get(url(project, "articles/?annotator=outsider"))
    unknown = reviewer.get(url(project, "articles/?annotator=nobody"))

    assert [a["id"] for a in found.data["results"]] == [article.pk]
    assert outsider.status_code == unknown.status_code == 400
    assert outsider.data["errors"]["annotator"][0].replace("outsider", "X") == unknown.data["errors"]["annotator"][
        0
    ].replace("nobody", "X")

"""The admin: every page renders, lists filter and search, untrusted text is escaped, list pages
cost a fixed number of queries, and edits go through the services' checks."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models import (
    Actor,
    Article,
    ArticleCheck,
    ClusterMember,
    DatasetVersion,
    Deletion,
    Event,
    EventArgument,
    EventCluster,
    EventResolution,
    Job,
    JobChunk,
    Layer,
    Membership,
    Mention,
    MentionDate,
    ModelComponent,
    Project,
    Stance,
    SuggestionDecision,
    TrainedModel,
)
from annotations.services.items import event_create, mention_create, stance_create
from tests.factories import (
    ActorFactory,
    ArticleFactory,
    LayerFactory,
    MembershipFactory,
    MentionFactory,
    ProjectFactory,
    UserFactory,
)

XSS = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(1)&gt;"


def changelist_url(model: type) -> str:
    return reverse(f"admin:annotations_{model._meta.model_name}_changelist")


def change_url(obj: object) -> str:
    return reverse(f"admin:annotations_{obj._meta.model_name}_change", args=[obj.pk])  # type: ignore[attr-defined]


def assert_escaped(body: str) -> None:
    assert XSS_ESCAPED in body
    assert "<script>alert(1)" not in body
    assert "<img src=x onerror" not in body


@pytest.fixture
def corpus(db):
    """One row of every model, linked the way the workbench links them."""
    project = ProjectFactory(slug="niger", name="Niger coup")
    annotator = UserFactory(username="ann")
    MembershipFactory(project=project, user=annotator)
    russia_actor = ActorFactory(name="Russia", aliases=["Russian Federation"], country="RUS", sector="GOV")
    article = ArticleFactory(project=project, title="Russia sends trainers", language="en")
    layer = LayerFactory(article=article, annotator=annotator)
    russia = mention_create(layer=layer, label="GPE", start=0, end=6, actor=russia_actor)
    niger_at = article.text.index("Niger")
    niger = mention_create(layer=layer, label="GPE", start=niger_at, end=niger_at + 5)
    sent_at = article.text.index("sent")
    event = event_create(
        layer=layer,
        event_type="AID",
        trigger_start=sent_at,
        trigger_end=sent_at + 4,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    stance_create(layer=layer, label="FAVOR", holder_id=russia.pk, target_id=niger.pk)
    job = Job.objects.create(
        kind=Job.Kind.PREANNOTATE, project=project, status=Job.Status.RUNNING, total=10, done=3, counts={"mentions": 7}
    )
    JobChunk.objects.create(job=job, index=0, article_ids=[article.pk])
    SuggestionDecision.objects.create(
        layer=layer, user=annotator, item_kind="mention", decision="accept", model_version="m-1",
        suggestion_id=1, label="GPE", suggestion={"start": 0, "end": 6}, result_id=russia.pk,
    )  # fmt: skip
    DatasetVersion.objects.create(project=project, name="v1", format="jsonl", sha256="0" * 64, file="datasets/v1.jsonl")
    Deletion.objects.create(project=project, key="0" * 64, kind="gold", what="layer")
    model = TrainedModel.objects.create(
        project=project, version="m1", base_model="en", dataset_sha256="0" * 64, schema_version=1, file="m1.tar.gz"
    )
    ModelComponent.objects.create(model=model, name="triggers", status="lost", dev={"f1": 0.5}, baseline={"f1": 0.6})
    ArticleCheck.objects.create(article=article, published_suspect=True, published_suspect_reason="weekday")
    MentionDate.objects.create(mention=russia, value="2023-12-04", granularity="day")
    EventResolution.objects.create(event=event, date_value="2023-12-04", granularity="day", date_source="published")
    cluster = EventCluster.objects.create(project=project, layer="gold", confidence=0.7, event_type="AID")
    ClusterMember.objects.create(cluster=cluster, event=event)
    return {"project": project, "article": article, "layer": layer, "russia": russia, "event": event, "job": job}


# --- Every page -----------------------------------------------------------------------------


def test_every_annotations_model_is_registered():
    unregistered = [
        model.__name__
        for model in apps.get_app_config("annotations").get_models()
        # The admin can't show composite primary keys (ArticleAnchor: an index, not data to browse).
        if not admin.site.is_registered(model) and not model._meta.is_composite_pk
    ]

    assert unregistered == []


def test_every_changelist_and_change_page_renders(admin_client, corpus):
    models = [model for model in admin.site._registry if model._meta.app_label == "annotations"]
    assert {m.__name__ for m in models} == {
        "Project",
        "Membership",
        "Actor",
        "Article",
        "Layer",
        "Mention",
        "Event",
        "EventArgument",
        "Stance",
        "Job",
        "JobChunk",
        "SuggestionDecision",
        "DatasetVersion",
        "Deletion",
        "Change",
        "TrainedModel",
        "ModelComponent",
        "ArticleCheck",
        "MentionDate",
        "EventResolution",
        "EventCluster",
        "ClusterMember",
    }

    assert admin_client.get(reverse("admin:index")).status_code == 200
    assert admin_client.get(reverse("admin:app_list", args=["annotations"])).status_code == 200
    for model in models:
        obj = model._default_manager.first()
        assert obj is not None, model.__name__

        assert admin_client.get(changelist_url(model)).status_code == 200, model.__name__
        assert admin_client.get(change_url(obj)).status_code == 200, model.__name__


def test_only_projects_memberships_actors_and_articles_can_be_added(admin_client, corpus):
    statuses = {
        model.__name__: admin_client.get(reverse(f"admin:annotations_{model._meta.model_name}_add")).status_code
        for model in admin.site._registry
        if model._meta.app_label == "annotations"
    }

    assert {name for name, status in statuses.items() if status == 200} == {"Project", "Membership", "Actor", "Article"}
    assert {
        status for name, status in statuses.items() if name not in {"Project", "Membership", "Actor", "Article"}
    } == {403}


# --- Projects -------------------------------------------------------------------------------


def test_project_list_counts_articles_and_members(admin_client, corpus):
    ArticleFactory(project=corpus["project"])
    MembershipFactory(project=corpus["project"], role=Membership.Role.REVIEWER)
    MembershipFactory(project=corpus["project"], role=Membership.Role.MANAGER)
    ProjectFactory(slug="empty")

    response = admin_client.get(changelist_url(Project))

    rows = {p.slug: (p.article_count, p.member_count) for p in response.context["cl"].result_list}
    assert rows == {"niger": (2, 3), "empty": (0, 0)}


def project_form_data(project: Project, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "slug": project.slug,
        "name": project.name,
        "description": project.description,
        "overlap": project.overlap,
        "merge_strategy": project.merge_strategy,
        "queue_order": project.queue_order,
        "retrain_after": project.retrain_after,
        "guidelines": project.guidelines,
        "label_schema": json.dumps(project.label_schema),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_project_change_with_an_invalid_schema_names_the_problem_and_saves_nothing(admin_client, project):
    # Given a schema whose AGREE.actor role takes an entity type the schema doesn't define
    schema = copy.deepcopy(project.label_schema)
    schema["event_types"][0]["roles"][0]["entity_types"].append("TANK")
    name = project.name

    # When it is saved with a new name
    response = admin_client.post(
        change_url(project), project_form_data(project, name="Renamed", label_schema=json.dumps(schema))
    )

    # Then the form says what is wrong and nothing changed
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "label_schema": ["schema.event_types[0].roles[0] (AGREE.actor): unknown entity type 'TANK'"]
    }
    project.refresh_from_db()
    assert (project.name, project.schema_version) == (name, 1)
    assert "TANK" not in json.dumps(project.label_schema)


def test_project_change_with_broken_json_is_a_form_error(admin_client, project):
    response = admin_client.post(change_url(project), project_form_data(project, label_schema='{"entity_types": ['))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"label_schema": ["Enter a valid JSON."]}
    project.refresh_from_db()
    assert project.schema_version == 1


def test_project_schema_change_bumps_the_schema_version(admin_client, project):
    schema = copy.deepcopy(project.label_schema)
    schema["realis"].append("generic")

    response = admin_client.post(
        change_url(project), project_form_data(project, name="Renamed", label_schema=json.dumps(schema))
    )

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.schema_version == 2
    assert project.label_schema["realis"][-1] == "generic"
    assert project.name == "Renamed"


def test_project_change_without_schema_change_keeps_the_schema_version(admin_client, project):
    response = admin_client.post(change_url(project), project_form_data(project, name="Renamed"))

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.schema_version) == ("Renamed", 1)


def test_project_merge_strategy_is_chosen_in_the_admin(admin_client, project):
    response = admin_client.post(change_url(project), project_form_data(project, merge_strategy="majority"))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.merge_strategy == "majority"

    refused = admin_client.post(change_url(project), project_form_data(project, merge_strategy="loudest"))
    assert refused.status_code == 200 and "merge_strategy" in refused.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.merge_strategy == "majority"


def test_project_page_summarises_the_schema_escaped(admin_client, project):
    schema = copy.deepcopy(project.label_schema)
    schema["entity_types"][0]["description"] = XSS
    Project.objects.filter(pk=project.pk).update(label_schema=schema)

    body = admin_client.get(change_url(project)).content.decode()

    assert '<span class="wb-swatch" style="background-color: #f4a261"></span>' in body
    assert "<strong>actor</strong> 1..n: PERSON, ORG, GPE, NORP" in body
    assert "<h4>Event types (17)</h4>" in body
    assert_escaped(body)


# --- Articles -------------------------------------------------------------------------------


def test_article_search_finds_a_word_in_the_title(admin_client, project):
    ArticleFactory(project=project, title="Wagner instructors arrive in Niamey")
    ArticleFactory(project=project, title="Junta ends cooperation with the USA")

    response = admin_client.get(changelist_url(Article), {"q": "instructors"})

    assert [a.title for a in response.context["cl"].result_list] == ["Wagner instructors arrive in Niamey"]


def test_article_search_finds_a_word_in_the_text(admin_client, project):
    ArticleFactory(project=project, title="First", text="Nothing about anyone.")
    ArticleFactory(project=project, title="Second", text="Yevkurov visited Niamey.")

    response = admin_client.get(changelist_url(Article), {"q": "yevkurov"})

    assert [a.title for a in response.context["cl"].result_list] == ["Second"]


def test_article_filters_by_project_language_date_and_layers(admin_client, project):
    other = ProjectFactory()
    english = ArticleFactory(project=project, title="English", language="en", published=date(2023, 8, 1))
    french = ArticleFactory(project=project, title="French", language="fr", published=None)
    elsewhere = ArticleFactory(project=other, title="Elsewhere", language="en", published=date(2024, 1, 5))
    LayerFactory(article=english)
    gold = Layer.objects.create(article=french, kind=Layer.Kind.GOLD)
    assert gold.pk

    def titles(params: dict[str, object]) -> set[str]:
        response = admin_client.get(changelist_url(Article), params)
        assert response.status_code == 200
        return {a.title for a in response.context["cl"].result_list}

    assert titles({"project__id__exact": other.pk}) == {elsewhere.title}
    assert titles({"language": "fr"}) == {"French"}
    assert titles({"published__isnull": "True"}) == {"French"}
    assert titles({"published__year": 2023}) == {"English"}
    assert titles({"layers": "none"}) == {"Elsewhere"}
    assert titles({"layers": "any"}) == {"English", "French"}
    assert titles({"layers": "gold"}) == {"French"}


def test_article_title_and_text_are_escaped(admin_client, project):
    article = ArticleFactory(project=project, title=f"Coup {XSS}", text=f"Niamey. {XSS} The end.")

    list_body = admin_client.get(changelist_url(Article)).content.decode()
    change_body = admin_client.get(change_url(article)).content.decode()

    assert_escaped(list_body)
    assert_escaped(change_body)
    assert f'<pre class="wb-pre wb-article-text">Niamey. {XSS_ESCAPED} The end.</pre>' in change_body


def test_article_text_is_read_only_after_creation(admin_client, article):
    response = admin_client.get(change_url(article))

    form = response.context["adminform"].form
    assert "text" not in form.fields
    assert "content_hash" not in form.fields
    assert "project" not in form.fields
    assert {"title", "source", "url", "published", "language", "metadata"} <= set(form.fields)


def test_article_added_in_the_admin_gets_its_content_hash(admin_client, project):
    data = {
        "project": project.pk,
        "title": "Added by hand",
        "text": "Niger's junta met Russian officials.",
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

    first = admin_client.post(reverse("admin:annotations_article_add"), data)
    duplicate = admin_client.post(reverse("admin:annotations_article_add"), {**data, "title": "Again"})

    assert first.status_code == 302
    article = Article.objects.get(title="Added by hand")
    assert len(article.content_hash) == 64
    assert duplicate.status_code == 200
    assert duplicate.context["adminform"].form.errors == {
        "text": [f"article {article.pk} of this project has the same text ('Added by hand')"]
    }
    assert Article.objects.filter(project=project).count() == 1


# --- Layers and annotations -----------------------------------------------------------------


def test_layer_list_counts_annotations(admin_client, corpus):
    response = admin_client.get(changelist_url(Layer))

    [layer] = response.context["cl"].result_list
    assert (layer.mention_count, layer.event_count, layer.stance_count) == (2, 1, 1)


def test_mention_text_is_escaped_everywhere(admin_client, project):
    article = ArticleFactory(project=project, text=f"Niamey. {XSS} The end.")
    layer = LayerFactory(article=article)
    start = article.text.index("<script>")
    mention = mention_create(layer=layer, label="ORG", start=start, end=start + len(XSS))

    for url in (changelist_url(Mention), change_url(mention), change_url(layer)):
        assert_escaped(admin_client.get(url).content.decode())


def test_mention_change_with_an_unknown_label_is_a_form_error(admin_client, corpus):
    russia = corpus["russia"]
    layer_version = Layer.objects.get(pk=russia.layer_id).version

    response = admin_client.post(change_url(russia), {"label": "TANK", "start": 0, "end": 6, "actor": ""})

    assert response.status_code == 200
    codes = ", ".join(e["code"] for e in corpus["project"].label_schema["entity_types"])
    assert response.context["adminform"].form.errors == {
        "label": [f"unknown entity type 'TANK'; the schema has {codes}"]
    }
    russia.refresh_from_db()
    assert (russia.label, russia.actor.name) == ("GPE", "Russia")
    assert Layer.objects.get(pk=russia.layer_id).version == layer_version


def test_mention_change_with_a_span_past_the_text_is_a_form_error(admin_client, corpus):
    russia = corpus["russia"]
    length = len(corpus["article"].text)

    response = admin_client.post(change_url(russia), {"label": "GPE", "start": 0, "end": length + 5, "actor": ""})

    assert response.context["adminform"].form.errors == {
        "end": [f"{length + 5} is past the end of the article text ({length} characters)"]
    }


def test_mention_change_goes_through_the_service(admin_client, corpus):
    russia = corpus["russia"]
    layer_version = Layer.objects.get(pk=russia.layer_id).version
    niger_actor = ActorFactory(name="Niger", country="NER")

    response = admin_client.post(change_url(russia), {"label": "NORP", "start": 0, "end": 6, "actor": niger_actor.pk})

    assert response.status_code == 302
    russia.refresh_from_db()
    assert (russia.label, russia.text, russia.actor_id) == ("NORP", "Russia", niger_actor.pk)
    assert Layer.objects.get(pk=russia.layer_id).version == layer_version + 1


def test_mention_delete_goes_through_the_service(admin_client, corpus):
    russia = corpus["russia"]
    layer_version = Layer.objects.get(pk=russia.layer_id).version

    response = admin_client.post(reverse("admin:annotations_mention_delete", args=[russia.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Mention.objects.filter(pk=russia.pk).exists()
    assert not EventArgument.objects.filter(mention_id=russia.pk).exists()
    assert Stance.objects.count() == 0  # its stance held by the deleted mention went with it
    assert Layer.objects.get(pk=russia.layer_id).version == layer_version + 1


def test_argument_delete_saves_the_event_without_it_through_the_service(admin_client, corpus):
    event = corpus["event"]
    recipient = event.arguments.get(role="recipient")
    layer_version = Layer.objects.get(pk=event.layer_id).version

    response = admin_client.post(
        reverse("admin:annotations_eventargument_delete", args=[recipient.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert [(a.role, a.mention.text) for a in event.arguments.all()] == [("actor", "Russia")]
    assert Layer.objects.get(pk=event.layer_id).version == layer_version + 1


def test_event_page_lists_its_arguments_with_links_to_their_mentions(admin_client, corpus):
    arguments = {a.role: a.mention for a in corpus["event"].arguments.select_related("mention")}

    body = admin_client.get(change_url(corpus["event"])).content.decode()

    assert re.findall(r'<td class="field-role">\s*<p>(\w+)</p>', body) == ["actor", "recipient"]
    assert f'<a href="{change_url(arguments["actor"])}">Russia</a>' in body
    assert f'<a href="{change_url(arguments["recipient"])}">Niger</a>' in body


# --- Actors ---------------------------------------------------------------------------------


def test_actor_search_finds_aliases(admin_client, db):
    ActorFactory(name="Niger", aliases=["Republic of Niger", "Nigerien government"])
    ActorFactory(name="Ivory Coast", aliases=["Côte d'Ivoire"])
    ActorFactory(name="Russia", aliases=["Russian Federation"])

    def names(q: str) -> list[str]:
        return [a.name for a in admin_client.get(changelist_url(Actor), {"q": q}).context["cl"].result_list]

    assert names("nigerien") == ["Niger"]
    assert names("côte") == ["Ivory Coast"]
    assert names("federation") == ["Russia"]


def test_actor_country_must_be_iso3(admin_client, db):
    response = admin_client.post(
        reverse("admin:annotations_actor_add"),
        {"name": "Niger", "kind": "GPE", "aliases": "[]", "country": "Niger", "sector": "GOV"},
    )

    assert response.context["adminform"].form.errors["country"] == [
        "Ensure this value has at most 3 characters (it has 5)."
    ]
    response = admin_client.post(
        reverse("admin:annotations_actor_add"),
        {"name": "Niger", "kind": "GPE", "aliases": "[]", "country": "ne1", "sector": "GOV"},
    )
    assert response.context["adminform"].form.errors["country"] == [
        "'ne1' is not an ISO 3166-1 alpha-3 code (three capital letters, e.g. NER)"
    ]
    assert not Actor.objects.exists()


# --- Jobs -----------------------------------------------------------------------------------


def test_job_list_shows_a_progress_bar(admin_client, project):
    Job.objects.create(kind=Job.Kind.PREANNOTATE, project=project, status=Job.Status.RUNNING, total=10, done=3)

    body = admin_client.get(changelist_url(Job)).content.decode()

    assert '<progress value="3" max="10">30%</progress>' in body
    assert "3 / 10 · 30%" in body


def test_job_progress_rounds_down_until_everything_is_done(admin_client, project):
    Job.objects.create(kind=Job.Kind.EXPORT, project=project, status=Job.Status.RUNNING, total=1000, done=999)

    body = admin_client.get(changelist_url(Job)).content.decode()

    assert "999 / 1000 · 99%" in body


def test_job_page_shows_counts_duration_and_escaped_error_and_log(admin_client, project):
    started = timezone.now() - timedelta(minutes=5)
    job = Job.objects.create(
        kind=Job.Kind.PREANNOTATE,
        project=project,
        status=Job.Status.FAILED,
        total=4,
        done=2,
        counts={"mentions": 12, "events": 1},
        error=f"Model failed on {XSS}",
        log=f"12:00:00 started\n12:00:01 {XSS}\n",
        started_at=started,
        finished_at=started + timedelta(seconds=75),
    )

    list_body = admin_client.get(changelist_url(Job)).content.decode()
    change_body = admin_client.get(change_url(job)).content.decode()

    assert "events: 1, mentions: 12" in list_body
    assert "1 min 15 s" in list_body
    assert f'<pre class="wb-pre">Model failed on {XSS_ESCAPED}</pre>' in change_body
    assert f'<pre class="wb-pre">12:00:00 started\n12:00:01 {XSS_ESCAPED}\n</pre>' in change_body
    assert_escaped(change_body)


def test_running_jobs_cannot_be_deleted_and_their_pages_reload(admin_client, corpus):
    job = corpus["job"]

    delete = admin_client.get(reverse("admin:annotations_job_delete", args=[job.pk]))
    change_body = admin_client.get(change_url(job)).content.decode()
    list_body = admin_client.get(changelist_url(Job)).content.decode()

    assert delete.status_code == 403
    assert '<meta http-equiv="refresh" content="5">' in change_body
    assert '<meta http-equiv="refresh" content="5">' in list_body


def test_chunks_of_a_running_job_cannot_be_deleted(admin_client, corpus):
    chunk = corpus["job"].chunks.get()

    response = admin_client.get(reverse("admin:annotations_jobchunk_delete", args=[chunk.pk]))

    assert response.status_code == 403


def test_finished_jobs_can_be_deleted_and_their_pages_stay_still(admin_client, project):
    job = Job.objects.create(kind=Job.Kind.EXPORT, project=project, status=Job.Status.SUCCEEDED, total=1, done=1)
    JobChunk.objects.create(job=job, index=0, article_ids=[1], done=True)

    change_body = admin_client.get(change_url(job)).content.decode()
    response = admin_client.post(reverse("admin:annotations_job_delete", args=[job.pk]), {"post": "yes"})

    assert 'http-equiv="refresh"' not in change_body
    assert response.status_code == 302
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not JobChunk.objects.exists()


# --- Query counts ---------------------------------------------------------------------------


def add_articles(n: int) -> None:
    project = ProjectFactory()
    for _ in range(n):
        LayerFactory(article=ArticleFactory(project=project))


def add_layers(n: int) -> None:
    for _ in range(n):
        layer = LayerFactory()
        MentionFactory(layer=layer)


def add_mentions(n: int) -> None:
    for _ in range(n):
        MentionFactory(actor=ActorFactory())


def add_jobs(n: int) -> None:
    project = ProjectFactory()
    for i in range(n):
        Job.objects.create(kind=Job.Kind.PREANNOTATE, project=project, total=n, done=i, counts={"mentions": i})


@pytest.mark.parametrize(
    ("model", "add_rows"),
    [(Article, add_articles), (Layer, add_layers), (Mention, add_mentions), (Job, add_jobs)],
    ids=["article", "layer", "mention", "job"],
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, model: type, add_rows: Callable[[int], None]
):
    url = changelist_url(model)
    add_rows(3)
    admin_client.get(url)  # the first request fills the session and caches
    with CaptureQueriesContext(connection) as baseline:
        assert admin_client.get(url).status_code == 200

    add_rows(20)

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = admin_client.get(url)
    assert response.context["cl"].result_count == model._default_manager.count()
    assert len(response.context["cl"].result_list) >= 23


@pytest.mark.parametrize("model", [Article, Layer, Mention, Event, Stance], ids=lambda m: m.__name__.lower())
def test_changelists_do_not_load_article_text(admin_client, corpus, model: type):
    text_column = f"{connection.ops.quote_name('annotations_article')}.{connection.ops.quote_name('text')}"

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(changelist_url(model))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 1
    assert [q["sql"] for q in queries.captured_queries if text_column in q["sql"]] == []


def test_the_project_action_starts_a_pre_annotation_job(admin_client, django_capture_on_commit_callbacks):
    project = ProjectFactory(slug="sahel")
    articles = [ArticleFactory(project=project) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            reverse("admin:annotations_project_changelist"),
            {"action": "preannotate_projects", "_selected_action": [project.pk]},
            follow=True,
        )

    job = Job.objects.get()
    assert (job.kind, job.project, job.total, job.status) == ("preannotate", project, 3, "pending")
    assert job.params["article_ids"] == [a.pk for a in articles]
    assert len(callbacks) == 1
    assert "Pre-annotating 3 article(s) of sahel: job" in response.content.decode()


def test_the_article_action_pre_annotates_only_the_selection(admin_client, django_capture_on_commit_callbacks):
    project = ProjectFactory()
    chosen, _other = ArticleFactory(project=project), ArticleFactory(project=project)

    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            reverse("admin:annotations_article_changelist"),
            {"action": "preannotate_articles", "_selected_action": [chosen.pk]},
        )

    assert Job.objects.get().params["article_ids"] == [chosen.pk]


def test_the_site_has_an_icon(client, db):
    icon = client.get("/favicon.ico")
    login = client.get(reverse("admin:login")).content.decode()

    assert icon.status_code == 301
    assert icon["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg") is not None
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login

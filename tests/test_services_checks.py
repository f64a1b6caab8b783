"""The services the admin needed (annotations/admin_new_services.py) and their `check_*` functions:
a check refuses exactly what its service refuses, and writes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from annotations.models import Article, Layer, Membership, Mention, Project
from annotations.schema import SchemaError, load_default_schema
from annotations.services.articles import (
    ArticleInput,
    article_delete,
    article_update,
    articles_create,
    check_article_update,
)
from annotations.services.items import check_mention_update, mention_update
from annotations.services.layers import layer_delete
from annotations.services.projects import (
    check_membership,
    check_project_schema,
    membership_delete,
    membership_set,
    membership_update,
    project_create,
    project_delete,
    project_update,
)
from tests.factories import ArticleFactory, LayerFactory, MentionFactory, UserFactory

pytestmark = pytest.mark.django_db


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- Checks --------------------------------------------------------------------------------------


def test_check_project_schema_lists_every_problem_as_the_services_do():
    check_project_schema(label_schema=load_default_schema())

    with pytest.raises(SchemaError) as checked:
        check_project_schema(label_schema={"entity_types": "nope"})
    with pytest.raises(SchemaError) as created:
        project_create(slug="bad", name="Bad", label_schema={"entity_types": "nope"})

    assert checked.value.errors
    assert checked.value.errors == created.value.errors


def test_check_membership_refuses_an_unknown_role_as_membership_set_does(project):
    user = UserFactory()

    checked = refusal(lambda: check_membership(project=project, user=user, role="boss"))
    stored = refusal(lambda: membership_set(project=project, user=user, role="boss"))

    assert checked == stored == {"role": ["unknown role 'boss'; allowed: " + ", ".join(Membership.Role.values)]}
    check_membership(project=project, user=user, role=Membership.Role.REVIEWER)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": "NOT-A-LABEL"}, "label"),
        ({"end": 10_000}, "end"),
        ({"start": 7, "end": 3}, None),
    ],
)
def test_check_mention_update_refuses_what_mention_update_refuses_and_writes_nothing(change, field):
    mention = MentionFactory()
    asked = {"label": mention.label, "start": mention.start, "end": mention.end, **change}
    version = mention.layer.version

    checked = refusal(lambda: check_mention_update(mention=mention, **asked))
    refused = refusal(lambda: mention_update(mention=Mention.objects.get(pk=mention.pk), **asked))

    assert checked == refused
    assert field is None or field in checked
    assert Layer.objects.get(pk=mention.layer_id).version == version


def test_check_mention_update_refuses_a_duplicate_and_an_adjudicated_gold_layer():
    mention = MentionFactory(start=0, end=6)
    other = MentionFactory(layer=mention.layer, start=44, end=51)
    duplicate = {"label": mention.label, "start": 0, "end": 6}

    assert refusal(lambda: check_mention_update(mention=other, **duplicate)) == refusal(
        lambda: mention_update(mention=other, **duplicate)
    )

    gold = LayerFactory(article=mention.layer.article, kind=Layer.Kind.GOLD, annotator=None)
    Layer.objects.filter(pk=gold.pk).update(status=Layer.Status.ADJUDICATED)
    in_gold = MentionFactory(layer=gold)
    same = {"label": "PERSON", "start": in_gold.start, "end": in_gold.end}
    assert list(refusal(lambda: check_mention_update(mention=in_gold, **same))) == ["layer"]
    assert list(refusal(lambda: mention_update(mention=in_gold, **same))) == ["layer"]


def test_check_article_update_checks_the_editable_fields_as_an_import_does(project):
    article = ArticleFactory(project=project)
    fields = {"title": "Fine", "source": "", "url": "", "language": "en", "metadata": {}}

    check_article_update(article=article, **fields)

    assert refusal(lambda: check_article_update(article=article, **{**fields, "title": " "})) == {"title": ["is empty"]}
    assert list(refusal(lambda: check_article_update(article=article, **{**fields, "url": "x" * 2001}))) == ["url"]


# --- Services ------------------------------------------------------------------------------------


def test_project_create_sets_the_merge_strategy():
    project = project_create(slug="sahel", name="Sahel", label_schema=load_default_schema(), merge_strategy="majority")

    assert Project.objects.get(pk=project.pk).merge_strategy == "majority"
    with pytest.raises(SchemaError):
        project_create(slug="bad", name="Bad", label_schema={"x": 1}, merge_strategy="none")
    assert not Project.objects.filter(slug="bad").exists()


def test_project_update_saves_fields_and_bumps_the_schema_version_only_for_a_new_schema(project):
    version = project.schema_version

    project_update(project=project, changes={"name": "Renamed", "overlap": 3})
    assert (project.name, project.overlap, project.schema_version) == ("Renamed", 3, version)

    schema = load_default_schema()
    schema["contexts"] = [*schema.get("contexts", []), "extra-context"]
    project_update(project=project, changes={"label_schema": schema})
    project.refresh_from_db()
    assert (project.name, project.schema_version) == ("Renamed", version + 1)
    assert "extra-context" in project.label_schema["contexts"]
    assert list(refusal(lambda: project_update(project=project, changes={"schema_version": 9}))) == ["schema_version"]


def test_membership_update_moves_a_membership_to_another_user(project):
    first, second = UserFactory(), UserFactory()
    membership = membership_set(project=project, user=first, role="annotator")

    moved = membership_update(membership=membership, project=project, user=second, role="reviewer")

    assert list(project.memberships.values_list("user_id", "role")) == [(second.pk, "reviewer")]
    assert moved.user_id == second.pk


def test_the_deletes_take_what_hangs_off_the_row(project):
    mention = MentionFactory(layer=LayerFactory(article=ArticleFactory(project=project)))
    (other,) = articles_create(project=project, articles=[ArticleInput(title="t", text="Another report.")]).imported
    membership = membership_set(project=project, user=UserFactory(), role="annotator")

    layer_delete(layer=mention.layer)
    assert not Mention.objects.filter(pk=mention.pk).exists()
    article_delete(article=other)
    assert not Article.objects.filter(pk=other.pk).exists()
    membership_delete(membership=membership)
    assert not project.memberships.exists()
    project_delete(project=project)
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Article.objects.exists()


def test_article_update_keeps_the_text(project):
    article = ArticleFactory(project=project)
    text = article.text

    article_update(article=article, title="New", source="S", url="", published=None, language="fr", metadata={"a": 1})

    article.refresh_from_db()
    assert (article.title, article.source, article.language, article.metadata, article.text) == (
        "New",
        "S",
        "fr",
        {"a": 1},
        text,
    )


# --- The registry, jobs and dataset versions -------------------------------------------------------


def test_actor_save_adds_renames_and_refuses_what_the_registry_refuses():
    from annotations.models import Actor
    from annotations.services.actors import actor_delete, actor_save, check_actor

    niger = actor_save(actor=None, name="Niger", kind="GPE", aliases=["Republic of Niger"], country="NER")
    renamed = actor_save(actor=niger, name="Niger (country)", kind="GPE", aliases=[], country="NER")

    assert (renamed.pk, Actor.objects.get(pk=niger.pk).name) == (niger.pk, "Niger (country)")
    assert refusal(lambda: check_actor(name="Mali", kind="GPE", country="mli")) == {
        "country": ["'mli' is not an ISO 3166-1 alpha-3 code"]
    }
    actor_save(actor=None, name="Mali", kind="GPE")
    assert list(refusal(lambda: actor_save(actor=renamed, name="Mali", kind="GPE"))) == ["name"]
    actor_delete(actor=renamed)
    assert not Actor.objects.filter(pk=niger.pk).exists()


def test_only_finished_jobs_are_deleted(project):
    from annotations.models import Job
    from annotations.services.jobs import job_create, job_delete

    running = job_create(kind=Job.Kind.PREANNOTATE, project=project, total=1)
    Job.objects.filter(pk=running.pk).update(status=Job.Status.RUNNING)
    running.refresh_from_db()

    assert list(refusal(lambda: job_delete(job=running))) == ["status"]
    Job.objects.filter(pk=running.pk).update(status=Job.Status.SUCCEEDED)
    running.refresh_from_db()
    job_delete(job=running)
    assert not Job.objects.filter(pk=running.pk).exists()


def test_a_deleted_dataset_version_takes_its_file_along(project, django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from annotations.services.datasets import dataset_version_create, dataset_version_delete

    ArticleFactory(project=project)
    version = dataset_version_create(project=project, name="v1", format="jsonl", status="all")
    stored = version.file.name
    assert default_storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        dataset_version_delete(version=version)

    assert not default_storage.exists(stored)

"""Integrity the database itself guards: rows that bypass the services are still refused."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from annotations.models import Event, EventArgument, Job, JobChunk, Layer, Membership, Mention, Project, Stance
from tests.factories import (
    ArticleFactory,
    LayerFactory,
    MembershipFactory,
    MentionFactory,
    ProjectFactory,
    UserFactory,
)


@contextmanager
def refused_by(constraint: str, sqlite_columns: str = ""):
    """Expect the database to refuse the write, naming `constraint`.

    PostgreSQL names every constraint; SQLite names CHECK constraints but reports a UNIQUE
    violation by its columns, given here as `sqlite_columns`.
    """
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        yield
    message = str(excinfo.value)
    if connection.vendor == "sqlite" and sqlite_columns:
        assert message == f"UNIQUE constraint failed: {sqlite_columns}"
    else:
        assert constraint in message


# --- Mentions and events ------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [(6, 6), (7, 3)])
def test_mention_start_must_be_before_end(layer, start, end):
    with refused_by("mention_start_before_end"):
        Mention.objects.create(layer=layer, label="GPE", start=start, end=end, text="")

    assert Mention.objects.count() == 0


def test_mention_same_span_and_label_twice_in_a_layer(layer):
    MentionFactory(layer=layer, label="GPE", start=0, end=6)

    with refused_by(
        "mention_unique_span_label",
        "annotations_mention.layer_id, annotations_mention.start, annotations_mention.end, annotations_mention.label",
    ):
        MentionFactory(layer=layer, label="GPE", start=0, end=6)

    # Another label on the span, or the same mention in another layer, is fine.
    MentionFactory(layer=layer, label="ORG", start=0, end=6)
    MentionFactory(layer=LayerFactory(article=layer.article), label="GPE", start=0, end=6)
    assert Mention.objects.count() == 3


def test_event_trigger_start_must_be_before_end(layer):
    with refused_by("event_trigger_start_before_end"):
        Event.objects.create(layer=layer, event_type="AID", trigger_start=10, trigger_end=10, trigger_text="")


def test_argument_same_mention_twice_in_a_role(layer):
    mention = MentionFactory(layer=layer)
    event = Event.objects.create(layer=layer, event_type="AID", trigger_start=7, trigger_end=10, trigger_text="has")
    EventArgument.objects.create(event=event, role="actor", mention=mention)

    with refused_by(
        "argument_unique_role_mention",
        "annotations_eventargument.event_id, annotations_eventargument.role, annotations_eventargument.mention_id",
    ):
        EventArgument.objects.create(event=event, role="actor", mention=mention)

    EventArgument.objects.create(event=event, role="recipient", mention=mention)
    assert EventArgument.objects.count() == 2


# --- Layers -------------------------------------------------------------------------------------


def test_one_gold_layer_per_article(article):
    Layer.objects.create(article=article, kind=Layer.Kind.GOLD)

    with refused_by("layer_one_gold", "annotations_layer.article_id"):
        Layer.objects.create(article=article, kind=Layer.Kind.GOLD)

    Layer.objects.create(article=ArticleFactory(project=article.project), kind=Layer.Kind.GOLD)
    assert Layer.objects.filter(kind=Layer.Kind.GOLD).count() == 2


def test_one_layer_per_annotator_and_article(article, annotator):
    Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=annotator)

    with refused_by("layer_one_per_annotator", "annotations_layer.article_id, annotations_layer.annotator_id"):
        Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=annotator)

    Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=UserFactory())
    Layer.objects.create(
        article=ArticleFactory(project=article.project), kind=Layer.Kind.ANNOTATOR, annotator=annotator
    )
    assert Layer.objects.filter(annotator=annotator).count() == 2


def test_one_machine_layer_per_model_version(article):
    Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="en_core_web_sm-3.8.0")

    with refused_by("layer_one_per_model_version", "annotations_layer.article_id, annotations_layer.model_version"):
        Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="en_core_web_sm-3.8.0")

    Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="en_core_web_sm-3.8.0+rules2")
    assert Layer.objects.filter(kind=Layer.Kind.MACHINE).count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"kind": Layer.Kind.MACHINE}, id="machine-without-model-version"),
        pytest.param(
            {"kind": Layer.Kind.MACHINE, "model_version": "sm-3.8", "with_annotator": True}, id="machine-by-a-person"
        ),
        pytest.param({"kind": Layer.Kind.ANNOTATOR}, id="annotator-without-annotator"),
        pytest.param(
            {"kind": Layer.Kind.ANNOTATOR, "model_version": "sm-3.8", "with_annotator": True},
            id="annotator-with-model-version",
        ),
        pytest.param({"kind": Layer.Kind.GOLD, "model_version": "sm-3.8"}, id="gold-with-model-version"),
        pytest.param({"kind": "draft", "with_annotator": True}, id="unknown-kind"),
    ],
)
def test_layer_shape_matches_its_kind(article, annotator, fields):
    fields = dict(fields)
    if fields.pop("with_annotator", False):
        fields["annotator"] = annotator

    with refused_by("layer_kind_shape"):
        Layer.objects.create(article=article, **fields)

    assert Layer.objects.count() == 0


def test_a_user_with_a_layer_cannot_be_deleted(layer, annotator):
    with pytest.raises(ProtectedError), transaction.atomic():
        annotator.delete()

    assert Layer.objects.filter(pk=layer.pk, annotator=annotator).exists()


# --- Stance -------------------------------------------------------------------------------------


def test_stance_needs_a_target(layer):
    holder = MentionFactory(layer=layer)

    with refused_by("stance_has_target"):
        Stance.objects.create(layer=layer, holder=holder, label="AGAINST")

    assert Stance.objects.count() == 0


@pytest.mark.parametrize(("start", "end"), [(10, 10), (12, 4)])
def test_stance_evidence_start_must_be_before_end(layer, start, end):
    target = MentionFactory(layer=layer)

    with refused_by("stance_evidence_start_before_end"):
        Stance.objects.create(layer=layer, target=target, label="FAVOR", evidence_start=start, evidence_end=end)


# --- Projects, articles, memberships, jobs ------------------------------------------------------


def test_project_overlap_must_be_positive(db):
    with refused_by("project_overlap_positive"):
        ProjectFactory(overlap=0)

    assert Project.objects.count() == 0


def test_article_text_once_per_project(article):
    with refused_by(
        "article_unique_text_per_project", "annotations_article.project_id, annotations_article.content_hash"
    ):
        ArticleFactory(project=article.project, text=article.text)

    ArticleFactory(project=ProjectFactory(), text=article.text)


def test_one_membership_per_user_and_project(project, annotator):
    MembershipFactory(project=project, user=annotator)

    with refused_by("membership_unique_user", "annotations_membership.project_id, annotations_membership.user_id"):
        MembershipFactory(project=project, user=annotator, role=Membership.Role.REVIEWER)


def test_job_done_cannot_exceed_total(db):
    with refused_by("job_done_le_total"):
        Job.objects.create(kind=Job.Kind.PREANNOTATE, done=11, total=10)

    job = Job.objects.create(kind=Job.Kind.PREANNOTATE, done=10, total=10)
    assert job.progress == 1.0


def test_job_done_cannot_be_moved_past_total_by_an_update(db):
    job = Job.objects.create(kind=Job.Kind.PREANNOTATE, done=9, total=10)

    with refused_by("job_done_le_total"):
        Job.objects.filter(pk=job.pk).update(done=12)

    job.refresh_from_db()
    assert (job.done, job.total) == (9, 10)


def test_job_chunk_index_once_per_job(db):
    job = Job.objects.create(kind=Job.Kind.PREANNOTATE, total=4)
    JobChunk.objects.create(job=job, index=0, article_ids=[1, 2])

    with refused_by("jobchunk_unique_index", "annotations_jobchunk.job_id, annotations_jobchunk.index"):
        JobChunk.objects.create(job=job, index=0, article_ids=[3, 4])

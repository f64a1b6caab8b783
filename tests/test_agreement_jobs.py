"""Agreement jobs: the fingerprint cache, inline and queued runs, and a real worker."""

from __future__ import annotations

import pytest

from annotations.models import Job, Layer
from annotations.services import agreement as agreement_services
from annotations.services import jobs as job_services
from annotations.services.agreement import (
    JOBS_KEPT,
    agreement_cached,
    agreement_fingerprint,
    agreement_run,
    agreement_start,
)
from annotations.services.items import mention_create, mention_delete
from annotations.services.jobs import Task
from annotations.services.layers import layer_gold, layer_set_status
from annotations.services.projects import project_set_schema
from tests.review_fixtures import first_span, review_setup
from tests.workers import wait_for


@pytest.fixture
def setup(db):
    return review_setup()


def agreement_jobs_count() -> int:
    return Job.objects.filter(kind=Job.Kind.AGREEMENT).count()


# --- The cache ------------------------------------------------------------------------------


def test_figures_are_computed_once_then_served_from_the_cache(setup):
    # Given figures computed once (a small project: in the call)
    first = agreement_start(project=setup.project, user=setup.users["reviewer"])
    assert first.status == Job.Status.SUCCEEDED
    assert first.result["stance"]["kappa"] == 0.7059
    assert first.created_by == setup.users["reviewer"]

    # When they are asked for again with nothing changed
    again = agreement_start(project=setup.project)

    # Then the same job answers and no new one is created
    assert again.pk == first.pk
    assert agreement_cached(setup.project).pk == first.pk
    assert agreement_jobs_count() == 1


def test_the_fingerprint_is_one_query(setup, django_assert_num_queries):
    with django_assert_num_queries(1):
        agreement_fingerprint(setup.project)


def test_a_mention_added_invalidates_the_cache(setup):
    cached = agreement_start(project=setup.project)
    layer = setup.layers["annotator2"][0]
    layer.refresh_from_db()

    # When annotator2 adds the "Salifou Modi" mention annotator1 has
    start, end = first_span(layer.article.text, "Salifou Modi")
    mention_create(layer=layer, label="PERSON", start=start, end=end)

    # Then the cached figures are no longer current, and new ones count the mention
    assert agreement_cached(setup.project) is None
    fresh = agreement_start(project=setup.project)
    assert fresh.pk != cached.pk
    # PERSON: A {Salifou Modi, Yevkurov}, B {Modi, Salifou Modi, Yevkurov}: 2 matched → 4/5
    assert fresh.result["mentions"]["exact"]["by_label"]["PERSON"]["f1"] == 0.8
    assert agreement_jobs_count() == 2


def test_a_mention_deleted_invalidates_the_cache(setup):
    agreement_start(project=setup.project)
    mention = setup.layers["annotator2"][0].mentions.get(label="LOC")

    mention_delete(mention=mention)

    assert agreement_cached(setup.project) is None
    assert "LOC" not in agreement_start(project=setup.project).result["mentions"]["exact"]["by_label"]


def test_a_status_change_invalidates_the_cache(setup):
    agreement_start(project=setup.project)
    layer = setup.layers["annotator1"][0]
    layer.refresh_from_db()

    # When annotator1's layer on seed 000 goes back to not started (it stops counting)
    layer_set_status(layer=layer, status=Layer.Status.NOT_STARTED)

    assert agreement_cached(setup.project) is None
    result = agreement_start(project=setup.project).result
    assert result["articles"] == 4
    assert "AID" not in result["events"]["by_type"]


def test_a_status_written_without_a_version_bump_still_invalidates_the_cache(setup):
    # The fingerprint also counts the layers in the statuses the figures read.
    agreement_start(project=setup.project)

    Layer.objects.filter(pk=setup.layers["annotator2"][4].pk).update(status=Layer.Status.NOT_STARTED)

    assert agreement_cached(setup.project) is None


def test_an_adjudicated_gold_layer_invalidates_the_cache_and_scores_each_annotator(setup):
    agreement_start(project=setup.project)
    gold = layer_gold(article=setup.articles[1])
    for phrase in ("Niger", "Russia"):
        start, end = first_span(gold.article.text, phrase)
        mention_create(layer=gold, label="GPE", start=start, end=end)
    gold.refresh_from_db()

    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    assert agreement_cached(setup.project) is None
    result = agreement_start(project=setup.project).result
    assert result["gold_articles"] == 1
    assert result["vs_gold"]["annotator1"]["articles"] == 1
    assert result["vs_gold"]["annotator1"]["mentions"]["exact"]["f1"] == 1.0


def test_a_schema_change_invalidates_the_cache(setup):
    agreement_start(project=setup.project)
    schema = dict(setup.project.label_schema, description="Edited.")

    project_set_schema(project=setup.project, label_schema=schema)

    assert agreement_cached(setup.project) is None


def test_another_projects_writes_do_not_touch_this_cache(setup):
    cached = agreement_start(project=setup.project)
    other = review_setup("other")

    layer = other.layers["annotator1"][2]
    layer.refresh_from_db()
    layer_set_status(layer=layer, status=Layer.Status.IN_PROGRESS)

    assert agreement_cached(setup.project).pk == cached.pk


def test_force_computes_again_even_when_the_cache_is_current(setup):
    cached = agreement_start(project=setup.project)

    forced = agreement_start(project=setup.project, force=True)

    assert forced.pk != cached.pk
    assert forced.status == Job.Status.SUCCEEDED
    assert forced.result == cached.result
    assert agreement_cached(setup.project).pk == forced.pk  # the newest


def test_only_the_newest_finished_jobs_are_kept(setup):
    for _ in range(JOBS_KEPT + 2):
        newest = agreement_start(project=setup.project, force=True)

    kept = list(Job.objects.filter(kind=Job.Kind.AGREEMENT).order_by("-id").values_list("id", flat=True))
    assert len(kept) == JOBS_KEPT
    assert kept[0] == newest.pk
    assert agreement_cached(setup.project).pk == newest.pk


# --- Large projects: a queued job -----------------------------------------------------------


def test_a_large_project_is_enqueued_after_commit_and_reused_while_pending(
    setup, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 9  # the fixture has 10 annotator layers
    published = []
    monkeypatch.setattr(job_services, "task_send", lambda name, *args: published.append((name, *args)))

    with django_capture_on_commit_callbacks(execute=True):
        job = agreement_start(project=setup.project)

    assert job.status == Job.Status.PENDING
    assert job.params["inline"] is False
    assert job.params["annotator_layers"] == 10
    assert published == [(Task.AGREEMENT_JOB, job.pk)]
    # Asked again while it waits, even with force: the same job, not a second copy
    assert agreement_start(project=setup.project).pk == job.pk
    assert agreement_start(project=setup.project, force=True).pk == job.pk
    assert agreement_jobs_count() == 1


def test_at_the_limit_the_project_is_still_computed_inline(setup, settings):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 10

    job = agreement_start(project=setup.project)

    assert job.status == Job.Status.SUCCEEDED
    assert job.params["inline"] is True


def test_running_a_job_stores_figures_counts_and_progress(setup, settings, monkeypatch):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    monkeypatch.setattr(job_services, "job_enqueue", lambda **_: None)
    job = agreement_start(project=setup.project)

    job = agreement_run(job_id=job.pk)

    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total, job.progress) == (2, 2, 1.0)
    assert job.counts == {"articles": 5, "annotators": 2, "gold_articles": 0}
    assert job.result["mentions"]["exact"]["by_label"]["GPE"]["f1"] == 0.9524
    assert "figures computed: status ok" in job.log
    assert agreement_cached(setup.project).pk == job.pk


def test_a_redelivered_message_for_a_finished_job_changes_nothing(setup):
    job = agreement_start(project=setup.project)
    Job.objects.filter(pk=job.pk).update(result={"kept": True})

    agreement_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.result == {"kept": True}
    assert agreement_jobs_count() == 1


def test_a_job_whose_worker_died_mid_way_is_computed_again(setup, settings, monkeypatch):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    monkeypatch.setattr(job_services, "job_enqueue", lambda **_: None)
    job = agreement_start(project=setup.project)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, done=1)

    job = agreement_run(job_id=job.pk)

    assert job.status == Job.Status.SUCCEEDED
    assert job.result["stance"]["alpha"] == 0.7273


def test_a_job_queued_before_a_change_caches_the_figures_of_the_state_it_read(setup, settings, monkeypatch):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    monkeypatch.setattr(job_services, "job_enqueue", lambda **_: None)
    job = agreement_start(project=setup.project)
    layer = setup.layers["annotator2"][0]
    layer.refresh_from_db()
    start, end = first_span(layer.article.text, "Salifou Modi")
    mention_create(layer=layer, label="PERSON", start=start, end=end)

    job = agreement_run(job_id=job.pk)

    assert job.params["fingerprint"] == agreement_fingerprint(setup.project)
    assert agreement_cached(setup.project).pk == job.pk
    assert job.result["mentions"]["exact"]["by_label"]["PERSON"]["f1"] == 0.8


def test_an_inline_computation_that_fails_is_reported_on_the_job(setup, monkeypatch):
    def broken(data):
        raise ValueError("no figures today")

    monkeypatch.setattr(agreement_services, "compute_agreement", broken)

    job = agreement_start(project=setup.project)

    assert job.status == Job.Status.FAILED
    assert job.error == "ValueError: no figures today"
    assert agreement_cached(setup.project) is None


# --- A real worker --------------------------------------------------------------------------


@pytest.mark.services
def test_a_real_worker_computes_a_large_projects_figures(transactional_db, start_worker, settings):
    # Given a project above the inline limit and a worker process on the broker
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    setup = review_setup()
    worker = start_worker()

    # When the figures are asked for
    job = agreement_start(project=setup.project, user=setup.users["reviewer"])
    assert job.status == Job.Status.PENDING

    # Then the worker computes and stores them, and they are served from the cache afterwards
    wait_for(lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"), timeout=120,
             what=f"the agreement job; worker log:\n{worker.output()}")  # fmt: skip
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["mentions"]["exact"]["by_label"]["GPE"]["f1"] == 0.9524
    assert job.result["events"]["argument_classification"]["f1"] == 0.4
    assert (job.result["stance"]["kappa"], job.result["stance"]["alpha"]) == (0.7059, 0.7273)
    assert job.counts == {"articles": 5, "annotators": 2, "gold_articles": 0}
    assert agreement_start(project=setup.project).pk == job.pk
    assert agreement_jobs_count() == 1

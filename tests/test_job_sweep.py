"""Stuck jobs: the sweep re-publishes lost work and fails hopeless jobs; `manage.py jobs`; real
workers whose broker loses every message (a Redis of the test's own restarted empty) or that are
killed mid-chunk on a broker that never redelivers, finishing with a clean run's counts."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from annotations.models import Job, JobChunk, Layer
from annotations.services import job_sweep, jobs
from annotations.services.articles import ArticleInput, articles_create
from annotations.services.job_sweep import job_resume, jobs_fail_stale, jobs_sweep
from annotations.services.jobs import Task
from tests.conftest import require_service
from tests.factories import ArticleFactory
from tests.workers import RedisServer, run_manage, wait_for

pytestmark = pytest.mark.django_db

LATER = timedelta(seconds=1000)


@pytest.fixture
def sent(monkeypatch):
    messages: list[tuple[str, int]] = []
    monkeypatch.setattr(job_sweep, "task_send", lambda name, arg: messages.append((name, arg)))
    return messages


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run(after: timedelta = LATER) -> job_sweep.SweepReport:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs_sweep(now=timezone.now() + after)

    return run


def running_job(project, chunks: int = 3, kind: str = Job.Kind.PREANNOTATE) -> Job:
    ids = [ArticleFactory(project=project).pk for _ in range(chunks)]
    job = jobs.job_create(kind=kind, project=project, total=len(ids))
    jobs.job_start(job_id=job.pk, chunks=[[pk] for pk in ids])
    return job


def chunk_ids(job: Job) -> list[int]:
    return list(job.chunks.order_by("index").values_list("pk", flat=True))


def test_a_quiet_job_gets_its_unfinished_chunks_sent_again(project, sent, sweep):
    # Given a running job whose first chunk is done and whose other messages were lost
    job = running_job(project)
    first, *rest = chunk_ids(job)
    jobs.job_chunk_begin(chunk_id=first)
    jobs.job_chunk_finish(chunk_id=first, counts={"articles": 1})

    # When the sweep runs after JOB_STALE_AFTER without any progress
    report = sweep()

    # Then the two unfinished chunks are published again, and the job says so
    assert sent == [(Task.PREANNOTATE_CHUNK, pk) for pk in rest]
    assert report.resumed == {job.pk: 2}
    job.refresh_from_db()
    assert (job.status, job.resumes) == (Job.Status.RUNNING, 1)
    assert "sweep: no progress for 120 s, 2 message(s) sent again (resume 1 of at most 3)" in job.log


def test_nothing_is_sent_while_chunks_move_or_soon_after(project, sent, sweep):
    # Given a job waiting behind another job whose chunk finished a moment ago
    waiting = running_job(project)
    busy = running_job(project, chunks=2)
    jobs.job_chunk_begin(chunk_id=chunk_ids(busy)[0])
    jobs.job_chunk_finish(chunk_id=chunk_ids(busy)[0], counts={})

    # When the sweep runs now, and again after a resume within JOB_STALE_AFTER
    assert sweep(after=timedelta(seconds=5)).resumed == {}
    assert sweep().resumed == {waiting.pk: 3, busy.pk: 1}
    assert sweep(after=LATER + timedelta(seconds=60)).resumed == {}

    # Then only the quiet pass sent anything
    assert len(sent) == 4


def test_a_chunk_whose_worker_died_is_sent_again_even_while_others_move(project, sent, sweep):
    # Given a chunk begun long ago (its worker killed) while another job keeps finishing chunks
    job = running_job(project, chunks=2)
    dead = chunk_ids(job)[0]
    jobs.job_chunk_begin(chunk_id=dead)
    JobChunk.objects.filter(pk=dead).update(started_at=timezone.now() - LATER)
    other = running_job(project, chunks=2)
    jobs.job_chunk_begin(chunk_id=chunk_ids(other)[0])
    jobs.job_chunk_finish(chunk_id=chunk_ids(other)[0], counts={})

    report = sweep(after=timedelta(seconds=1))

    # Then only the dead chunk goes again; the waiting ones are queued behind the busy worker
    assert sent == [(Task.PREANNOTATE_CHUNK, dead)]
    assert report.resumed == {job.pk: 1}


def test_a_job_fails_after_the_last_resume_without_progress(project, sent, sweep, settings):
    job = running_job(project)

    for n in range(1, 4):
        sweep(after=LATER * n)
    report = sweep(after=LATER * 4)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("no progress for 120 s after 3 re-publishes of its unfinished work (3 chunk(s), 3 of 3")
    assert f"then `manage.py jobs --resume {job.pk}`" in job.error
    assert report.failed == {job.pk: job.error}
    assert len(sent) == 9


def test_progress_between_resumes_starts_the_count_again(project, sent, sweep):
    job = running_job(project, chunks=5)
    ids = chunk_ids(job)
    sweep(after=LATER)
    sweep(after=LATER * 2)
    # a worker finishes one chunk after the second resume
    jobs.job_chunk_begin(chunk_id=ids[0])
    jobs.job_chunk_finish(chunk_id=ids[0], counts={})
    JobChunk.objects.filter(pk=ids[0]).update(finished_at=timezone.now() + LATER * 2 + timedelta(seconds=1))
    sweep(after=LATER * 3)
    sweep(after=LATER * 4)

    job.refresh_from_db()
    assert (job.status, job.resumes) == (Job.Status.RUNNING, 2)


def test_a_chunk_that_kills_its_worker_every_time_fails_the_job_naming_it(project, sent, sweep):
    job = running_job(project, chunks=2)
    poison = job.chunks.get(index=1)
    JobChunk.objects.filter(pk=poison.pk).update(attempts=4, started_at=timezone.now())

    sweep()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith(f"chunk 1 (articles {poison.article_ids[0]}) was begun 4 times and never finished")


def test_a_job_planned_a_moment_ago_is_not_quiet_yet(project, sent, sweep):
    running_job(project)

    assert sweep(after=timedelta(seconds=5)).resumed == {}
    assert sent == []


def test_a_pending_job_whose_plan_was_lost_is_planned_again(project, sent, sweep):
    job = jobs.job_create(kind=Job.Kind.PREANNOTATE, project=project, total=0)

    assert sweep(after=timedelta(seconds=10)).resumed == {}
    sweep()

    assert sent == [(Task.PREANNOTATE_JOB, job.pk)]


def test_single_task_jobs_are_left_to_the_broker_and_fail_stale_fails_any_kind(project, sent, sweep):
    agreement = jobs.job_create(kind=Job.Kind.AGREEMENT, project=project, total=1)
    jobs.job_start(job_id=agreement.pk)
    preannotate = running_job(project, chunks=1)

    sweep()
    assert sent == [(Task.PREANNOTATE_CHUNK, chunk_ids(preannotate)[0])]
    assert Job.objects.get(pk=agreement.pk).status == Job.Status.RUNNING

    assert jobs_fail_stale(older_than=60) == []
    failed = jobs_fail_stale(older_than=60, now=timezone.now() + LATER * 2)
    assert sorted(job.pk for job in failed) == [agreement.pk, preannotate.pk]
    assert Job.objects.get(pk=agreement.pk).error.startswith("marked failed by `manage.py jobs --fail-stale`")


def test_a_redelivery_while_the_chunk_runs_elsewhere_is_dropped(project, settings):
    settings.JOB_STALE_AFTER = 60
    job = running_job(project, chunks=1)
    chunk_id = chunk_ids(job)[0]

    assert jobs.job_chunk_begin(chunk_id=chunk_id) is not None
    assert jobs.job_chunk_begin(chunk_id=chunk_id) is None  # the broker's early redelivery
    JobChunk.objects.filter(pk=chunk_id).update(started_at=timezone.now() - timedelta(seconds=61))
    again = jobs.job_chunk_begin(chunk_id=chunk_id)  # its worker is gone: this one runs it

    assert again is not None and again.attempts == 2


def test_the_jobs_command_lists_resumes_and_fails(project, sent, django_capture_on_commit_callbacks):
    job = running_job(project, chunks=2)
    jobs.job_fail(job_id=job.pk, error="worker lost")
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs", "--resume", str(job.pk), stdout=out)
    call_command("jobs", stdout=out)
    call_command("jobs", "--fail-stale", "--older-than", "0", stdout=out)

    assert sent == [(Task.PREANNOTATE_CHUNK, pk) for pk in chunk_ids(job)]
    lines = out.getvalue().splitlines()
    assert lines[0] == f"job {job.pk}: 2 message(s) sent again"
    assert lines[1].startswith(f"job {job.pk} preannotate running 0/2, last moved ")
    assert lines[-1] == "1 job(s) failed (no progress for 0 s)"
    with pytest.raises(ValueError, match="only chunked jobs can be resumed"):
        job_resume(job_id=jobs.job_create(kind=Job.Kind.AGREEMENT).pk)


# --- Real workers ---------------------------------------------------------------------------

# The sweep every second, a job quiet after 3 s: the production defaults (30 s, 120 s) scaled down.
FAST_SWEEP = {"JOB_SWEEP_INTERVAL": "1", "JOB_STALE_AFTER": "3"}
SEEDS = sorted(Path(settings.SEEDS_DIR).glob("*.txt"))


@pytest.fixture
def many_articles(transactional_db):
    from annotations.services.actors import actors_load_file
    from annotations.services.projects import project_create

    actors_load_file(path=Path(settings.SEEDS_DIR) / "actors.jsonl")
    project = project_create(slug="seeds", name="Seeds")
    texts = [f"{p.read_text(encoding='utf-8')}\n\nCopy {i}." for i in range(8) for p in SEEDS]
    articles_create(project=project, articles=[ArticleInput(title=f"copy {i}", text=t) for i, t in enumerate(texts)])
    return project


def preannotate(project, **env: str) -> Job:
    result = run_manage("preannotate", "--project", project.slug, "--chunk-size", "2", **env)
    assert result.returncode == 0, result.stderr
    return Job.objects.order_by("-pk").first()


def finished(job: Job, worker, timeout: float = 240) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"), timeout=timeout,
             what=f"job {job.pk} to finish; worker log:\n{worker.output()[-4000:]}")  # fmt: skip
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


@pytest.mark.services
def test_a_job_whose_redis_restarts_empty_mid_job_finishes_with_a_clean_runs_counts(
    many_articles, start_worker, tmp_path
):
    # Given a Redis of the test's own, and a worker with beat (the sweep) on it
    require_service(shutil.which("redis-server") is not None, "redis-server (a Redis the test restarts)")
    redis = RedisServer(tmp_path).start()
    try:
        worker = start_worker(beat=True, CELERY_BROKER_URL=redis.url, **FAST_SWEEP)
        job = preannotate(many_articles, CELERY_BROKER_URL=redis.url)
        wait_for(lambda: Job.objects.get(pk=job.pk).done >= 6, timeout=180,
                 what=f"a few chunks; worker log:\n{worker.output()[-4000:]}")  # fmt: skip

        # When Redis comes back without its data mid-job (every queued chunk lost)
        redis.restart()
        lost_at = Job.objects.get(pk=job.pk)
        assert lost_at.done < lost_at.total

        # Then the sweep sends the unfinished chunks again and the job finishes, each article once
        job = finished(job, worker)
        assert "sweep: no progress for 3 s" in job.log
        assert Layer.objects.filter(kind=Layer.Kind.MACHINE).count() == 40
        clean = finished(preannotate(many_articles, CELERY_BROKER_URL=redis.url), worker)
        assert (job.done, job.total, job.model_version) == (clean.done, clean.total, clean.model_version)
        assert job.counts == clean.counts
        assert job.counts["articles"] == 40
    finally:
        redis.stop()


@pytest.mark.services
def test_a_worker_killed_mid_chunk_on_a_broker_that_never_redelivers_is_resumed_by_the_sweep(
    many_articles, start_worker
):
    # Given a broker that loses a killed worker's message (the filesystem broker; Redis with the
    # visibility timeout far away behaves the same), and the sweep
    never = {"CELERY_VISIBILITY_TIMEOUT": "100000", **FAST_SWEEP}
    first = start_worker(**never)
    job = preannotate(many_articles)
    chunks = JobChunk.objects.filter(job=job)
    begun = chunks.filter(done=False, started_at__isnull=False)
    wait_for(lambda: chunks.filter(done=True).count() >= 3 and begun.exists(),
             timeout=180, interval=0.05, what=f"a chunk in progress; log:\n{first.output()[-4000:]}")  # fmt: skip

    # When the worker is killed mid-chunk and another one (with beat) takes over
    first.kill()
    killed_at = time.monotonic()
    second = start_worker(beat=True, **never)

    # Then the job finishes, every article once
    job = finished(job, second)
    recovered = time.monotonic() - killed_at
    assert (job.done, job.counts["articles"]) == (40, 40)
    assert Layer.objects.filter(kind=Layer.Kind.MACHINE).count() == 40
    assert "sweep: " in job.log
    # A crash costs the stale time plus a sweep interval plus the rest of the job, not an hour.
    print(f"recovered {recovered:.1f} s after the kill; log:\n{job.log}")
    assert recovered < 120, recovered

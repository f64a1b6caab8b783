"""Celery tasks: ids in, one service call, the retry policy for transient errors only.

Every task acknowledges late (settings: CELERY_TASK_ACKS_LATE), so a worker killed mid-task
leaves its message to be delivered again; the services make a second delivery harmless.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from annotations.models import JobChunk
from annotations.services import jobs
from annotations.services.agreement import agreement_run
from annotations.services.job_sweep import jobs_sweep as sweep
from annotations.services.linking import link_events_run
from annotations.services.preannotation import preannotation_plan, preannotation_run_chunk
from annotations.services.training_jobs import training_run

logger = logging.getLogger(__name__)

# Worth another try: the database or broker was briefly away, or SQLite was locked.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)
MAX_RETRIES = 5


@worker_process_init.connect
def load_model_once(**_: Any) -> None:
    """Load the spaCy model when a worker process starts, not per task and never in the web process."""
    from annotations.nlp import load_spacy_model  # spaCy stays out of every process that never runs NLP

    try:
        load_spacy_model(settings.SPACY_MODEL)
    except Exception:  # the chunk that needs it reports the failure on its job
        logger.exception("could not load spaCy model %s", settings.SPACY_MODEL)


def _run(task: Any, job_id: int, call: Any, chunk_id: int | None = None) -> None:
    try:
        call()
    except TRANSIENT_ERRORS as exc:
        if task.request.retries >= MAX_RETRIES:
            jobs.job_fail(job_id=job_id, error=f"gave up after {MAX_RETRIES} retries: {exc}")
            raise
        if chunk_id is not None:  # else the retry would find the chunk begun and drop itself
            jobs.job_chunk_release(chunk_id=chunk_id)
        raise task.retry(exc=exc, countdown=min(2**task.request.retries, 30)) from exc
    except Exception as exc:
        jobs.job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(bind=True, ignore_result=True)
def preannotate_job(self: Any, job_id: int) -> None:
    _run(self, job_id, lambda: preannotation_plan(job_id=job_id))


@shared_task(bind=True, ignore_result=True)
def preannotate_chunk(self: Any, chunk_id: int) -> None:
    job_id = JobChunk.objects.values_list("job_id", flat=True).get(pk=chunk_id)
    _run(self, job_id, lambda: preannotation_run_chunk(chunk_id=chunk_id), chunk_id=chunk_id)


@shared_task(bind=True, ignore_result=True)
def worker_check(self: Any, job_id: int) -> None:
    """Round trip through the broker: the worker marks the job succeeded and names itself."""
    _run(self, job_id, lambda: jobs.job_succeed(job_id=job_id, counts={"worker_pid": os.getpid()}))


@shared_task(bind=True, ignore_result=True)
def agreement_job(self: Any, job_id: int) -> None:
    """Compute a project's agreement figures and store them on the job (the cache the API reads)."""
    _run(self, job_id, lambda: agreement_run(job_id=job_id))


@shared_task(bind=True, ignore_result=True)
def train_job(self: Any, job_id: int) -> None:
    """Train a project's models. Never retried: a second delivery means the first worker died, and
    `training_run` then fails the job (a half-done training leaves nothing behind to resume)."""
    try:
        training_run(job_id=job_id)
    except Exception as exc:
        logger.exception("training job %s failed", job_id)
        jobs.job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(ignore_result=True)
def jobs_sweep() -> None:
    """Sent by Celery beat every JOB_SWEEP_INTERVAL seconds: resume stuck jobs, fail hopeless ones.
    No retries: the next one comes soon."""
    sweep()


@shared_task(bind=True, ignore_result=True)
def link_events_job(self: Any, job_id: int) -> None:
    """Propose cross-document event clusters for a project's selected layers."""
    _run(self, job_id, lambda: link_events_run(job_id=job_id))

"""Training jobs: starting one, and what it needs.

One training job runs per project at a time (`training_start` refuses a second with the running
job's id) and only with enough adjudicated gold (`check_training_data`). The job's body is in
`annotations.services.training_jobs`: the gold exported as a dataset version (the training data,
with its sha256 and the exports' story-aware splits), the components there is data for trained on
the train split, and the result handed to the registry, whose gate activates each component only
where it beats the active pipeline on the dev articles. Until that last transaction nothing is
registered: a job killed mid-way, cancelled or failed leaves the active pipeline as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from annotations.models import Event, Job, Layer, Project
from annotations.services import jobs
from annotations.services.jobs import Task

logger = logging.getLogger(__name__)


class TrainingBusy(Exception):
    """A training job of the project is already pending or running."""

    def __init__(self, job: Job):
        self.job = job
        super().__init__(f"training job {job.pk} of this project is {job.status}; wait for it or cancel it")


def training_minimums(project: Project) -> tuple[int, int]:
    """(articles, events): training needs at least this many adjudicated articles, or events."""
    articles = project.train_min_articles if project.train_min_articles is not None else settings.TRAIN_MIN_ARTICLES
    events = project.train_min_events if project.train_min_events is not None else settings.TRAIN_MIN_EVENTS
    return articles, events


def _adjudicated(project: Project) -> Any:
    return Layer.objects.filter(article__project=project, kind=Layer.Kind.GOLD, status=Layer.Status.ADJUDICATED)


def check_training_data(project: Project) -> dict[str, int]:
    """The adjudicated gold there is to train on; a ValidationError saying how much is needed when
    there is too little (no gold at all, or fewer than the minimum articles and events)."""
    min_articles, min_events = training_minimums(project)
    gold = _adjudicated(project)
    articles = gold.count()
    events = Event.objects.filter(layer__in=gold).count()
    need = f"training needs at least {min_articles} adjudicated articles or {min_events} adjudicated events"
    if articles == 0:
        raise ValidationError({"gold": [f"project {project.slug!r} has no adjudicated gold article yet; {need}"]})
    if articles < min_articles and events < min_events:
        raise ValidationError(
            {"gold": [f"project {project.slug!r} has {articles} adjudicated article(s) with {events} event(s); {need}"]}
        )
    return {"articles": articles, "events": events}


@transaction.atomic
def training_start(*, project: Project, created_by: Any = None, reason: str = "asked", fraction: float = 1.0) -> Job:
    """Queue a training job for the project (after commit). TrainingBusy when one is pending or
    running; a ValidationError when there is too little adjudicated gold. `fraction` < 1 trains on
    that share of the train split's stories (a learning curve; the dev articles stay the same)."""
    if not 0 < fraction <= 1:
        raise ValidationError({"fraction": [f"must be in (0, 1], got {fraction}"]})
    Project.objects.select_for_update().filter(pk=project.pk).exists()  # two requests queue one job
    running = (
        Job.objects.filter(project=project, kind=Job.Kind.TRAIN, status__in=(Job.Status.PENDING, Job.Status.RUNNING))
        .order_by("pk")
        .first()
    )
    if running is not None:
        raise TrainingBusy(running)
    counts = check_training_data(project)
    job = jobs.job_create(
        kind=Job.Kind.TRAIN,
        project=project,
        params={"reason": reason, "gold": counts, "fraction": fraction},
        total=100,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    transaction.on_commit(lambda: jobs.job_enqueue(job_id=job.pk, task=Task.TRAIN_JOB))
    return job


def training_maybe_retrain(*, project: Project) -> Job | None:
    """Queue a training job when the project retrains automatically and enough articles were
    adjudicated since its last training job; at most one is ever queued."""
    if not project.retrain_after:
        return None
    last = Job.objects.filter(project=project, kind=Job.Kind.TRAIN).aggregate(at=Max("created_at"))["at"]
    fresh = _adjudicated(project)
    if last is not None:
        fresh = fresh.filter(adjudicated_at__gt=last)
    if fresh.count() < project.retrain_after:
        return None
    try:
        return training_start(project=project, reason=f"{project.retrain_after} newly adjudicated article(s)")
    except (TrainingBusy, ValidationError):
        return None

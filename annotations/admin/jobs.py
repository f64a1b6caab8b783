"""Jobs and their chunks, stored dataset versions, deletions, and API tokens (superusers only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from annotations.access import (
    CAN_EXPORT,
    CAN_START_JOBS,
)
from annotations.admin.base import ACTIVE_JOB_STATUSES, ReadOnlyAdmin, access_of
from annotations.admin.display import counts_summary, job_duration, pre_block, progress_bar
from annotations.admin.filters import ProjectFilter
from annotations.models import (
    DatasetVersion,
    Deletion,
    Job,
    JobChunk,
)
from annotations.services.datasets import dataset_version_delete
from annotations.services.jobs import job_cancel, job_delete


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "project",
        "status_badge",
        "progress",
        "counts_text",
        "model_version",
        "created_at",
        "duration",
    )
    list_filter = ("kind", "status", ("project", ProjectFilter))
    search_fields = ("model_version", "error")
    list_select_related = ("project",)
    list_defer = ("log", "params", "project__label_schema", "project__guidelines", "project__description")
    fieldsets = (
        (None, {"fields": ("kind", "project", "status_badge", "progress", "counts_text", "chunks", "model_version")}),
        ("Timing", {"fields": ("created_by", "created_at", "started_at", "finished_at", "duration")}),
        ("Parameters", {"fields": ("params",)}),
        ("Log", {"fields": ("error_block", "log_block")}),
    )
    readonly_fields = ("status_badge", "progress", "counts_text", "chunks", "duration", "error_block", "log_block")

    actions = ("cancel_jobs",)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk delete would also take pending and running jobs away from their workers.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Cancel the selected pending or running jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        access = access_of(request)
        for job in queryset.filter(status__in=ACTIVE_JOB_STATUSES).select_related("project"):
            if not access.unrestricted and (
                job.project_id is None or access.role(job.project_id) not in CAN_START_JOBS
            ):
                messages.error(request, f"Only a manager of the job's project can cancel job {job.pk}; skipped.")
                continue
            job_cancel(job_id=job.pk)
            messages.success(request, f"Job {job.pk} cancelled; its worker stops at its next check.")

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if isinstance(obj, Job) and obj.status in ACTIVE_JOB_STATUSES:
            return False  # a worker is (or will be) writing to it
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Job) -> None:
        job_delete(job=obj)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # The change-list template reloads the page while a job is pending or running.
        context = {"has_active_jobs": self.get_queryset(request).filter(status__in=ACTIVE_JOB_STATUSES).exists()}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Job) -> str:
        return format_html('<span class="wb-status wb-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="progress")
    def progress(self, obj: Job) -> str:
        return progress_bar(obj.done, obj.total, obj.status)

    @admin.display(description="counts")
    def counts_text(self, obj: Job) -> str:
        return counts_summary(obj.counts)

    @admin.display(description="duration")
    def duration(self, obj: Job) -> str:
        return job_duration(obj)

    @admin.display(description="chunks")
    def chunks(self, obj: Job) -> str:
        totals = obj.chunks.aggregate(total=Count("pk"), done=Count("pk", filter=models.Q(done=True)))
        if not totals["total"]:
            return "—"
        url = reverse("admin:annotations_jobchunk_changelist") + f"?job__id__exact={obj.pk}"
        return format_html('<a href="{}">{} of {} done</a>', url, totals["done"], totals["total"])

    @admin.display(description="error")
    def error_block(self, obj: Job) -> str:
        return pre_block(obj.error)

    @admin.display(description="log")
    def log_block(self, obj: Job) -> str:
        return pre_block(obj.log)


@admin.register(JobChunk)
class JobChunkAdmin(ReadOnlyAdmin):
    list_display = ("job", "index", "article_count", "done", "attempts", "counts_text", "finished_at")
    list_filter = ("done", "job__kind", "job__status")
    search_fields = ("job__id",)
    list_select_related = ("job",)
    project_path = "job__project"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # Progress is counted per chunk: only chunks of finished jobs may go (with their job).
        if isinstance(obj, JobChunk) and obj.job.status in ACTIVE_JOB_STATUSES:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="articles")
    def article_count(self, obj: JobChunk) -> int:
        return len(obj.article_ids) if isinstance(obj.article_ids, list) else 0

    @admin.display(description="counts")
    def counts_text(self, obj: JobChunk) -> str:
        return counts_summary(obj.counts)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    """Immutable stored exports."""

    list_display = ("name", "project", "format", "size", "sha256", "created_by", "created_at")
    list_filter = (("project", ProjectFilter), "format")
    search_fields = ("name", "sha256")
    list_select_related = ("project", "created_by")
    list_defer = ("project__label_schema", "project__guidelines", "project__description")
    read_roles = CAN_EXPORT

    def delete_model(self, request: HttpRequest, obj: DatasetVersion) -> None:
        dataset_version_delete(version=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DatasetVersion]) -> None:
        for version in queryset:
            dataset_version_delete(version=version)


@admin.register(Deletion)
class DeletionAdmin(ReadOnlyAdmin):
    """Deleted layers, append-only: what `since=` exports tell as tombstones."""

    list_display = ("key", "project", "kind", "annotator", "model_version", "what", "at")
    list_filter = (("project", ProjectFilter), "kind", "what")
    search_fields = ("key",)
    list_select_related = ("project", "annotator")
    list_defer = ("project__label_schema", "project__guidelines", "project__description")
    read_roles = CAN_EXPORT


# --- API tokens: superusers only --------------------------------------------------------------

# DRF's token admin lists every account's API key to any staff user with its model permissions;
# a token is a password for the API, of any project, so only superusers see or make them here.
# (Everyone gets their own from `python manage.py drf_create_token` or the demo's printout.)
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class SuperuserTokenAdmin(TokenAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_module_permission(request)

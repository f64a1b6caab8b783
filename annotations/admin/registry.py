"""The model registry in the admin: trained models, each component's dev F1 against the pipeline it
was compared with (a chart), the gate's decisions, and manual activation / rollback by managers.

The project's page links here and says, per component, what runs now and why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from annotations.access import CAN_READ_ALL_LAYERS, CAN_START_JOBS
from annotations.admin.base import ReadOnlyAdmin, ReadOnlyInline, access_of
from annotations.admin.display import pre_block
from annotations.admin.filters import ProjectFilter
from annotations.models import ModelComponent, Project, TrainedModel
from annotations.services.registry import COMPONENTS, RULES, active_components, component_activate, component_rollback

BAR = 260  # px for F1 = 1


def f1_of(scores: dict[str, Any]) -> float | None:
    value = scores.get("f1") if isinstance(scores, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def f1_chart(components: list[ModelComponent]) -> SafeString:
    """Inline SVG: per trained component, its dev F1 (blue) over the F1 of what it was compared with
    (grey), on the same dev articles."""
    rows = [c for c in components if f1_of(c.dev) is not None]
    if not rows:
        return format_html("<p>{}</p>", "No component was trained, so there is nothing to compare.")
    height = 46 * len(rows) + 20
    bars = []
    for index, component in enumerate(rows):
        y = 10 + index * 46
        new, old = f1_of(component.dev) or 0.0, f1_of(component.baseline) or 0.0
        bars.append(
            (
                *(y + 14, component.name, y, round(new * BAR), round(new * BAR) + 136, y + 12, f"{new:.3f} this model"),
                *(y + 20, round(old * BAR), round(old * BAR) + 136, y + 32, f"{old:.3f} {component.compared_with}"),
            )
        )
    body = format_html_join(
        "",
        '<text x="0" y="{}">{}</text>'
        '<rect class="wb-bar-new" x="130" y="{}" width="{}" height="14" fill="#417690"></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>'
        '<rect class="wb-bar-old" x="130" y="{}" width="{}" height="14" fill="#b0b0b0"></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        bars,
    )
    return format_html(
        '<svg class="wb-model-chart" role="img" aria-label="dev F1 per component" width="{}" height="{}" '
        'font-family="sans-serif" font-size="12">{}</svg>',
        BAR + 260,
        height,
        body,
    )


def active_pipeline_html(project: Project) -> SafeString:
    """Per language and component: what runs (a model or the rules) and the gate's reason."""
    languages = sorted(set(project.trained_models.values_list("language", flat=True))) or ["en"]
    rows = []
    for language in languages:
        active = active_components(project=project, language=language)
        for name in COMPONENTS:
            component = active.get(name)
            if component is None:
                rows.append((language, name, RULES, "", "no trained component has beaten the rules on dev"))
                continue
            url = reverse("admin:annotations_trainedmodel_change", args=[component.model_id])
            rows.append((language, name, component.model.version, url, component.decision))
    return format_html(
        '<table class="wb-active-pipeline"><thead><tr><th>language</th><th>component</th><th>runs</th>'
        "<th>why</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (language, name, format_html('<a href="{}">{}</a>', url, runs) if url else runs, why)
                for language, name, runs, url, why in rows
            ),
        ),
    )


class ComponentFigures:
    """The two F1 columns of a component: its own on dev, and what it was compared with."""

    @admin.display(description="dev F1")
    def dev_f1(self, obj: ModelComponent) -> str:
        value = f1_of(obj.dev)
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description="compared with (F1)")
    def baseline_f1(self, obj: ModelComponent) -> str:
        value = f1_of(obj.baseline)
        return "—" if value is None else f"{value:.3f}"


class ModelComponentInline(ComponentFigures, ReadOnlyInline):
    model = ModelComponent
    fields = ("name", "status", "dev_f1", "baseline_f1", "compared_with", "examples", "decision")
    readonly_fields = fields
    show_change_link = False


@admin.register(TrainedModel)
class TrainedModelAdmin(ReadOnlyAdmin):
    read_roles = CAN_READ_ALL_LAYERS
    list_display = ("version", "project", "language", "status", "components_text", "dataset", "seconds", "created_at")
    list_filter = ("status", "language", ("project", ProjectFilter))
    search_fields = ("version",)
    list_select_related = ("project", "dataset")
    list_defer = ("project__label_schema", "project__guidelines", "project__description")
    inlines = (ModelComponentInline,)
    actions = ("activate_components", "roll_back_components")
    fieldsets = (
        (None, {"fields": ("version", "project", "language", "status", "base_model", "job")}),
        ("Dev F1 against the pipeline each component was compared with", {"fields": ("chart",)}),
        ("What runs now in this project", {"fields": ("active_pipeline",)}),
        (
            "Training",
            {
                "fields": (
                    "dataset",
                    "dataset_sha256",
                    "schema_version",
                    "train_articles",
                    "dev_articles",
                    "seconds",
                    "peak_memory_mb",
                    "file",
                    "sha256",
                    "size",
                    "created_by",
                    "created_at",
                )
            },
        ),
        ("Per label", {"fields": ("per_label",), "classes": ("collapse",)}),
    )
    readonly_fields = ("chart", "active_pipeline", "per_label")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainedModel]:
        return super().get_queryset(request).prefetch_related("components")

    @admin.display(description="components")
    def components_text(self, obj: TrainedModel) -> str:
        return ", ".join(f"{c.name} {c.status}" for c in obj.components.all()) or "—"

    @admin.display(description="chart")
    def chart(self, obj: TrainedModel) -> SafeString:
        return f1_chart(list(obj.components.all()))

    @admin.display(description="active pipeline")
    def active_pipeline(self, obj: TrainedModel) -> SafeString:
        return active_pipeline_html(obj.project)

    @admin.display(description="per label (dev)")
    def per_label(self, obj: TrainedModel) -> str:
        lines = []
        for component in obj.components.all():
            for label, scores in sorted((component.dev.get("per_label") or {}).items()):
                lines.append(
                    f"{component.name:10} {label:16} F1 {scores.get('f1', 0):.3f}  n={scores.get('support', 0)}"
                )
        return pre_block("\n".join(lines) or "—")

    def _managed(self, request: HttpRequest, queryset: QuerySet[TrainedModel]) -> list[TrainedModel]:
        access = access_of(request)
        allowed = []
        for model in queryset.select_related("project"):
            if access.unrestricted or access.role(model.project_id) in CAN_START_JOBS:
                allowed.append(model)
            else:
                messages.error(request, f"Only a manager of {model.project.slug} can change what runs; skipped.")
        return allowed

    @admin.action(description="Activate the selected models' trained components (overrides the gate)")
    def activate_components(self, request: HttpRequest, queryset: QuerySet[TrainedModel]) -> None:
        for model in self._managed(request, queryset):
            for component in model.components.exclude(status__in=(ModelComponent.Status.SKIPPED,)):
                if component.status != ModelComponent.Status.ACTIVE:
                    component_activate(component=component, decision=f"activated by hand by {request.user}")
                    messages.success(request, f"{model.version} {component.name} is active.")

    @admin.action(description="Roll back the selected models' active components")
    def roll_back_components(self, request: HttpRequest, queryset: QuerySet[TrainedModel]) -> None:
        for model in self._managed(request, queryset):
            for component in model.components.filter(status=ModelComponent.Status.ACTIVE):
                before = component_rollback(component=component, by=str(request.user))
                runs = before.model.version if before is not None else RULES
                messages.success(request, f"{model.version} {component.name} rolled back: {runs} runs.")


@admin.register(ModelComponent)
class ModelComponentAdmin(ComponentFigures, ReadOnlyAdmin):
    """Each component's gate record on its own, to filter across models (e.g. every active one)."""

    read_roles = CAN_READ_ALL_LAYERS
    project_path = "model__project"
    list_display = ("model", "name", "status", "dev_f1", "baseline_f1", "compared_with", "activated_at")
    list_filter = ("name", "status")
    list_select_related = ("model__project",)
    fields = (
        "model",
        "name",
        "status",
        "dev_f1",
        "baseline_f1",
        "compared_with",
        "decision",
        "labels",
        "retired_labels",
        "examples",
        "details",
        "activated_at",
        "retired_at",
    )
    readonly_fields = fields

"""The admin's Agreement page of a project: figures per label as tables and bar charts.

Managers and reviewers of the project (superusers too) see it; other members get 403, people
who are not members 404, as in the workspace. A GET only reads: it shows the cached figures and
whether they are current. When they are not (and no job is computing them), the page submits
its "Compute" form itself (a POST; a button without JavaScript), which starts computing them
(inline on small projects, a Celery job on large ones: the page then reloads itself until the job
is done, without JavaScript). "Recompute" (a POST) forces a new computation.

The charts are inline SVG drawn by the server from the same figures as the tables, each bar
with a `<title>` and its value printed beside it. Labels, names and usernames reach the page
only through Django's autoescaping or `format_html`.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from annotations.access import CAN_SEE_AGREEMENT, project_of_member
from annotations.admin.agreement_charts import Figure, chart, figure
from annotations.admin.workspace import admin_context
from annotations.agreement import EVENT_METRICS, STATUS_NOT_ENOUGH_ANNOTATORS
from annotations.models import Job, Project
from annotations.services.agreement import (
    agreement_active,
    agreement_cached,
    agreement_fingerprint,
    agreement_latest,
    agreement_newest,
    agreement_start,
)

RELOAD_SECONDS = 3
EVENT_METRIC_NAMES = {
    "trigger_identification": "Trigger identification",
    "trigger_classification": "Trigger classification",
    "argument_identification": "Argument identification",
    "argument_classification": "Argument classification",
}


def _schema_labels(entries: Any) -> dict[str, str]:
    """code → name (or description) of a schema list, in schema order."""
    out: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            out[entry["code"]] = str(entry.get("name") or "")
    return out


def _labels(schema_labels: dict[str, str], *seen: Any) -> list[tuple[str, str]]:
    """The schema's labels in its order, then any label of the figures the schema no longer has."""
    codes = list(schema_labels)
    for keys in seen:
        codes += sorted(code for code in (keys or {}) if code not in schema_labels and code not in codes)
    return [(code, schema_labels.get(code, "")) for code in codes]


# --- Sections -------------------------------------------------------------------------------


class MentionRow(TypedDict):
    """An entity label's mention figures, exact and overlapping spans."""

    code: str
    name: str
    precision: Figure
    recall: Figure
    f1: Figure
    overlap_f1: Figure


class EventRow(TypedDict):
    """An event type's F1 of the three event metrics."""

    code: str
    empty: bool  # no such event in any compared layer: folded away behind "show all"
    trigger_classification: Figure
    argument_identification: Figure
    argument_classification: Figure


class LabelRow(TypedDict):
    """A label's agreement in a categorical section (stance, mention labels)."""

    code: str
    name: str
    agreement: Figure
    values: Any
    confusions: list[tuple[str, Any]]


def mention_section(result: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    mentions = result.get("mentions") or {}
    exact, overlap = mentions.get("exact") or {}, mentions.get("overlap") or {}
    rows: list[MentionRow] = []
    for code, name in _labels(
        _schema_labels(schema.get("entity_types")), exact.get("by_label"), overlap.get("by_label")
    ):
        label_exact = (exact.get("by_label") or {}).get(code)
        label_overlap = (overlap.get("by_label") or {}).get(code)
        why = f"no {code} mention in any layer compared" if label_exact is None else "no mention to compare"
        rows.append(
            {
                "code": code,
                "name": name,
                "precision": figure(label_exact, "precision", f"the compared layers have no {code} mention"),
                "recall": figure(label_exact, "recall", f"the reference layers have no {code} mention"),
                "f1": figure(label_exact, "f1", why),
                "overlap_f1": figure(label_overlap, "f1", why),
            }
        )
    return {
        "rows": rows,
        "exact": [figure(exact, key, "no mention to compare") for key in ("precision", "recall", "f1")],
        "overlap": [figure(overlap, key, "no mention to compare") for key in ("precision", "recall", "f1")],
        "chart": chart(
            "Mentions: F1 per entity label",
            ["exact F1", "overlap F1"],
            [(row["code"], [row["f1"], row["overlap_f1"]]) for row in rows],
        ),
    }


def event_section(result: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    events = result.get("events") or {}
    by_type = events.get("by_type") or {}
    rows: list[EventRow] = []
    for code, _ in _labels(_schema_labels(schema.get("event_types")), by_type):
        figures = by_type.get(code)
        why = f"no {code} event in any layer compared" if figures is None else "nothing to compare"
        rows.append(
            {
                "code": code,
                "empty": figures is None,  # no such event in any layer: folded away behind "show all"
                "trigger_classification": figure((figures or {}).get("trigger_classification"), "f1", why),
                "argument_identification": figure(
                    (figures or {}).get("argument_identification"), "f1", f"no {code} event argument to compare"
                ),
                "argument_classification": figure(
                    (figures or {}).get("argument_classification"), "f1", f"no {code} event argument to compare"
                ),
            }
        )
    overall = [
        {
            "name": EVENT_METRIC_NAMES[metric],
            "figures": [
                figure(events.get(metric), key, "no event to compare") for key in ("precision", "recall", "f1")
            ],
        }
        for metric in EVENT_METRICS
    ]
    return {
        "rows": rows,
        "empty_count": sum(row["empty"] for row in rows),
        "overall": overall,
        "chart": chart(
            "Events: F1 per event type",
            ["trigger classification", "argument identification", "argument classification"],
            [
                (
                    row["code"],
                    [row["trigger_classification"], row["argument_identification"], row["argument_classification"]],
                )
                for row in rows
            ],
        ),
    }


def categorical_section(section: Any, schema_labels: dict[str, str], what: str, title: str) -> dict[str, Any]:
    section = section if isinstance(section, dict) else {}
    by_label = section.get("by_label") or {}
    rows: list[LabelRow] = []
    for code, name in _labels(schema_labels, by_label):
        figures = by_label.get(code)
        confusions = sorted(((figures or {}).get("confused_with") or {}).items())
        rows.append(
            {
                "code": code,
                "name": name,
                "agreement": figure(figures, "agreement", f"no {what} labelled {code} by two annotators"),
                "values": (figures or {}).get("values"),
                "confusions": confusions,
            }
        )
    why = f"no {what} coded by two annotators"
    return {
        "rows": rows,
        "kappa": figure(section, "kappa", why),
        "alpha": figure(section, "alpha", why),
        "observed_agreement": figure(section, "observed_agreement", why),
        "items": section.get("items", 0),
        "chart": chart(
            title,
            ["agreement"],
            [(row["code"], [row["agreement"]]) for row in rows],
        ),
    }


def gold_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for username, figures in sorted((result.get("vs_gold") or {}).items()):
        articles = figures.get("articles", 0)
        why = "no gold layer on this annotator's articles" if not articles else "nothing to compare"
        mentions = figures.get("mentions") or {}
        events = figures.get("events") or {}
        rows.append(
            {
                "username": username,
                "articles": articles,
                "exact_f1": figure(mentions.get("exact"), "f1", why),
                "overlap_f1": figure(mentions.get("overlap"), "f1", why),
                "events": [figure(events.get(metric), "f1", why) for metric in EVENT_METRICS],
                "stance_accuracy": figure(figures.get("stance"), "accuracy", why),
            }
        )
    return rows


def pair_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    def by_pair(items: Any) -> dict[tuple[str, ...], dict[str, Any]]:
        return {tuple(item["annotators"]): item for item in items or [] if isinstance(item, dict)}

    mentions = by_pair((result.get("mentions") or {}).get("pairs"))
    events = by_pair((result.get("events") or {}).get("pairs"))
    stance = by_pair((result.get("stance") or {}).get("pairs"))
    labels = by_pair((result.get("mention_labels") or {}).get("pairs"))
    rows = []
    for pair in sorted(mentions):
        m, e = mentions[pair], events.get(pair, {})
        rows.append(
            {
                "annotators": pair,
                "articles": m.get("articles", 0),
                "exact_f1": figure(m.get("exact"), "f1", "no mention in either layer"),
                "overlap_f1": figure(m.get("overlap"), "f1", "no mention in either layer"),
                "events": [figure(e.get(metric), "f1", "no event in either layer") for metric in EVENT_METRICS],
                "stance_kappa": figure(stance.get(pair), "kappa", "no stance unit coded by both"),
                "label_kappa": figure(labels.get(pair), "kappa", "no mention span labelled by both"),
            }
        )
    return rows


def figures_context(result: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "mentions": mention_section(result, schema),
        "events": event_section(result, schema),
        "stance": categorical_section(
            result.get("stance"), _schema_labels(schema.get("stance_labels")), "stance", "Stance: agreement per label"
        ),
        "mention_labels": categorical_section(
            result.get("mention_labels"),
            _schema_labels(schema.get("entity_types")),
            "mention span",
            "Mention labels (same span): agreement per label",
        ),
        "gold": gold_rows(result),
        "pairs": pair_rows(result),
        "event_metric_names": [EVENT_METRIC_NAMES[metric] for metric in EVENT_METRICS],
    }


# --- View -----------------------------------------------------------------------------------


def agreement_project(request: HttpRequest, slug: str) -> Project:
    project, role = project_of_member(request, slug)
    if role not in CAN_SEE_AGREEMENT:
        raise PermissionDenied(f"As {role} in {project.slug} you can't see agreement figures (managers, reviewers).")
    return project


def agreement_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = agreement_project(request, slug)
    if request.method == "POST":
        return agreement_compute(request, project)
    # A GET only reads: the newest figures, whether they are current, the job computing them.
    fingerprint = agreement_fingerprint(project)
    cached = agreement_cached(project, fingerprint)
    active = None if cached is not None else agreement_active(project)
    job = cached or active or agreement_newest(project)
    # A computation of these very layers that failed is not retried by itself: "Recompute" does.
    failed = job is not None and job.status == Job.Status.FAILED and job.params.get("fingerprint") == fingerprint
    shown = cached or agreement_latest(project)
    result = shown.result if shown is not None else None
    context = admin_context(
        request,
        f"Agreement — {project.name}",
        project=project,
        job=job,
        shown=shown,
        fresh=cached is not None,
        failed=failed,
        stale=cached is None and active is None and not failed,
        computing=active is not None,
        progress_percent=int(job.progress * 100) if job is not None else 0,
        reload_seconds=RELOAD_SECONDS,
        result=result,
        not_enough=result is not None and result.get("status") == STATUS_NOT_ENOUGH_ANNOTATORS,
        figures=figures_context(result, project.label_schema or {}) if result else None,
        # The API's job page: reviewers have no model permissions for the admin's Job pages.
        job_url=reverse("api:job-detail", kwargs={"slug": project.slug, "pk": job.pk}) if job is not None else None,
        is_nav_sidebar_enabled=False,  # the tables need the width
    )
    return TemplateResponse(request, "admin/workspace/agreement.html", context)


def agreement_compute(request: HttpRequest, project: Project) -> HttpResponseRedirect:
    """Start computing: "Compute" (compute=stale, what the page submits when its figures are out of
    date) reuses current figures or a job already computing them; "Recompute" forces a new job."""
    force = request.POST.get("compute") != "stale"
    job = agreement_start(project=project, user=request.user, force=force)
    if job.status == Job.Status.FAILED:
        messages.error(request, f"The agreement job #{job.pk} failed: {job.error}")
    elif force and job.status == Job.Status.SUCCEEDED:
        messages.success(request, f"Agreement figures recomputed (job #{job.pk}).")
    elif force:
        messages.info(request, f"Computing the agreement figures: job #{job.pk}.")
    return HttpResponseRedirect(reverse("admin:workspace_agreement", args=[project.slug]))


def urls(site: AdminSite) -> list[URLPattern]:
    """The Agreement page's admin URL (name admin:workspace_agreement)."""
    return [path("workspace/<slug:slug>/agreement/", site.admin_view(agreement_view), name="workspace_agreement")]

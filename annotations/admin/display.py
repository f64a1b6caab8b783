"""How the admin shows values: links, preformatted blocks, durations, progress bars, schema
summaries. Every value goes through `format_html` / `format_html_join`, never `mark_safe`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from annotations.models import (
    Event,
    Job,
    Stance,
)

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def admin_link(obj: models.Model | None, text: object = None) -> str:
    """A link to an object's admin change (or view) page, its text escaped."""
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def pre_block(value: str) -> str:
    if not value:
        return "—"
    return format_html('<pre class="wb-pre">{}</pre>', value)


def format_duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def counts_summary(counts: Any) -> str:
    if not counts or not isinstance(counts, dict):
        return "—"
    return format_html_join(", ", "{}: {}", sorted((str(k), v) for k, v in counts.items()))


def progress_bar(done: int, total: int, status: str) -> str:
    """An HTML <progress> with "done / total · percent" beside it."""
    if not total:
        state = "nothing to do" if status == Job.Status.SUCCEEDED else "—"
        return format_html('<span class="wb-progress wb-progress-empty">{}</span>', state)
    percent = done * 100 // total  # floor: 100% only when everything is done
    return format_html(
        '<span class="wb-progress"><progress value="{}" max="{}">{}%</progress> '
        '<span class="wb-progress-text">{} / {} · {}%</span></span>',
        done,
        total,
        percent,
        done,
        total,
        percent,
    )


def _role_cardinality(role: dict[str, Any]) -> str:
    low = role.get("min", 0)
    high = role.get("max")
    return f"{low}..{'n' if high is None else high}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def render_schema_summary(document: Any) -> str:
    """Entity types with colour swatches, event types with roles, realis, contexts, stance labels."""
    if not isinstance(document, dict):
        return format_html('<p class="wb-muted">{}</p>', "The schema is not a JSON object.")
    entity_rows = format_html_join(
        "",
        '<tr><td><span class="wb-swatch"{}></span></td><td><code>{}</code></td><td>{}</td>'
        "<td><kbd>{}</kbd></td><td>{}</td></tr>",
        (
            (
                format_html(' style="background-color: {}"', e["color"])
                if isinstance(e.get("color"), str) and COLOUR.match(e["color"])
                else "",
                e.get("code", ""),
                e.get("name", ""),
                e.get("hotkey", ""),
                e.get("description", ""),
            )
            for e in _as_list(document.get("entity_types"))
            if isinstance(e, dict)
        ),
    )
    event_rows = format_html_join(
        "",
        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                e.get("code", ""),
                format_html(' <span class="wb-badge">{}</span>', "extension") if e.get("extension") else "",
                format_html_join(
                    "",
                    "<div><strong>{}</strong> {}: {}</div>",
                    (
                        (r.get("name", ""), _role_cardinality(r), ", ".join(map(str, _as_list(r.get("entity_types")))))
                        for r in _as_list(e.get("roles"))
                        if isinstance(r, dict)
                    ),
                ),
                ", ".join(map(str, _as_list(e.get("modes")))) or "—",
                e.get("description", ""),
            )
            for e in _as_list(document.get("event_types"))
            if isinstance(e, dict)
        ),
    )
    stance_labels = ", ".join(
        str(s.get("code", "")) for s in _as_list(document.get("stance_labels")) if isinstance(s, dict)
    )
    return format_html(
        '<div class="wb-schema">'
        "<h4>Entity types ({})</h4>"
        '<table class="wb-schema-table"><thead><tr><th>Colour</th><th>Code</th><th>Name</th><th>Hotkey</th>'
        "<th>Description</th></tr></thead><tbody>{}</tbody></table>"
        "<h4>Event types ({})</h4>"
        '<table class="wb-schema-table"><thead><tr><th>Code</th><th>Roles</th><th>Modes</th>'
        "<th>Description</th></tr></thead><tbody>{}</tbody></table>"
        "<dl><dt>Realis</dt><dd>{}</dd><dt>Contexts</dt><dd>{}</dd><dt>Stance labels</dt><dd>{}</dd></dl>"
        "</div>",
        len(_as_list(document.get("entity_types"))),
        entity_rows,
        len(_as_list(document.get("event_types"))),
        event_rows,
        ", ".join(map(str, _as_list(document.get("realis")))) or "—",
        ", ".join(map(str, _as_list(document.get("contexts")))) or "—",
        stance_labels or "—",
    )


def argument_summary(event: Event) -> str:
    """Role: quoted mention, one per line; expects `arguments__mention` to be prefetched."""
    arguments = event.arguments.all()
    if not arguments:
        return "—"
    return format_html_join("", "<div>{}: {}</div>", ((a.role, a.mention.text) for a in arguments))


def stance_holder(obj: Stance) -> str:
    holder = obj.holder  # no query when there is none
    return holder.text if holder is not None else "author / outlet"


def stance_target(obj: Stance) -> str:
    target = obj.target  # no query when there is none
    if target is not None:
        return target.text
    return str(obj.target_actor) if obj.target_actor_id else "—"


def job_duration(job: Job) -> str:
    if job.started_at is None:
        return "—"
    if job.finished_at is None:
        return f"{format_duration(timezone.now() - job.started_at)} so far"
    return format_duration(job.finished_at - job.started_at)

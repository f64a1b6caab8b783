"""The admin action "Assign to annotators (overlap k)": a page to confirm k, then the assignment service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from annotations.access import (
    MANAGER,
    role_in,
)
from annotations.admin.workspace import admin_context
from annotations.models import Article, Layer, Project
from annotations.selectors import project_annotators
from annotations.services.assignment import articles_assign


class AssignForm(forms.Form):
    overlap = forms.IntegerField(
        min_value=1,
        required=False,
        label="Overlap k",
        help_text="Annotators per article. Leave empty to use each project's own overlap.",
    )


def assign_action(request: HttpRequest, articles: QuerySet[Article], what: str) -> TemplateResponse | None:
    """The action's two steps: a page to confirm k (with each project's annotators and load), then assign.

    Only managers of a project assign its articles; the others are reported and skipped.
    """
    by_project: dict[int, list[Article]] = {}
    for article in articles.only("pk", "project_id").order_by("pk"):
        by_project.setdefault(article.project_id, []).append(article)
    projects = list(Project.objects.filter(pk__in=by_project).order_by("slug"))
    allowed = [p for p in projects if role_in(request, p) == MANAGER]
    for project in projects:
        if project not in allowed:
            messages.error(request, f"Only a manager of {project.slug} can assign its articles; skipped.")
    if not allowed:
        return None

    form = AssignForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        for project in allowed:
            try:
                result = articles_assign(
                    project=project, articles=by_project[project.pk], overlap=form.cleaned_data["overlap"]
                )
            except ValidationError as exc:
                problems = "; ".join(f"{field}: {', '.join(m)}" for field, m in exc.message_dict.items())
                messages.error(request, f"{project.slug}: nothing assigned — {problems}")
            else:
                level = messages.WARNING if result.short else messages.SUCCESS
                messages.add_message(request, level, result.summary())
        return None

    summaries = []
    for project in allowed:
        load = dict(
            Layer.objects.filter(article__project=project, kind=Layer.Kind.ANNOTATOR)
            .values_list("annotator__username")
            .annotate(n=Count("pk"))
        )
        annotators = [
            (user.get_username(), load.get(user.get_username(), 0)) for user in project_annotators(project=project)
        ]
        summaries.append({"project": project, "articles": len(by_project[project.pk]), "annotators": annotators})
    context = admin_context(
        request,
        "Assign to annotators (overlap k)",
        form=form,
        summaries=summaries,
        what=what,
        selected=request.POST.getlist(ACTION_CHECKBOX_NAME),
        action=request.POST.get("action", ""),
        select_across=request.POST.get("select_across", "0"),
    )
    return TemplateResponse(request, "admin/workspace/assign.html", context)

"""The change log (`Change`): every write to a layer, read-only, for the managers of its project."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from annotations.access import MANAGER
from annotations.admin.base import ReadOnlyAdmin, access_of
from annotations.admin.display import pre_block
from annotations.admin.filters import ProjectFilter
from annotations.models import Change


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    """Append-only: nobody adds, changes or deletes a change here (deleting a layer takes its log)."""

    list_display = ("id", "created_at", "user", "path", "action", "item_kind", "item_id", "layer", "layer_version")
    list_filter = ("path", "action", "item_kind", ("article__project", ProjectFilter))
    search_fields = ("user__username",)
    list_select_related = ("user", "layer__annotator", "layer__article")
    date_hierarchy = "created_at"
    project_path = "article__project"
    read_roles = (MANAGER,)
    fields = (
        "created_at", "user", "path", "action", "item_kind", "item_id", "layer", "article", "layer_version",
        "undoes", "before_block", "after_block",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="before")
    def before_block(self, change: Change) -> Any:
        return pre_block(json.dumps(change.before, indent=1, ensure_ascii=False) if change.before else "")

    @admin.display(description="after")
    def after_block(self, change: Change) -> Any:
        return pre_block(json.dumps(change.after, indent=1, ensure_ascii=False) if change.after else "")

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        # Only along with the layer, article or project it belongs to (superusers: as they wish).
        if obj is None:
            return False
        access = access_of(request)
        return access.unrestricted or access.goes_with_deleted_row(obj)

"""The REST API's adapter over `annotations.access`, where the role rules live.

Views call these before any service: they take the DRF request, ask `annotations.access`, and turn
its denials into DRF's 403 (with the reason) and non-members into 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied as DeniedByRules
from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from annotations import access
from annotations.access import (
    ANNOTATOR,
    CAN_ANNOTATE,
    CAN_EXPORT,
    CAN_IMPORT,
    CAN_READ_ALL_LAYERS,
    CAN_START_JOBS,
    CAN_WRITE_GOLD,
    CONSUMER,
    MANAGER,
    REVIEWER,
    annotators_readable,
    authenticated_user,
    role_in,
)
from annotations.models import Layer, Project

__all__ = [
    "ANNOTATOR",
    "CAN_ANNOTATE",
    "CAN_EXPORT",
    "CAN_IMPORT",
    "CAN_READ_ALL_LAYERS",
    "CAN_START_JOBS",
    "CAN_WRITE_GOLD",
    "CONSUMER",
    "MANAGER",
    "REVIEWER",
    "annotators_readable",
    "authenticated_user",
    "check_layer_read",
    "check_layer_write",
    "layers_readable",
    "project_for",
    "projects_visible",
    "require_role",
    "role_in",
]

T = TypeVar("T")


def _as_drf(call: Callable[[], T]) -> T:
    """Run a rule; its denial becomes DRF's 403 with the same message."""
    try:
        return call()
    except DeniedByRules as exc:
        raise PermissionDenied(str(exc)) from exc


def projects_visible(request: Request) -> QuerySet[Project]:
    return access.projects_visible(request.user)


def project_for(request: Request, slug: str) -> Project:
    """The project a URL names, if the user is a member (else 404, as if it didn't exist)."""
    project, _ = access.project_of_member(request, slug)
    return project


def require_role(request: Request, project: Project, roles: tuple[str, ...], action: str) -> str:
    return _as_drf(lambda: access.require_role(role_in(request, project), project, roles, action))


def layers_readable(request: Request, project: Project, layers: QuerySet[Layer]) -> QuerySet[Layer]:
    """The layers of `layers` this user may read: annotators see their own and the machine layers."""
    return access.layers_readable(request.user, role_in(request, project), layers)


def check_layer_read(request: Request, project: Project, layer: Layer) -> None:
    _as_drf(lambda: access.check_layer_read(request.user, role_in(request, project), project, layer))


def check_layer_write(request: Request, project: Project, layer: Layer) -> None:
    _as_drf(lambda: access.check_layer_write(request.user, role_in(request, project), project, layer))

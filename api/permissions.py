"""Who may do what in a project. Views call these before any service.

The role of a user in a project is looked up once per request and cached on it. Rules:

| action                                   | manager | reviewer | annotator      | consumer |
|------------------------------------------|---------|----------|----------------|----------|
| read project, articles, jobs             | yes     | yes      | yes            | yes      |
| read annotator layers                    | all     | all      | own only (403) | all      |
| read gold layers                         | yes     | yes      | no (403)       | yes      |
| read machine layers (suggestions)        | yes     | yes      | yes            | yes      |
| write an annotator layer                 | any     | own      | own            | no (403) |
| write the gold layer                     | yes     | yes      | no (403)       | no (403) |
| import articles, start jobs              | yes     | no       | no             | no       |
| export, list / download / create dataset versions | yes | yes | no (403)       | yes      |

Machine layers are written by pre-annotation only. Consumers (ML clients, usually with a token)
are read-only on annotations but may snapshot a dataset version: that stores an export, it
changes no annotation. Someone who is not a member gets 404 for the project and everything in
it; superusers are managers of every project.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from annotations.models import Layer, Membership, Project

MANAGER = Membership.Role.MANAGER
REVIEWER = Membership.Role.REVIEWER
ANNOTATOR = Membership.Role.ANNOTATOR
CONSUMER = Membership.Role.CONSUMER

# Who may do the project-wide actions.
CAN_IMPORT = (MANAGER,)
CAN_START_JOBS = (MANAGER,)
CAN_EXPORT = (MANAGER, REVIEWER, CONSUMER)
CAN_WRITE_GOLD = (MANAGER, REVIEWER)
CAN_READ_ALL_LAYERS = (MANAGER, REVIEWER, CONSUMER)
CAN_ANNOTATE = (MANAGER, REVIEWER, ANNOTATOR)

_CACHE_ATTRIBUTE = "_workbench_roles"


def role_in(request: Request, project: Project) -> str | None:
    """The user's role in the project (superusers: manager), or None; cached on the request."""
    cache: dict[int, str | None] | None = getattr(request, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTRIBUTE, cache)
    if project.pk not in cache:
        user = request.user
        if not user.is_authenticated:
            cache[project.pk] = None
        elif user.is_superuser:
            cache[project.pk] = MANAGER
        else:
            cache[project.pk] = (
                Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
            )
    return cache[project.pk]


def projects_visible(request: Request) -> QuerySet[Project]:
    if request.user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=request.user)


def project_for(request: Request, slug: str) -> Project:
    """The project a URL names, if the user is a member (else 404, as if it didn't exist)."""
    project = Project.objects.filter(slug=slug).first()
    if project is None or role_in(request, project) is None:
        raise Http404(f"No project {slug!r}.")
    return project


def require_role(request: Request, project: Project, roles: tuple[str, ...], action: str) -> str:
    role = role_in(request, project)
    if role not in roles:
        allowed = ", ".join(roles)
        raise PermissionDenied(f"{action} needs the role {allowed} in project {project.slug!r}; you are {role}.")
    assert role is not None
    return role


def layers_readable(request: Request, project: Project, layers: QuerySet[Layer]) -> QuerySet[Layer]:
    """The layers of `layers` this user may read: annotators see their own and the machine layers."""
    if role_in(request, project) in CAN_READ_ALL_LAYERS:
        return layers
    return layers.filter(Q(kind=Layer.Kind.MACHINE) | Q(kind=Layer.Kind.ANNOTATOR, annotator=request.user))


def check_layer_read(request: Request, project: Project, layer: Layer) -> None:
    role = role_in(request, project)
    if role in CAN_READ_ALL_LAYERS or layer.kind == Layer.Kind.MACHINE:
        return
    if layer.kind == Layer.Kind.ANNOTATOR and layer.annotator_id == request.user.pk:
        return
    whose = "another annotator's layer" if layer.kind == Layer.Kind.ANNOTATOR else "the gold layer"
    raise PermissionDenied(f"As {role} in project {project.slug!r} you can't read {whose}.")


def check_layer_write(request: Request, project: Project, layer: Layer) -> None:
    role = role_in(request, project)
    if layer.kind == Layer.Kind.MACHINE:
        raise PermissionDenied("Machine layers are written by pre-annotation only; accept suggestions instead.")
    if role == MANAGER:
        return
    if layer.kind == Layer.Kind.GOLD and role in CAN_WRITE_GOLD:
        return
    if layer.kind == Layer.Kind.ANNOTATOR and role in CAN_ANNOTATE and layer.annotator_id == request.user.pk:
        return
    if role == CONSUMER:
        raise PermissionDenied(f"Consumers are read-only in project {project.slug!r}: annotations can't be written.")
    whose = "another annotator's layer" if layer.kind == Layer.Kind.ANNOTATOR else "the gold layer"
    raise PermissionDenied(f"As {role} in project {project.slug!r} you can't write {whose}.")

"""Who may do what in a project: the one home of the role rules.

Both front doors ask here: the REST API through `api.permissions` (a thin DRF adapter), the admin
through its per-request `Access` and the workspace pages through `role_in`. The role of a user in a
project is looked up once per request and cached on it. Rules:

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
| see the agreement page                   | yes     | yes      | no             | no       |

Machine layers are written by pre-annotation only. Consumers (ML clients, usually with a token)
are read-only on annotations but may snapshot a dataset version: that stores an export, it
changes no annotation. Someone who is not a member gets 404 for the project and everything in
it; superusers are managers of every project.

Denials raise Django's `PermissionDenied` with a message saying why; each front door turns it
into its own 403.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from annotations.models import Layer, Membership, Project

MANAGER: str = Membership.Role.MANAGER
REVIEWER: str = Membership.Role.REVIEWER
ANNOTATOR: str = Membership.Role.ANNOTATOR
CONSUMER: str = Membership.Role.CONSUMER
ALL_ROLES: tuple[str, ...] = tuple(Membership.Role.values)

# Who may do the project-wide actions.
CAN_IMPORT = (MANAGER,)
CAN_START_JOBS = (MANAGER,)
CAN_EXPORT = (MANAGER, REVIEWER, CONSUMER)
CAN_WRITE_GOLD = (MANAGER, REVIEWER)
CAN_READ_ALL_LAYERS = (MANAGER, REVIEWER, CONSUMER)
CAN_ANNOTATE = (MANAGER, REVIEWER, ANNOTATOR)
CAN_SEE_AGREEMENT = (MANAGER, REVIEWER)
# Roles that read only their own annotator layers (and the machine ones).
OWN_LAYERS_ONLY = tuple(role for role in ALL_ROLES if role not in CAN_READ_ALL_LAYERS)

_CACHE_ATTRIBUTE = "_workbench_roles"


class LayerFacts(NamedTuple):
    """What the rules need to know about a layer: its project, kind and annotator."""

    project_id: int | None
    kind: str
    annotator_id: int | None

    @classmethod
    def of(cls, layer: Layer, project_id: int | None = None) -> LayerFacts:
        if project_id is None:
            project_id = layer.article.project_id
        return cls(project_id, layer.kind, layer.annotator_id)


# --- Roles ------------------------------------------------------------------------------------


def role_of(user: Any, project: Project) -> str | None:
    """The user's role in the project (superusers: manager), or None for non-members."""
    if user is None or not user.is_authenticated:
        return None
    if user.is_superuser:
        return MANAGER
    return Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def roles_of(user: Any) -> dict[int, str]:
    """{project id: role} of every membership of the user."""
    if user is None or not user.is_authenticated:
        return {}
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


def authenticated_user(request: HttpRequest) -> User:
    """The request's user as the user model, for views that have already required a login (the
    admin's `admin_view`, the API's `IsAuthenticated`): never anonymous there, so the denial is a
    safeguard, not a path a user can reach."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("You need to be logged in.")
    return user


def role_in(request: Any, project: Project) -> str | None:
    """`role_of` the request's user, cached on the request (an HttpRequest or a DRF Request)."""
    cache: dict[int, str | None] | None = getattr(request, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTRIBUTE, cache)
    if project.pk not in cache:
        cache[project.pk] = role_of(request.user, project)
    return cache[project.pk]


def project_of_member(request: Any, slug: str) -> tuple[Project, str]:
    """The project a URL names and the user's role in it; 404 for anyone who is not a member."""
    project = Project.objects.filter(slug=slug).first()
    role = role_in(request, project) if project is not None else None
    if project is None or role is None:
        raise Http404(f"No project {slug!r}.")
    return project, role


def require_role(role: str | None, project: Project, roles: tuple[str, ...], action: str) -> str:
    """`role` if it is one of `roles`; else PermissionDenied naming what `action` needs."""
    if role not in roles:
        allowed = ", ".join(roles)
        raise PermissionDenied(f"{action} needs the role {allowed} in project {project.slug!r}; you are {role}.")
    assert role is not None
    return role


def projects_visible(user: Any) -> QuerySet[Project]:
    """The projects the user is a member of (superusers: all)."""
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def projects_with_role(user: Any, roles: tuple[str, ...]) -> QuerySet[Project]:
    """The projects where the user holds one of `roles` (superusers: all)."""
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def has_role_somewhere(user: Any, roles: tuple[str, ...]) -> bool:
    """Whether the user holds one of `roles` in some project (superusers: yes)."""
    return bool(user.is_superuser) or Membership.objects.filter(user=user, role__in=roles).exists()


# --- Layers -----------------------------------------------------------------------------------


def _whose(layer: LayerFacts) -> str:
    return "another annotator's layer" if layer.kind == Layer.Kind.ANNOTATOR else "the gold layer"


def layer_read_denial(user: Any, role: str | None, layer: LayerFacts, where: str = "") -> str | None:
    """Why the user may not read the layer, or None when they may (`where`: " in project 'x'")."""
    if role in CAN_READ_ALL_LAYERS or (role is not None and layer.kind == Layer.Kind.MACHINE):
        return None
    if role is not None and layer.kind == Layer.Kind.ANNOTATOR and layer.annotator_id == user.pk:
        return None
    return f"As {role}{where} you can't read {_whose(layer)}."


def layer_write_denial(user: Any, role: str | None, layer: LayerFacts, where: str = "") -> str | None:
    """Why the user may not write the layer, or None when they may (`where`: " in project 'x'")."""
    if layer.kind == Layer.Kind.MACHINE:
        return "Machine layers are written by pre-annotation only; accept suggestions instead."
    if role == MANAGER:
        return None
    if layer.kind == Layer.Kind.GOLD and role in CAN_WRITE_GOLD:
        return None
    if layer.kind == Layer.Kind.ANNOTATOR and role in CAN_ANNOTATE and layer.annotator_id == user.pk:
        return None
    if role == CONSUMER:
        return f"Consumers are read-only{where}: annotations can't be written."
    return f"As {role}{where} you can't write {_whose(layer)}."


def may_read_layer(user: Any, role: str | None, layer: LayerFacts) -> bool:
    return layer_read_denial(user, role, layer) is None


def may_write_layer(user: Any, role: str | None, layer: LayerFacts) -> bool:
    return layer_write_denial(user, role, layer) is None


def check_layer_read(user: Any, role: str | None, project: Project, layer: Layer) -> None:
    denial = layer_read_denial(user, role, LayerFacts.of(layer, project.pk), f" in project {project.slug!r}")
    if denial is not None:
        raise PermissionDenied(denial)


def check_layer_write(user: Any, role: str | None, project: Project, layer: Layer) -> None:
    denial = layer_write_denial(user, role, LayerFacts.of(layer, project.pk), f" in project {project.slug!r}")
    if denial is not None:
        raise PermissionDenied(denial)


def check_layer_open(user: Any, role: str, project: Project, layer: Layer) -> None:
    """Whether the user may open an annotator layer on the annotate page: their own (managers: any)."""
    if layer.annotator_id != user.pk and role != MANAGER:
        raise PermissionDenied("This is another annotator's layer: you can open only your own.")
    if role not in CAN_ANNOTATE:
        raise PermissionDenied(f"As {role} in {project.slug} you can't annotate.")


def layers_readable(user: Any, role: str | None, layers: QuerySet[Layer]) -> QuerySet[Layer]:
    """The layers of `layers` (of one project) this user may read: annotators see their own and the machine ones."""
    if role in CAN_READ_ALL_LAYERS:
        return layers
    return layers.filter(Q(kind=Layer.Kind.MACHINE) | Q(kind=Layer.Kind.ANNOTATOR, annotator=user))


def annotators_readable(user: Any, role: str | None, project: Project) -> QuerySet[User]:
    """The users whose annotator layers in the project this user may read: anyone who is a member or
    has an annotator layer there (roles that read all layers), else only the user. A filter by
    annotator looks names up here only, so an unknown name and one you may not read answer alike."""
    users = User.objects.all()
    if role in CAN_READ_ALL_LAYERS:
        layers = Layer.objects.filter(article__project=project, kind=Layer.Kind.ANNOTATOR)
        return users.filter(Q(memberships__project=project) | Q(pk__in=layers.values("annotator_id"))).distinct()
    if role is None:
        return users.none()
    return users.filter(pk=user.pk)


def layer_scope(user: Any, roles: dict[int, str], prefix: str = "") -> Q:
    """The layers, across the user's projects, whose contents the user may read (`roles` as `roles_of`).

    `prefix` leads from the row being filtered to its layer (`"layer__"` for a mention).
    """
    read_all = [project_id for project_id, role in roles.items() if role in CAN_READ_ALL_LAYERS]
    own_only = [project_id for project_id, role in roles.items() if role in OWN_LAYERS_ONLY]
    scope = Q(**{f"{prefix}article__project__in": read_all})
    if own_only:
        own = Q(**{f"{prefix}kind": Layer.Kind.MACHINE}) | Q(
            **{f"{prefix}kind": Layer.Kind.ANNOTATOR, f"{prefix}annotator": user}
        )
        scope |= Q(**{f"{prefix}article__project__in": own_only}) & own
    return scope

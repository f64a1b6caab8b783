"""The admin for staff who are not superusers: each sees the rows of their own projects and
changes what their role allows (the table in `annotations.admin`'s docstring).

Two projects, "alpha" (A) and "beta" (B), shaped alike: one article with four layers (two
annotators', gold, machine), each holding two mentions, an event with two arguments and a stance;
decisions on the annotators' layers; a finished job with a chunk; a dataset version. The viewers
hold every model permission of the workbench (a "workbench staff" group), so what they see is
decided by their project role alone: a manager, reviewer, annotator and consumer of A, a manager
of B, and an outsider who is in no project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotations.admin.base import NOT_YOUR_PROJECT
from annotations.models import (
    Actor,
    Article,
    DatasetVersion,
    Event,
    EventArgument,
    Job,
    JobChunk,
    Layer,
    Membership,
    Mention,
    Project,
    Stance,
    SuggestionDecision,
)
from annotations.services.items import event_create, mention_create, stance_create
from tests.factories import ActorFactory, ArticleFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.test_admin import change_url, changelist_url

pytestmark = pytest.mark.django_db

MANAGER, REVIEWER, ANNOTATOR, CONSUMER = (
    Membership.Role.MANAGER,
    Membership.Role.REVIEWER,
    Membership.Role.ANNOTATOR,
    Membership.Role.CONSUMER,
)
VIEWERS = ("a-manager", "a-reviewer", "a-ann1", "a-consumer", "b-manager", "outsider")
LAYER_KEYS = ("ann1", "ann2", "gold", "machine")
A_LAYERS = [f"A-{key}" for key in LAYER_KEYS]
B_LAYERS = [f"B-{key}" for key in LAYER_KEYS]
# The layers each viewer reads (None: no page at all, 403). Annotators: their own and the machine's.
LAYERS_SEEN: dict[str, list[str] | None] = {
    "root": A_LAYERS + B_LAYERS,
    "a-manager": A_LAYERS,
    "a-reviewer": A_LAYERS,
    "a-ann1": ["A-ann1", "A-machine"],
    "a-consumer": A_LAYERS,
    "b-manager": B_LAYERS,
    "outsider": None,
}
PROJECTS_SEEN: dict[str, list[str] | None] = {
    "root": ["A", "B"],
    "a-manager": ["A"],
    "a-reviewer": ["A"],
    "a-ann1": ["A"],
    "a-consumer": ["A"],
    "b-manager": ["B"],
    "outsider": None,
}
MEMBERS = {
    "A": {
        "a-manager": MANAGER,
        "a-reviewer": REVIEWER,
        "a-ann1": ANNOTATOR,
        "a-ann2": ANNOTATOR,
        "a-consumer": CONSUMER,
    },
    "B": {"b-manager": MANAGER, "b-ann1": ANNOTATOR, "b-ann2": ANNOTATOR},
}


@dataclass
class World:
    projects: dict[str, Project]
    users: dict[str, Any]
    layers: dict[str, Layer]
    actor: Actor
    keys: dict[int, str] = field(default_factory=dict)  # layer id → "A-ann1", …

    def client(self, username: str) -> Client:
        client = Client()
        client.force_login(self.users[username])
        return client

    def project_key(self, project_id: int | None) -> str:
        return {p.pk: key for key, p in self.projects.items()}.get(project_id, "-")  # type: ignore[arg-type]

    def key(self, row: Any) -> str:
        """Which project (A, B) or layer (A-ann1, …) a row of any admin belongs to."""
        if isinstance(row, Project):
            return self.project_key(row.pk)
        if isinstance(row, (Article, Job, DatasetVersion, Membership)):
            return self.project_key(row.project_id)
        if isinstance(row, JobChunk):
            return self.project_key(row.job.project_id)
        if isinstance(row, Layer):
            return self.keys[row.pk]
        if isinstance(row, EventArgument):
            return self.keys[row.event.layer_id]
        return self.keys[row.layer_id]

    def row(self, model: type, key: str) -> Any:
        """The first row of `model` in project or layer `key`."""
        if model is Project:
            return self.projects[key]
        if model in (Article, Job, DatasetVersion, Membership):
            return model._default_manager.filter(project=self.projects[key]).order_by("pk").first()
        if model is JobChunk:
            return JobChunk.objects.filter(job__project=self.projects[key]).first()
        layer = self.layers[key]
        if model is Layer:
            return layer
        if model is EventArgument:
            return EventArgument.objects.filter(event__layer=layer).order_by("pk").first()
        return model._default_manager.filter(layer=layer).order_by("pk").first()


def annotate(layer: Layer, event_type: str, actor: Actor) -> None:
    """Two mentions, an event with both as arguments, and a stance between them."""
    text = layer.article.text
    russia = mention_create(layer=layer, label="GPE", start=0, end=6, actor=actor)
    niger_at = text.index("Niger")
    niger = mention_create(layer=layer, label="GPE", start=niger_at, end=niger_at + 5)
    sent_at = text.index("sent")
    event_create(
        layer=layer,
        event_type=event_type,
        trigger_start=sent_at,
        trigger_end=sent_at + 4,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    stance_create(layer=layer, label="FAVOR", holder_id=russia.pk, target_id=niger.pk)


@pytest.fixture
def world(db) -> World:
    staff = Group.objects.create(name="workbench staff")
    staff.permissions.set(
        Permission.objects.filter(content_type__app_label="annotations")
        | Permission.objects.filter(codename="view_user")
    )
    users = {"root": UserFactory(username="root", is_staff=True, is_superuser=True)}
    for username in ("outsider", *MEMBERS["A"], *MEMBERS["B"]):
        users[username] = UserFactory(username=username, is_staff=True)
        users[username].groups.add(staff)
    actor = ActorFactory(name="Russia", aliases=["Russian Federation"])
    world = World(projects={}, users=users, layers={}, actor=actor)
    # A's events are AID, B's SUPPORT: the values a filter offers tell the projects apart.
    for key, slug, event_type in (("A", "alpha", "AID"), ("B", "beta", "SUPPORT")):
        project = world.projects[key] = ProjectFactory(slug=slug, name=f"Project {slug}")
        for username, role in MEMBERS[key].items():
            MembershipFactory(project=project, user=users[username], role=role)
        article = ArticleFactory(project=project, title=f"Report of {slug}")
        prefix = key.lower()
        layers = {
            "ann1": Layer(kind=Layer.Kind.ANNOTATOR, annotator=users[f"{prefix}-ann1"]),
            "ann2": Layer(kind=Layer.Kind.ANNOTATOR, annotator=users[f"{prefix}-ann2"]),
            "gold": Layer(kind=Layer.Kind.GOLD),
            "machine": Layer(kind=Layer.Kind.MACHINE, model_version="spacy-1"),
        }
        for layer_key, layer in layers.items():
            layer.article = article
            layer.save()
            world.layers[f"{key}-{layer_key}"] = layer
            world.keys[layer.pk] = f"{key}-{layer_key}"
            annotate(layer, event_type, actor)
            if layer.kind == Layer.Kind.ANNOTATOR:
                SuggestionDecision.objects.create(
                    layer=layer, user=layer.annotator, item_kind="mention", decision="accept",
                    model_version="spacy-1", suggestion_id=1, label="GPE", suggestion={}, result_id=None,
                )  # fmt: skip
        job = Job.objects.create(
            kind=Job.Kind.PREANNOTATE, project=project, status=Job.Status.SUCCEEDED, total=1, done=1
        )
        JobChunk.objects.create(job=job, index=0, article_ids=[article.pk], done=True)
        DatasetVersion.objects.create(
            project=project, name="v1", format="jsonl", sha256="0" * 64, file=f"datasets/{slug}.jsonl"
        )
    Job.objects.create(kind=Job.Kind.HEALTHCHECK, status=Job.Status.SUCCEEDED)  # of no project
    return world


def delete_url(obj: Any) -> str:
    return reverse(f"admin:annotations_{obj._meta.model_name}_delete", args=[obj.pk])


def add_url(model: type) -> str:
    return reverse(f"admin:annotations_{model._meta.model_name}_add")


def autocomplete(client: Client, model: str, field_name: str, term: str = "") -> Any:
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": "annotations", "model_name": model, "field_name": field_name, "term": term},
    )


def form_data(response: Any) -> dict[str, Any]:
    """What a browser would post back from a change form: its fields and inline forms as shown."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not None and value is not False:  # 0 is a value a browser posts
                data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for form in formset.forms:
            add(form)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Change lists ---------------------------------------------------------------------------

# Rows per layer, for the rows that live in layers.
PER_LAYER = {Layer: 1, Mention: 2, Event: 1, EventArgument: 2, Stance: 1}
PER_PROJECT = {Project: 1, Article: 1, Job: 1, JobChunk: 1}


def expected_rows(model: type, viewer: str) -> list[str] | None:
    """The keys of the rows `viewer` finds in `model`'s change list, sorted (None: 403)."""
    layers, projects = LAYERS_SEEN[viewer], PROJECTS_SEEN[viewer]
    if layers is None or projects is None:
        return None
    if model in PER_LAYER:
        return sorted(key for key in layers for _ in range(PER_LAYER[model]))
    if model is SuggestionDecision:  # only annotators' layers have decisions
        return sorted(key for key in layers if key.endswith(("ann1", "ann2")))
    if model is Membership:
        return sorted(key for key in projects for _ in MEMBERS[key])
    if model is DatasetVersion:
        return None if viewer == "a-ann1" else sorted(projects)  # exports: not for annotators
    worker_check = ["-"] if model is Job and viewer == "root" else []  # jobs of no project: superusers'
    return sorted([*projects, *worker_check])


SCOPED_MODELS = [
    Project,
    Membership,
    Article,
    Layer,
    Mention,
    Event,
    EventArgument,
    Stance,
    SuggestionDecision,
    Job,
    JobChunk,
    DatasetVersion,
]


@pytest.mark.parametrize("viewer", ["root", *VIEWERS])
@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_a_change_list_shows_only_the_rows_the_viewer_may_read(world, model, viewer):
    response = world.client(viewer).get(changelist_url(model))

    expected = expected_rows(model, viewer)
    if expected is None:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert sorted(world.key(row) for row in response.context["cl"].queryset) == expected
        assert response.context["cl"].result_count == len(expected)


def test_someone_in_no_project_sees_only_the_shared_actor_registry(world):
    client = world.client("outsider")

    index = client.get(reverse("admin:index"))
    actors = client.get(changelist_url(Actor))

    models = {model["object_name"]: model for app in index.context["app_list"] for model in app["models"]}
    assert sorted(name for name, model in models.items() if model.get("admin_url")) == ["Actor", "User"]
    # Actors are shared; whoever creates a project manages it (see below).
    assert sorted(name for name, model in models.items() if model.get("add_url")) == ["Actor", "Project"]
    assert [actor.name for actor in actors.context["cl"].queryset] == ["Russia"]


def test_model_permissions_stay_the_outer_gate(world):
    # A member without the workbench's model permissions has the workspace, not these pages.
    world.users["a-ann2"].groups.clear()
    client = world.client("a-ann2")

    assert client.get(changelist_url(Article)).status_code == 403
    assert client.get(change_url(world.row(Article, "A"))).status_code == 403
    assert client.get(reverse("admin:workspace_queue")).status_code == 200


def test_search_finds_only_rows_of_the_viewers_projects(world):
    for viewer, expected in (("a-manager", []), ("b-manager", ["Report of beta"]), ("root", ["Report of beta"])):
        response = world.client(viewer).get(changelist_url(Article), {"q": "beta"})

        assert [article.title for article in response.context["cl"].queryset] == expected, viewer


def test_a_filter_by_the_rows_own_fields_offers_only_their_values(world):
    response = world.client("a-manager").get(changelist_url(EventArgument))

    [role_filter, type_filter] = response.context["cl"].filter_specs
    assert list(role_filter.lookup_choices) == ["actor", "recipient"]
    assert list(type_filter.lookup_choices) == ["AID"]  # B's SUPPORT events are not named
    root = world.client("root").get(changelist_url(EventArgument))
    assert list(root.context["cl"].filter_specs[1].lookup_choices) == ["AID", "SUPPORT"]


@pytest.mark.parametrize(
    ("model", "path"),
    [
        (Article, "project"),
        (Membership, "project"),
        (Layer, "article__project"),
        (Mention, "layer__article__project"),
        (Event, "layer__article__project"),
        (Stance, "layer__article__project"),
        (SuggestionDecision, "layer__article__project"),
        (Job, "project"),
        (DatasetVersion, "project"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_a_project_filter_lists_only_the_viewers_projects(world, model, path):
    # (Django shows a filter with a single choice not at all: each viewer is in two projects here.)
    MembershipFactory(project=world.projects["B"], user=world.users["a-manager"], role=REVIEWER)
    gamma = ProjectFactory(slug="gamma", name="Project gamma")
    MembershipFactory(project=gamma, user=world.users["a-reviewer"], role=CONSUMER)

    def project_filter(viewer: str) -> list[str]:
        response = world.client(viewer).get(changelist_url(model))
        specs = response.context["cl"].filter_specs
        [spec] = [spec for spec in specs if getattr(spec, "field_path", None) == path]
        return [name for _, name in spec.lookup_choices]

    assert project_filter("a-manager") == ["Project alpha", "Project beta"]
    assert project_filter("a-reviewer") == ["Project alpha", "Project gamma"]
    assert project_filter("root") == ["Project alpha", "Project beta", "Project gamma"]


def test_a_raw_id_popup_lists_only_the_viewers_projects(world):
    response = world.client("a-reviewer").get(changelist_url(Project), {"_popup": "1", "_to_field": "id"})

    assert [project.slug for project in response.context["cl"].queryset] == ["alpha"]


def test_counts_in_change_lists_count_only_what_the_viewer_may_read(world):
    def column(viewer: str, model: type, name: str) -> list[int]:
        response = world.client(viewer).get(changelist_url(model))
        return [getattr(row, name) for row in response.context["cl"].result_list]

    # Layers per article: an annotator counts their own and the machine's.
    assert column("a-manager", Article, "layer_count") == [4]
    assert column("a-ann1", Article, "layer_count") == [2]
    # Mentions linked to the shared actor: one per layer, in the layers the viewer reads.
    assert column("root", Actor, "mention_count") == [8]
    assert column("a-manager", Actor, "mention_count") == [4]
    assert column("a-ann1", Actor, "mention_count") == [2]
    assert column("outsider", Actor, "mention_count") == [0]


def test_an_article_page_lists_only_the_layers_the_viewer_may_read(world):
    article = world.row(Article, "A")

    def layers(viewer: str) -> list[str]:
        response = world.client(viewer).get(change_url(article))
        [inline] = response.context["inline_admin_formsets"]
        return sorted(world.key(form.instance) for form in inline.formset.forms)

    assert layers("a-ann1") == ["A-ann1", "A-machine"]
    assert layers("a-reviewer") == A_LAYERS


def test_the_job_list_reloads_only_for_the_viewers_running_jobs(world):
    Job.objects.filter(project=world.projects["B"]).update(status=Job.Status.RUNNING)

    assert 'http-equiv="refresh"' not in world.client("a-manager").get(changelist_url(Job)).content.decode()
    assert 'http-equiv="refresh"' in world.client("b-manager").get(changelist_url(Job)).content.decode()


# --- Pages of rows the viewer may not read --------------------------------------------------


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_another_projects_row_is_missing_for_a_member_and_forbidden_to_an_outsider(world, model):
    row = world.row(model, "B" if model in PER_PROJECT or model in (Membership, DatasetVersion) else "B-ann1")

    for url in (change_url(row), delete_url(row)):
        response = world.client("a-manager").get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("admin:index")
        followed = world.client("a-manager").get(url, follow=True)
        assert any("doesn’t exist" in message for message in messages_of(followed)), url
        assert world.client("outsider").get(url).status_code == 403
        assert world.client("b-manager").get(url).status_code == 200
        assert world.client("root").get(url).status_code == 200
    assert model._default_manager.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    ("model", "layer"),
    [
        (Layer, "A-ann2"),
        (Layer, "A-gold"),
        (Mention, "A-ann2"),
        (Event, "A-gold"),
        (EventArgument, "A-gold"),
        (Stance, "A-ann2"),
        (SuggestionDecision, "A-ann2"),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else value,
)
def test_an_annotator_cannot_open_another_annotators_or_the_gold_layer(world, model, layer):
    response = world.client("a-ann1").get(change_url(world.row(model, layer)))

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert world.client("a-reviewer").get(change_url(world.row(model, layer))).status_code == 200


def test_an_annotator_reads_the_machine_suggestions(world):
    response = world.client("a-ann1").get(change_url(world.row(Mention, "A-machine")))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_annotators_have_no_dataset_versions(world):
    assert world.client("a-ann1").get(change_url(world.row(DatasetVersion, "A"))).status_code == 403
    assert world.client("a-consumer").get(change_url(world.row(DatasetVersion, "A"))).status_code == 200


# --- Projects and memberships ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "outcome"),
    [
        ("a-manager", "saved"),
        ("a-reviewer", 403),
        ("a-ann1", 403),
        ("a-consumer", 403),
        ("b-manager", "missing"),
        ("outsider", 403),
    ],
)
def test_project_settings_are_changed_by_its_managers(world, viewer, outcome):
    project = world.projects["A"]
    data = form_data(world.client("root").get(change_url(project)))
    data["name"] = "Renamed"

    response = world.client(viewer).post(change_url(project), data)

    project.refresh_from_db()
    if outcome == "saved":
        assert response.status_code == 302
        assert project.name == "Renamed"
    else:
        assert response.status_code == (302 if outcome == "missing" else outcome)
        assert project.name == "Project alpha"


@pytest.mark.parametrize("viewer", ["a-reviewer", "a-ann1", "a-consumer"])
def test_other_members_see_the_project_and_its_members_read_only(world, viewer):
    response = world.client(viewer).get(change_url(world.projects["A"]))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    [members] = response.context["inline_admin_formsets"]
    assert (members.has_add_permission, members.has_change_permission) == (False, False)
    assert sorted(form.instance.user.username for form in members.formset.forms) == sorted(MEMBERS["A"])


def test_a_manager_adds_a_member_on_the_project_page(world):
    project = world.projects["A"]
    client = world.client("a-manager")
    data = form_data(client.get(change_url(project)))
    total = int(data["memberships-TOTAL_FORMS"])
    data.update(
        {
            "memberships-TOTAL_FORMS": total + 1,
            f"memberships-{total}-user": world.users["outsider"].pk,
            f"memberships-{total}-role": ANNOTATOR,
        }
    )

    response = client.post(change_url(project), data)

    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=world.users["outsider"]).role == ANNOTATOR


def test_a_project_is_deleted_by_its_manager_with_everything_in_it(world):
    project = world.projects["A"]
    for viewer in ("a-reviewer", "a-consumer"):
        assert world.client(viewer).get(delete_url(project)).status_code == 403
    client = world.client("a-manager")

    confirm = client.get(delete_url(project))
    response = client.post(delete_url(project), {"post": "yes"})

    # The machine layer's items, which nobody deletes one by one, go with their project.
    assert confirm.context["perms_lacking"] == set()
    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Mention.objects.filter(layer__article__project_id=project.pk).exists()
    assert Mention.objects.filter(layer__article__project=world.projects["B"]).count() == 8


@pytest.mark.parametrize("lists_self", [False, True], ids=["members", "members-and-self"])
def test_whoever_may_add_a_project_becomes_its_manager(world, lists_self):
    client = world.client("outsider")  # in no project yet
    data = form_data(client.get(add_url(Project)))
    members = {"a-ann1": ANNOTATOR, **({"outsider": ANNOTATOR} if lists_self else {})}
    data.update({"slug": "gamma", "name": "Project gamma", "memberships-TOTAL_FORMS": len(members)})
    for i, (username, role) in enumerate(members.items()):
        data |= {f"memberships-{i}-user": world.users[username].pk, f"memberships-{i}-role": role}

    response = client.post(add_url(Project), data)

    assert response.status_code == 302
    assert response.url == changelist_url(Project)  # a project list the creator now has
    gamma = Project.objects.get(slug="gamma")
    assert dict(gamma.memberships.values_list("user__username", "role")) == {"a-ann1": ANNOTATOR, "outsider": MANAGER}
    listed = client.get(changelist_url(Project)).context["cl"].queryset
    assert [project.slug for project in listed] == ["gamma"]
    assert client.get(change_url(gamma)).context["has_change_permission"] is True


def membership_data(project: Project, user: Any, role: str) -> dict[str, Any]:
    return {"project": project.pk, "user": user.pk, "role": role}


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("a-manager", 302), ("a-reviewer", 403), ("a-ann1", 403), ("a-consumer", 403), ("b-manager", 200)],
)
def test_members_are_added_by_managers_to_their_own_projects(world, viewer, status):
    response = world.client(viewer).post(
        add_url(Membership), membership_data(world.projects["A"], world.users["outsider"], ANNOTATOR)
    )

    assert response.status_code == status
    added = Membership.objects.filter(project=world.projects["A"], user=world.users["outsider"]).exists()
    assert added is (status == 302)
    if status == 200:  # a manager, but of B: the form names the problem
        assert response.context["adminform"].form.errors == {"project": [NOT_YOUR_PROJECT]}


def test_a_membership_cannot_be_moved_into_a_project_the_manager_does_not_manage(world):
    membership = Membership.objects.get(project=world.projects["A"], user=world.users["a-ann2"])

    response = world.client("a-manager").post(
        change_url(membership), membership_data(world.projects["B"], world.users["a-ann2"], REVIEWER)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"project": [NOT_YOUR_PROJECT]}
    membership.refresh_from_db()
    assert (membership.project, membership.role) == (world.projects["A"], ANNOTATOR)


def test_a_manager_changes_a_role_and_a_reviewer_may_not(world):
    membership = Membership.objects.get(project=world.projects["A"], user=world.users["a-ann2"])
    data = membership_data(world.projects["A"], world.users["a-ann2"], REVIEWER)

    assert world.client("a-reviewer").post(change_url(membership), data).status_code == 403
    assert world.client("a-manager").post(change_url(membership), data).status_code == 302
    membership.refresh_from_db()
    assert membership.role == REVIEWER


def test_a_manager_who_demotes_themselves_is_read_only_from_then_on(world):
    client = world.client("a-manager")
    own = Membership.objects.get(project=world.projects["A"], user=world.users["a-manager"])

    response = client.post(change_url(own), membership_data(world.projects["A"], world.users["a-manager"], CONSUMER))

    assert response.status_code == 302
    assert client.get(change_url(world.projects["A"])).context["has_change_permission"] is False


# --- Form choices and autocompletes ---------------------------------------------------------


def test_forms_offer_only_the_projects_the_viewer_manages(world):
    MembershipFactory(project=world.projects["B"], user=world.users["a-manager"], role=REVIEWER)
    client = world.client("a-manager")

    article_form = client.get(add_url(Article)).context["adminform"].form
    membership_form = client.get(add_url(Membership)).context["adminform"].form

    assert [p.slug for p in article_form.fields["project"].queryset] == ["alpha"]
    assert [p.slug for p in membership_form.fields["project"].queryset] == ["alpha"]
    root_form = world.client("root").get(add_url(Article)).context["adminform"].form
    assert [p.slug for p in root_form.fields["project"].queryset] == ["alpha", "beta"]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("root", ["alpha", "beta"]),
        ("a-manager", ["alpha"]),
        ("b-manager", ["beta"]),
        ("a-reviewer", []),
        ("a-consumer", []),
    ],
)
def test_the_project_autocomplete_offers_the_projects_the_viewer_manages(world, viewer, expected):
    response = autocomplete(world.client(viewer), "membership", "project")

    assert response.status_code == 200
    assert [Project.objects.get(pk=r["id"]).slug for r in response.json()["results"]] == expected


def test_the_project_autocomplete_is_forbidden_to_someone_in_no_project(world):
    assert autocomplete(world.client("outsider"), "membership", "project").status_code == 403


def test_the_actor_autocomplete_searches_the_shared_registry(world):
    ActorFactory(name="Russian Navy")

    response = autocomplete(world.client("a-ann1"), "mention", "actor", "Russ")

    assert [r["text"] for r in response.json()["results"]] == ["Russia", "Russian Navy"]


# --- Articles -------------------------------------------------------------------------------


def article_data(project: Project, title: str) -> dict[str, Any]:
    return {
        "project": project.pk,
        "title": title,
        "text": f"{title}: Niger's junta met Russian officials.",
        "source": "",
        "url": "",
        "published": "",
        "language": "en",
        "metadata": "{}",
        "layers-TOTAL_FORMS": "0",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
    }


def test_a_manager_adds_articles_to_their_project_only(world):
    client = world.client("a-manager")

    added = client.post(add_url(Article), article_data(world.projects["A"], "Hand-made"))
    refused = client.post(add_url(Article), article_data(world.projects["B"], "Smuggled"))

    assert added.status_code == 302
    assert Article.objects.get(title="Hand-made").project == world.projects["A"]
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"project": [NOT_YOUR_PROJECT]}
    assert not Article.objects.filter(title="Smuggled").exists()


@pytest.mark.parametrize("viewer", ["a-reviewer", "a-ann1", "a-consumer", "outsider"])
def test_only_managers_add_articles(world, viewer):
    client = world.client(viewer)

    assert client.get(add_url(Article)).status_code == 403
    assert client.post(add_url(Article), article_data(world.projects["A"], "Hand-made")).status_code == 403
    assert not Article.objects.filter(title="Hand-made").exists()


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("a-manager", 302), ("a-reviewer", 403), ("a-ann1", 403), ("a-consumer", 403), ("b-manager", 302)],
)
def test_articles_are_changed_by_their_projects_managers(world, viewer, status):
    article = world.row(Article, "A")
    data = form_data(world.client("root").get(change_url(article)))
    data["title"] = "Retitled"

    response = world.client(viewer).post(change_url(article), data)

    assert response.status_code == status
    article.refresh_from_db()
    assert (article.title == "Retitled") is (viewer == "a-manager")


def test_an_article_is_deleted_by_its_manager_with_its_machine_suggestions(world):
    article = world.row(Article, "A")
    assert world.client("a-reviewer").post(delete_url(article), {"post": "yes"}).status_code == 403

    response = world.client("a-manager").post(delete_url(article), {"post": "yes"})

    assert response.status_code == 302
    assert not Article.objects.filter(pk=article.pk).exists()
    assert not Layer.objects.filter(article_id=article.pk).exists()


def select(client: Client, model: type, action: str, rows: list[Any], **extra: Any) -> Any:
    return client.post(
        changelist_url(model), {"action": action, "_selected_action": [row.pk for row in rows], **extra}, follow=True
    )


def test_pre_annotation_starts_only_in_the_projects_the_viewer_manages(world, django_capture_on_commit_callbacks):
    MembershipFactory(project=world.projects["B"], user=world.users["a-manager"], role=REVIEWER)
    articles = [world.row(Article, "A"), world.row(Article, "B")]
    jobs_before = set(Job.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=False):
        response = select(world.client("a-manager"), Article, "preannotate_articles", articles)

    [job] = Job.objects.exclude(pk__in=jobs_before)
    assert (job.project, job.params["article_ids"]) == (world.projects["A"], [articles[0].pk])
    assert "Only a manager of beta can start pre-annotation; skipped." in messages_of(response)


def test_an_action_on_another_projects_rows_does_nothing(world, django_capture_on_commit_callbacks):
    jobs_before = Job.objects.count()

    with django_capture_on_commit_callbacks(execute=False):
        select(world.client("a-manager"), Article, "preannotate_articles", [world.row(Article, "B")])
        select(world.client("a-manager"), Project, "preannotate_projects", [world.projects["B"]])

    assert Job.objects.count() == jobs_before


@pytest.mark.parametrize("viewer", ["a-reviewer", "a-ann1", "a-consumer"])
def test_members_who_do_not_manage_are_told_the_project_actions_skip_their_project(
    world, viewer, django_capture_on_commit_callbacks
):
    client = world.client(viewer)
    article, layers_before, jobs_before = world.row(Article, "A"), Layer.objects.count(), Job.objects.count()

    with django_capture_on_commit_callbacks(execute=False):
        preannotated = select(client, Article, "preannotate_articles", [article])
        assigned = select(client, Article, "assign_to_annotators", [article])
        offered = client.get(changelist_url(Article)).context["action_form"].fields["action"].choices

    assert "Only a manager of alpha can start pre-annotation; skipped." in messages_of(preannotated)
    assert "Only a manager of alpha can assign its articles; skipped." in messages_of(assigned)
    assert (Job.objects.count(), Layer.objects.count()) == (jobs_before, layers_before)
    assert "delete_selected" not in [name for name, _ in offered]


def test_assigning_is_refused_for_a_project_the_viewer_only_reviews(world):
    MembershipFactory(project=world.projects["B"], user=world.users["a-manager"], role=REVIEWER)
    client = world.client("a-manager")
    layers_before = Layer.objects.count()

    response = select(client, Article, "assign_to_annotators", [world.row(Article, "B")])

    assert "Only a manager of beta can assign its articles; skipped." in messages_of(response)
    assert Layer.objects.count() == layers_before


# --- Layers and annotations -----------------------------------------------------------------

# Who writes (changes or deletes the items of) which layer of A, as the API's check_layer_write.
WRITES = {
    "a-manager": {"A-ann1", "A-ann2", "A-gold"},
    "a-reviewer": {"A-gold"},
    "a-ann1": {"A-ann1"},
    "a-consumer": set(),
}


def write_outcome(viewer: str, layer: str) -> int:
    """302: done; 403: the viewer reads the layer but may not write it; missing rows redirect too."""
    if layer in WRITES[viewer]:
        return 302
    seen = LAYERS_SEEN[viewer] or []
    return 403 if layer in seen else 302


@pytest.mark.parametrize("layer", A_LAYERS)
@pytest.mark.parametrize("viewer", list(WRITES))
def test_mentions_are_changed_as_their_layer_may_be_written(world, viewer, layer):
    mention = world.row(Mention, layer)

    response = world.client(viewer).post(
        change_url(mention), {"label": "NORP", "start": mention.start, "end": mention.end, "actor": ""}
    )

    assert response.status_code == write_outcome(viewer, layer)
    mention.refresh_from_db()
    assert (mention.label == "NORP") is (layer in WRITES[viewer])


@pytest.mark.parametrize("layer", A_LAYERS)
@pytest.mark.parametrize("viewer", list(WRITES))
@pytest.mark.parametrize("model", [Mention, Event, EventArgument, Stance], ids=lambda m: m.__name__)
def test_annotations_are_deleted_as_their_layer_may_be_written(world, model, viewer, layer):
    row = world.row(model, layer)

    response = world.client(viewer).post(delete_url(row), {"post": "yes"})

    assert response.status_code == write_outcome(viewer, layer)
    assert model._default_manager.filter(pk=row.pk).exists() is (layer not in WRITES[viewer])


def test_an_annotator_deletes_own_mentions_in_bulk_but_not_with_a_suggestion_among_them(world):
    client = world.client("a-ann1")
    own = list(Mention.objects.filter(layer=world.layers["A-ann1"]))
    suggestion = world.row(Mention, "A-machine")

    refused = select(client, Mention, "delete_selected", [*own, suggestion], post="yes")
    assert refused.status_code == 403
    assert Mention.objects.filter(pk__in=[m.pk for m in [*own, suggestion]]).count() == 3

    deleted = select(client, Mention, "delete_selected", own, post="yes")
    assert deleted.status_code == 200
    assert not Mention.objects.filter(layer=world.layers["A-ann1"]).exists()


@pytest.mark.parametrize(
    ("viewer", "status"), [("a-manager", 302), ("a-reviewer", 403), ("a-ann1", 403), ("a-consumer", 403)]
)
def test_layers_are_deleted_by_managers_with_their_items(world, viewer, status):
    layer = world.layers["A-machine"]

    response = world.client(viewer).post(delete_url(layer), {"post": "yes"})

    assert response.status_code == status
    assert Layer.objects.filter(pk=layer.pk).exists() is (status == 403)
    assert Mention.objects.filter(layer_id=layer.pk).exists() is (status == 403)


@pytest.mark.parametrize(
    ("model", "key"), [(SuggestionDecision, "A-ann1"), (Job, "A"), (JobChunk, "A"), (DatasetVersion, "A")]
)
@pytest.mark.parametrize("viewer", ["a-manager", "a-reviewer", "a-consumer"])
def test_records_of_a_project_are_deleted_by_its_managers(world, model, key, viewer):
    row = world.row(model, key)

    response = world.client(viewer).post(delete_url(row), {"post": "yes"})

    assert response.status_code == (302 if viewer == "a-manager" else 403)
    assert model._default_manager.filter(pk=row.pk).exists() is (viewer != "a-manager")


# --- Actors: one registry for every project -------------------------------------------------


def test_anyone_with_the_permissions_adds_and_changes_actors(world):
    client = world.client("a-consumer")
    data = {"name": "Niger", "kind": "GPE", "aliases": '["Republic of Niger"]', "country": "NER", "sector": "GOV"}
    data |= {"wikidata_id": "", "description": ""}

    added = client.post(add_url(Actor), data)
    changed = client.post(change_url(world.actor), {**data, "name": "Russia", "country": "RUS"})

    assert (added.status_code, changed.status_code) == (302, 302)
    assert Actor.objects.get(name="Niger").aliases == ["Republic of Niger"]
    world.actor.refresh_from_db()
    assert world.actor.country == "RUS"


def test_only_superusers_delete_an_actor(world):
    # Its mentions are in projects the manager can't see: deleting it would unlink them all.
    unused = ActorFactory(name="Nobody")

    for viewer in ("a-manager", "outsider"):
        assert world.client(viewer).post(delete_url(unused), {"post": "yes"}).status_code == 403
    assert Actor.objects.filter(pk=unused.pk).exists()
    assert world.client("root").post(delete_url(unused), {"post": "yes"}).status_code == 302
    assert not Actor.objects.filter(pk=unused.pk).exists()


# --- Query counts ---------------------------------------------------------------------------


def add_rows(world: World, n: int) -> None:
    """n more articles in A, each with a layer of a-ann1 and a machine layer, annotated."""
    project = world.projects["A"]
    for _ in range(n):
        article = ArticleFactory(project=project)
        for layer in (
            Layer.objects.create(article=article, kind=Layer.Kind.ANNOTATOR, annotator=world.users["a-ann1"]),
            Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="spacy-1"),
        ):
            annotate(layer, "AID", world.actor)
            SuggestionDecision.objects.create(
                layer=layer, user=world.users["a-ann1"], item_kind="mention", decision="accept",
                model_version="spacy-1", suggestion_id=1, label="GPE", suggestion={}, result_id=None,
            )  # fmt: skip
        job = Job.objects.create(kind=Job.Kind.PREANNOTATE, project=project, status=Job.Status.SUCCEEDED)
        JobChunk.objects.create(job=job, index=0, article_ids=[article.pk], done=True)
        MembershipFactory(project=project, role=ANNOTATOR)


@pytest.mark.parametrize("viewer", ["a-manager", "a-ann1"])
@pytest.mark.parametrize(
    "model",
    [model for model in SCOPED_MODELS if model is not DatasetVersion] + [Actor],
    ids=lambda m: m.__name__,
)
def test_change_lists_cost_the_same_queries_however_many_rows(world, django_assert_max_num_queries, model, viewer):
    client = world.client(viewer)
    url = changelist_url(model)
    client.get(url)  # the first request fills the session and caches
    with CaptureQueriesContext(connection) as baseline:
        first = client.get(url)
    rows_before = first.context["cl"].result_count

    add_rows(world, 6)

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    if model not in (Project, Actor):
        assert response.context["cl"].result_count > rows_before


# --- The permission checks agree with the lists ---------------------------------------------


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "outsider"])
@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_a_row_may_be_viewed_exactly_when_it_is_in_the_viewers_list(world, rf, model, viewer):
    """The row-level checks (delete pages, inlines, other callers) say what the lists show."""
    request = rf.get("/")
    request.user = world.users[viewer]
    model_admin = admin.site.get_model_admin(model)

    viewable = {row.pk for row in model._default_manager.all() if model_admin.has_view_permission(request, row)}

    assert viewable == set(model_admin.get_queryset(request).values_list("pk", flat=True))
    assert len(viewable) == len(expected_rows(model, viewer) or [])


def test_api_tokens_are_listed_and_made_by_superusers_only(world):
    # given a manager with every model permission on tokens, and a token of another user
    manager = world.users["a-manager"]
    manager.user_permissions.set(Permission.objects.filter(content_type__app_label="authtoken"))
    token = Token.objects.create(user=world.users["b-manager"])
    changelist = reverse("admin:authtoken_tokenproxy_changelist")
    change = reverse("admin:authtoken_tokenproxy_change", args=[token.user_id])

    # then the manager finds no token page, reads no key and makes no token
    client = world.client("a-manager")
    assert client.get(changelist).status_code == 403
    assert client.get(change).status_code == 403
    made = client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": manager.pk})
    assert made.status_code == 403 and not Token.objects.filter(user=manager).exists()
    assert "authtoken" not in client.get(reverse("admin:index")).content.decode()
    # and a superuser does all of it
    root = world.client("root")
    assert token.key in root.get(changelist).content.decode()
    assert root.get(change).status_code == 200
    root.post(reverse("admin:authtoken_tokenproxy_add"), {"user": manager.pk})
    assert Token.objects.filter(user=manager).exists()

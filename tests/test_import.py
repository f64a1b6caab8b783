"""Import readers and services: .txt and .jsonl articles, folders, duplicates, atomicity, actors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from annotations.errors import ImportFailed
from annotations.importers import jsonl, txt
from annotations.importers.actors import read_actors
from annotations.models import Actor, Article
from annotations.services.actors import actors_load_file
from annotations.services.imports import import_paths
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def write_jsonl(path: Path, *records: Any) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def article(n: int, **fields: Any) -> dict[str, Any]:
    return {"title": f"Report {n}", "text": f"Russia sent {n} military trainers to Niger.", **fields}


# --- .txt -------------------------------------------------------------------------------------


def test_txt_title_is_the_first_non_empty_line_and_the_text_is_the_whole_file(tmp_path):
    # given a text file with leading blank lines, inner indentation and a trailing newline
    content = "\n\n  Niger and Russia sign a deal  \n\n  Indented paragraph.\r\nLast line.\n"
    path = tmp_path / "deal.txt"
    path.write_bytes(content.encode("utf-8"))

    # when it is read
    [result] = txt.read_articles(path)

    # then the title is the stripped first line and the text is the file, byte for byte as decoded
    assert result.title == "Niger and Russia sign a deal"
    assert result.text == content
    assert result.published is None
    assert result.metadata == {}


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("Published on: April 12, 2023 – 9:04 p.m", date(2023, 4, 12)),
        ("As of: April 12, 2024 5:05 a.m", date(2024, 4, 12)),
        ("Published: 2024-01-17", date(2024, 1, 17)),
        ("published on: 3 December 2023", date(2023, 12, 3)),
    ],
)
def test_txt_dateline_becomes_the_published_date(tmp_path, dateline, expected):
    # given an article with a dateline under the title
    path = tmp_path / "a.txt"
    path.write_text(f"Title\n\n{dateline}\n\nBody text.\n", encoding="utf-8")

    # when it is read
    [result] = txt.read_articles(path)

    # then the date is parsed and the line is kept
    assert result.published == expected
    assert result.metadata == {"dateline": dateline}


@pytest.mark.parametrize("value", ["yesterday evening", "April 2024", "Monday", "April 32, 2023"])
def test_txt_dateline_that_does_not_parse_leaves_published_empty_and_keeps_the_line(tmp_path, value):
    # given a dateline without a full, valid date
    path = tmp_path / "a.txt"
    path.write_text(f"Title\nAs of: {value}\nBody text.\n", encoding="utf-8")

    # when it is read
    [result] = txt.read_articles(path)

    # then no date is guessed, and the line is kept in metadata
    assert result.published is None
    assert result.metadata == {"dateline": f"As of: {value}"}


def test_seed_article_000_title_and_date():
    [result] = txt.read_articles(settings.SEEDS_DIR / "000_238f7cd63fdac120.txt")

    assert result.title == "Russian Deputy Defense Minister in Niger wants to strengthen military"
    assert result.published == date(2023, 4, 12)
    assert result.metadata == {"dateline": "Published on: April 12, 2023 – 9:04 p.m"}


def test_seed_article_002_title_and_date():
    [result] = txt.read_articles(settings.SEEDS_DIR / "002_431d28293446d3fc.txt")

    assert result.title == "West Africa: Russia sends military trainers to Niger"
    assert result.published == date(2024, 4, 12)


def test_txt_title_longer_than_the_column_is_shortened(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("x" * 1500 + "\nBody.\n", encoding="utf-8")

    [result] = txt.read_articles(path)

    assert result.title == "x" * 999 + "…"
    assert result.text == "x" * 1500 + "\nBody.\n"


# --- bad inputs -------------------------------------------------------------------------------


def test_empty_txt_file_is_an_error_and_writes_nothing(tmp_path, project):
    # given an empty file and a file of blank lines
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n", encoding="utf-8")

    # when they are imported
    report = import_paths(project=project, paths=[empty, blank])

    # then both are reported and nothing is stored
    assert report.errors == [f"{empty}: file is empty", f"{blank}: file is empty"]
    assert Article.objects.count() == 0


def test_empty_jsonl_file_is_an_error(tmp_path, project):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}: file is empty"]
    assert Article.objects.count() == 0


def test_non_utf8_txt_file_is_an_error_naming_line_and_column(tmp_path, project):
    # given a Latin-1 file ("Nigér" with é as byte 0xe9) on its second line
    path = tmp_path / "latin1.txt"
    path.write_bytes("Title\nRussia and Nigér agree.\n".encode("latin-1"))

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then the error names the file, line and byte, and nothing is stored
    assert report.errors == [f"{path}:2: not valid UTF-8 (byte 0xe9 at column 15); save it as UTF-8"]
    assert Article.objects.count() == 0


def test_non_utf8_jsonl_file_is_an_error_naming_the_line(tmp_path, project):
    path = tmp_path / "latin1.jsonl"
    good = json.dumps(article(1)).encode("utf-8")
    path.write_bytes(good + b"\n" + '{"title": "Nigér", "text": "x"}\n'.encode("latin-1"))

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}:2: not valid UTF-8 (byte 0xe9 at column 15); save it as UTF-8"]
    assert Article.objects.count() == 0


def test_malformed_json_line_fails_the_whole_file(tmp_path, project):
    # given a file whose first two lines are good and third is broken
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(article(1)) + "\n" + json.dumps(article(2)) + '\n{"title": "x" "text": "y"}\n', encoding="utf-8"
    )

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then the error names file and line, and not even the good lines are stored
    assert report.errors == [f"{path}:3: malformed JSON (Expecting ',' delimiter at column 15)"]
    assert report.imported == 0
    assert Article.objects.count() == 0


def test_json_line_that_is_not_an_object_is_an_error(tmp_path, project):
    path = tmp_path / "list.jsonl"
    path.write_text(json.dumps(article(1)) + '\n["Report 2", "text"]\n"just a string"\n', encoding="utf-8")

    report = import_paths(project=project, paths=[path])

    assert report.errors == [
        f"{path}:2: expected a JSON object, got an array",
        f"{path}:3: expected a JSON object, got a string",
    ]
    assert Article.objects.count() == 0


def test_missing_text_is_an_error(tmp_path, project):
    path = write_jsonl(tmp_path / "x.jsonl", article(1), {"title": "No text here"})

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}:2: missing required field 'text'"]
    assert Article.objects.count() == 0


def test_wrongly_typed_and_unknown_fields_are_errors(tmp_path, project):
    path = write_jsonl(
        tmp_path / "x.jsonl",
        {"title": 7, "text": "Some text.", "pubished": "2024-01-01", "metadata": ["a"], "url": None},
    )

    report = import_paths(project=project, paths=[path])

    assert report.errors == [
        f"{path}:1: unknown field(s) 'pubished'; known: language, metadata, published, source, text, title, url",
        f"{path}:1: field 'title' must be a string, not a number",
        f"{path}:1: field 'metadata' must be an object, not an array",
    ]
    assert Article.objects.count() == 0


def test_a_line_of_the_jsonl_export_imports_as_an_article_and_typos_are_still_errors(tmp_path, project):
    # given an export line (with its id, split, layer and annotations) and one with a misspelt key
    exported = article(
        1,
        id="0" * 64,
        split="train",
        layer={"kind": "gold", "annotator": None, "model_version": None, "status": "done"},
        mentions=[{"id": "m0", "label": "GPE", "start": 0, "end": 6, "text": "Russia"}],
        events=[],
        stances=[],
    )
    good = write_jsonl(tmp_path / "export.jsonl", exported)
    typo = write_jsonl(tmp_path / "typo.jsonl", {**exported, "splt": "dev"})

    report = import_paths(project=project, paths=[good, typo])

    # then the export line's article is stored (its annotations are for corpus_import_jsonl)
    assert list(project.articles.values_list("title", flat=True)) == ["Report 1"]
    assert report.errors == [
        f"{typo}:1: unknown field(s) 'splt'; known: language, metadata, published, source, text, title, url"
    ]


@pytest.mark.parametrize(
    ("published", "message"),
    [
        ("April 12, 2024", "is not an ISO date (YYYY-MM-DD): 'April 12, 2024'"),
        ("2024-02-30", "is not an ISO date (YYYY-MM-DD): '2024-02-30'"),
        (20240412, "must be an ISO date string (YYYY-MM-DD), not a number"),
    ],
)
def test_bad_published_value_in_jsonl_is_an_error(tmp_path, project, published, message):
    path = write_jsonl(tmp_path / "dates.jsonl", article(1, published=published))

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}:1: field 'published' {message}"]
    assert Article.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": "Russia sent\x00 trainers to Niger."}, "text"),
        ({"title": "Report\x00"}, "title"),
        ({"source": "wire\x00"}, "source"),
        ({"metadata": {"tags": ["a", "b\x00"]}}, "metadata"),
        ({"metadata": {"key\x00": 1}}, "metadata"),
    ],
)
def test_a_nul_character_is_an_error_naming_the_field_and_nothing_is_stored(tmp_path, project, fields, field):
    # given a file whose second article holds a NUL (JSON "\u0000"), which PostgreSQL can't store
    path = write_jsonl(tmp_path / "nul.jsonl", article(1), article(2, **fields))

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then the line and the field are named, and the file's other article isn't stored either
    assert report.errors == [f"{path}:2: {field} contains a NUL character (U+0000), which the database can't store"]
    assert Article.objects.count() == 0


def test_a_text_file_with_a_nul_character_is_an_error(tmp_path, project):
    path = tmp_path / "nul.txt"
    path.write_text("Report\nRussia sent trainers\x00 to Niger.", encoding="utf-8")

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}: text contains a NUL character (U+0000), which the database can't store"]
    assert Article.objects.count() == 0


@override_settings(ARTICLE_MAX_CHARS=50)
def test_article_over_the_size_limit_is_rejected_naming_the_limit(tmp_path, project):
    # given a 51-character article in a .jsonl file and in a .txt file, with a limit of 50
    big_jsonl = write_jsonl(tmp_path / "big.jsonl", article(1), {"title": "Big", "text": "y" * 51})
    big_txt = tmp_path / "big.txt"
    big_txt.write_text("Big\n" + "z" * 47, encoding="utf-8")

    # when they are imported
    report = import_paths(project=project, paths=[big_jsonl, big_txt])

    # then each is rejected with the limit named, and nothing is stored
    assert report.errors == [
        f"{big_jsonl}:2: text has 51 characters, over the limit of 50 (ARTICLE_MAX_CHARS)",
        f"{big_txt}: text has 51 characters, over the limit of 50 (ARTICLE_MAX_CHARS)",
    ]
    assert Article.objects.count() == 0


def test_default_size_limit_accepts_one_million_characters_and_rejects_one_more(tmp_path, project):
    # given two articles at the real default limit of 1,000,000 characters and one over it
    assert settings.ARTICLE_MAX_CHARS == 1_000_000
    at_limit = write_jsonl(tmp_path / "at_limit.jsonl", {"title": "At the limit", "text": "a" * 1_000_000})
    over = write_jsonl(tmp_path / "over.jsonl", {"title": "Over the limit", "text": "b" * 1_000_001})

    # when they are imported
    report = import_paths(project=project, paths=[at_limit, over])

    # then the first is stored whole and the second rejected
    assert report.errors == [
        f"{over}:1: text has 1,000,001 characters, over the limit of 1,000,000 (ARTICLE_MAX_CHARS)"
    ]
    assert list(Article.objects.values_list("title", flat=True)) == ["At the limit"]
    assert len(Article.objects.get().text) == 1_000_000


def test_path_that_does_not_exist_is_an_error_and_other_files_still_import(tmp_path, project):
    missing = tmp_path / "nowhere.txt"
    good = write_jsonl(tmp_path / "good.jsonl", article(1))

    report = import_paths(project=project, paths=[missing, good])

    assert report.errors == [f"{missing}: no such file or directory"]
    assert report.imported == 1
    assert Article.objects.count() == 1


def test_file_with_an_unsupported_suffix_is_an_error(tmp_path, project):
    path = tmp_path / "articles.csv"
    path.write_text("title,text\n", encoding="utf-8")

    report = import_paths(project=project, paths=[path])

    assert report.errors == [f"{path}: unsupported file type '.csv'; supported: .jsonl, .txt"]


def test_folder_without_importable_files_is_an_error(tmp_path, project):
    (tmp_path / "notes.md").write_text("# notes\n", encoding="utf-8")

    report = import_paths(project=project, paths=[tmp_path])

    assert report.errors == [f"{tmp_path}: no .jsonl or .txt files in this folder"]


# --- storing ----------------------------------------------------------------------------------


def test_jsonl_stores_every_field(tmp_path, project):
    # given one article with every optional field
    record = article(
        1,
        source="RFI",
        url="https://example.org/niger",
        published="2023-12-04",
        language="fr",
        metadata={"translated": True},
    )
    path = write_jsonl(tmp_path / "full.jsonl", record, article(2, published="2024-04-12T05:05:00+02:00"))

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then every field is stored as given
    assert report.errors == []
    first, second = Article.objects.order_by("id")
    assert (first.title, first.text, first.source, first.url) == (
        "Report 1",
        "Russia sent 1 military trainers to Niger.",
        "RFI",
        "https://example.org/niger",
    )
    assert (first.published, first.language, first.metadata) == (date(2023, 12, 4), "fr", {"translated": True})
    assert first.imported_from == str(path)
    assert (second.published, second.language, second.metadata) == (date(2024, 4, 12), "en", {})


def test_duplicates_are_skipped_and_reported(tmp_path, project):
    # given an article already in the project, and a file repeating it (with other white space)
    # and repeating one of its own lines
    ArticleFactory(project=project, title="Existing", text="Russia sent 1 military trainers to Niger.")
    path = write_jsonl(
        tmp_path / "dups.jsonl",
        {"title": "Same text, new title", "text": "Russia  sent 1 military\ntrainers to Niger."},
        article(2),
        {"title": "Copy of report 2", "text": "Russia sent 2 military trainers to Niger."},
        article(3),
    )

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then only the new texts are stored, and the duplicates are listed by title
    assert report.summary() == "imported 2, duplicates 2, errors 0"
    assert report.files[0].duplicates == ["Same text, new title", "Copy of report 2"]
    assert list(Article.objects.order_by("id").values_list("title", flat=True)) == [
        "Existing",
        "Report 2",
        "Report 3",
    ]


def test_folder_is_imported_recursively_in_sorted_order(tmp_path, project):
    # given a folder with .txt and .jsonl files, a subfolder, and a file of another kind
    (tmp_path / "b.txt").write_text("B title\nText of b.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("A title\nText of a.\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    write_jsonl(tmp_path / "sub" / "c.jsonl", article(1), article(2))
    (tmp_path / "README.md").write_text("not an article\n", encoding="utf-8")

    # when the folder is imported
    report = import_paths(project=project, paths=[tmp_path])

    # then every .txt and .jsonl is stored, in path order, and the rest is ignored
    assert report.summary() == "imported 4, duplicates 0, errors 0"
    assert [f.path for f in report.files] == [tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "sub" / "c.jsonl"]
    assert list(Article.objects.order_by("id").values_list("title", "imported_from")) == [
        ("A title", str(tmp_path / "a.txt")),
        ("B title", str(tmp_path / "b.txt")),
        ("Report 1", str(tmp_path / "sub" / "c.jsonl")),
        ("Report 2", str(tmp_path / "sub" / "c.jsonl")),
    ]


def test_the_same_file_given_twice_is_read_once(tmp_path, project):
    path = write_jsonl(tmp_path / "x.jsonl", article(1))

    report = import_paths(project=project, paths=[tmp_path, path])

    assert [f.path for f in report.files] == [path]
    assert report.summary() == "imported 1, duplicates 0, errors 0"


def test_each_file_is_atomic_and_a_failed_file_does_not_stop_the_others(tmp_path, project):
    # given a good file, a file with one bad line among good ones, and another good file
    first = write_jsonl(tmp_path / "1.jsonl", article(1))
    broken = write_jsonl(tmp_path / "2.jsonl", article(2), article(3), {"title": "No text"})
    last = write_jsonl(tmp_path / "3.jsonl", article(4))

    # when the three are imported
    report = import_paths(project=project, paths=[first, broken, last])

    # then the good files are stored, and nothing of the broken one
    assert report.summary() == "imported 2, duplicates 0, errors 1"
    assert report.errors == [f"{broken}:3: missing required field 'text'"]
    assert list(Article.objects.order_by("id").values_list("title", flat=True)) == ["Report 1", "Report 4"]


def test_a_file_larger_than_one_batch_is_still_one_transaction(tmp_path, project, monkeypatch):
    # given batches of 2 and a file of 5 articles whose last one duplicates the first
    monkeypatch.setattr("annotations.services.imports.IMPORT_BATCH_SIZE", 2)
    path = write_jsonl(tmp_path / "many.jsonl", *(article(n) for n in range(4)), article(0))

    # when it is imported
    report = import_paths(project=project, paths=[path])

    # then duplicates are found across batches too
    assert report.summary() == "imported 4, duplicates 1, errors 0"
    assert Article.objects.count() == 4


def test_reader_stops_listing_errors_after_fifty(tmp_path):
    path = tmp_path / "garbage.jsonl"
    path.write_text("nope\n" * 60, encoding="utf-8")

    with pytest.raises(ImportFailed) as failure:
        jsonl.read_articles(path)

    assert len(failure.value.errors) == 51
    assert failure.value.errors[-1] == f"{path}:51: stopped reading after 50 errors"


# --- actors -----------------------------------------------------------------------------------

NIGER = {
    "name": "Niger",
    "kind": "GPE",
    "aliases": ["Republic of Niger", "Nigér"],
    "country": "NER",
    "sector": "GOV",
    "wikidata_id": "Q1032",
    "description": "West African state; military junta since the July 2023 coup.",
}
WAGNER = {"name": "Wagner Group", "kind": "ORG", "country": "RUS", "sector": "PMC"}


def test_actors_file_creates_then_updates_actors(tmp_path):
    # given an actor registry file
    path = write_jsonl(tmp_path / "actors.jsonl", NIGER, WAGNER)

    # when it is loaded twice
    first = actors_load_file(path=path)
    second = actors_load_file(path=path)

    # then the actors are created once and left alone the second time
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    niger = Actor.objects.get(name="Niger")
    assert (niger.kind, niger.aliases, niger.country, niger.sector, niger.wikidata_id) == (
        "GPE",
        ["Republic of Niger", "Nigér"],
        "NER",
        "GOV",
        "Q1032",
    )
    assert list(Actor.objects.values_list("name", flat=True)) == ["Niger", "Wagner Group"]


def test_actors_file_with_a_bad_line_loads_nothing_and_names_file_and_line(tmp_path):
    # given a registry with a good line, a bad sector, a bad country and a line without kind
    path = write_jsonl(
        tmp_path / "actors.jsonl",
        NIGER,
        {**WAGNER, "sector": "MERC"},
        {"name": "Mali", "kind": "GPE", "country": "mli"},
        {"name": "ECOWAS", "aliases": "CEDEAO"},
    )

    # when it is loaded
    with pytest.raises(ImportFailed) as failure:
        actors_load_file(path=path)

    # then every problem is named, and not even the good line is stored
    assert failure.value.errors == [
        f"{path}:4: missing required field 'kind'",
        f"{path}:4: field 'aliases' must be an array of strings, not a string",
    ]
    assert Actor.objects.count() == 0

    # and once the line is fixed, the remaining problems come from the registry rules
    write_jsonl(path, NIGER, {**WAGNER, "sector": "MERC"}, {"name": "Mali", "kind": "GPE", "country": "mli"})
    with pytest.raises(ImportFailed) as failure:
        actors_load_file(path=path)
    assert failure.value.errors == [
        f"{path}:2: sector unknown sector 'MERC'; allowed: GOV, MIL, PRM, IGO, REB, PMC, MED, CVL, BUS, OTH",
        f"{path}:3: country 'mli' is not an ISO 3166-1 alpha-3 code",
    ]
    assert Actor.objects.count() == 0


def test_actors_reader_keeps_the_line_numbers(tmp_path):
    path = tmp_path / "actors.jsonl"
    path.write_text(json.dumps(NIGER) + "\n\n" + json.dumps(WAGNER) + "\n", encoding="utf-8")

    actors = read_actors(path)

    assert [(a.line, a.name) for a in actors] == [(1, "Niger"), (3, "Wagner Group")]

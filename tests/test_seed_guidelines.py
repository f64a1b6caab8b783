"""The demo project's guidelines (seeds/guidelines.md) cover its schema (seeds/schema.json)."""

from __future__ import annotations

import json

from django.conf import settings

from annotations.admin.workspace import render_guidelines


def test_the_seed_guidelines_explain_every_type_role_realis_and_stance_label_of_the_seed_schema():
    schema = json.loads((settings.SEEDS_DIR / "schema.json").read_text(encoding="utf-8"))
    text = (settings.SEEDS_DIR / "guidelines.md").read_text(encoding="utf-8")

    names = [e["code"] for e in schema["entity_types"]] + [e["code"] for e in schema["event_types"]]
    names += sorted({r["name"] for e in schema["event_types"] for r in e["roles"]})
    names += schema["realis"] + schema["contexts"] + [s["code"] for s in schema["stance_labels"]]
    assert [name for name in names if name not in text] == []
    assert "not stated" in text.lower()
    assert "<h2>3. Events</h2>" in render_guidelines(text)

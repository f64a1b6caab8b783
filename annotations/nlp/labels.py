"""A read-only view of the project's label schema, as plain dicts (no Django, no validation).

The schema is validated where it is saved (annotations.schema); here we only read it, tolerantly,
so a reduced schema (no GPE, no SANCTION, no contexts…) simply yields fewer suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RoleSpec:
    name: str
    min: int
    max: int | None
    entity_types: frozenset[str]


@dataclass(frozen=True)
class EventSpec:
    code: str
    modes: tuple[str, ...]
    roles: dict[str, RoleSpec]


class SchemaView:
    """Entity codes, spaCy-label map, event types with roles, realis values, contexts and stance labels."""

    def __init__(self, document: dict[str, Any]):
        self.name: str = str(document.get("name", ""))
        self.entity_codes: tuple[str, ...] = tuple(e["code"] for e in document.get("entity_types", []))
        known = set(self.entity_codes)
        explicit = document.get("model_label_map")
        label_map = dict(explicit) if explicit is not None else {code: code for code in self.entity_codes}
        # A map entry pointing at a code the schema lacks is dropped, never an error.
        self.label_map: dict[str, str] = {k: v for k, v in label_map.items() if v in known}
        self.event_types: dict[str, EventSpec] = {}
        for event_type in document.get("event_types", []):
            roles = {
                r["name"]: RoleSpec(
                    name=r["name"],
                    min=int(r.get("min", 0)),
                    max=r.get("max"),
                    entity_types=frozenset(code for code in r.get("entity_types", []) if code in known),
                )
                for r in event_type.get("roles", [])
            }
            self.event_types[event_type["code"]] = EventSpec(
                code=event_type["code"], modes=tuple(event_type.get("modes", [])), roles=roles
            )
        self.realis: tuple[str, ...] = tuple(document.get("realis", []))
        self.contexts: tuple[str, ...] = tuple(document.get("contexts", []))
        self.stance_labels: tuple[str, ...] = tuple(s["code"] for s in document.get("stance_labels", []))

    def entity_code(self, label: str, *, from_rules: bool) -> str | None:
        """Schema code for a spaCy label; rule labels (actor kinds, WEAPON) may already be schema codes."""
        code = self.label_map.get(label)
        if code is None and from_rules and label in self.entity_codes:
            code = label
        return code

    def realis_value(self, wanted: str) -> str:
        """`wanted` when the schema has it, else "actual", else the schema's first value."""
        if wanted in self.realis or not self.realis:
            return wanted
        return "actual" if "actual" in self.realis else self.realis[0]

    def fingerprint(self) -> dict[str, Any]:
        """The parts of the schema that change what gets suggested (not names, colours or descriptions)."""
        return {
            "entity_codes": sorted(self.entity_codes),
            "label_map": dict(sorted(self.label_map.items())),
            "event_types": {
                code: {
                    "modes": sorted(spec.modes),
                    "roles": {
                        r.name: [r.min, r.max, sorted(r.entity_types)]
                        for r in sorted(spec.roles.values(), key=lambda role: role.name)
                    },
                }
                for code, spec in sorted(self.event_types.items())
            },
            "realis": sorted(self.realis),
            "contexts": sorted(self.contexts),
            "stance_labels": sorted(self.stance_labels),
        }

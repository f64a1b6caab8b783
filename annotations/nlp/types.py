"""Plain data passed into and out of the pre-annotation pipeline (no spaCy, no Django)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ActorEntry:
    """One actor of the registry, as the gazetteer needs it. `kind` is an entity type code (GPE, ORG…)."""

    name: str
    kind: str
    aliases: tuple[str, ...] = ()


@dataclass
class MentionSuggestion:
    """An entity mention: a schema entity code on text[start:end]. `actor_name` is set when the gazetteer matched."""

    label: str
    start: int
    end: int
    text: str
    score: float
    actor_name: str | None = None


@dataclass
class ArgumentSuggestion:
    """One event argument: `mention` indexes DocumentSuggestions.mentions."""

    role: str
    mention: int


@dataclass
class EventSuggestion:
    """An event with a single-token trigger; mode is "" when the rule (or the schema) gives none."""

    event_type: str
    trigger_start: int
    trigger_end: int
    trigger_text: str
    mode: str
    realis: str
    contexts: list[str]
    score: float
    arguments: list[ArgumentSuggestion] = field(default_factory=list)


@dataclass
class StanceSuggestion:
    """holder/target index DocumentSuggestions.mentions; holder None means the article's author."""

    holder: int | None
    target: int
    label: str
    scope: str
    evidence_start: int
    evidence_end: int
    evidence_text: str
    score: float


@dataclass
class DocumentSuggestions:
    """Everything suggested for one article. `skipped` says why nothing was suggested (language, length…).

    `margin`: the smallest top-1 minus top-2 probability of the learned components' decisions on the article
    (its candidate triggers, trigger–mention and holder–target pairs); None without learned components.
    """

    mentions: list[MentionSuggestion]
    events: list[EventSuggestion]
    stances: list[StanceSuggestion]
    skipped: str | None = None
    margin: float | None = None

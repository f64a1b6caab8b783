"""Event suggestions from data-driven trigger rules and the dependency parse.

A rule (see seeds/event_patterns.json) names an event type, the trigger lemmas and parts of speech,
optionally an object or child the trigger must have ("end" + "cooperation" → SANCTION/discontinue), a
mode, and how the parse fills roles (subject → actor, object → recipient or artifact, "to X" →
recipient, "in X" → place, a DATE → time). Candidate triggers are found by one vectorised lemma look-up
per document, then each candidate is checked against its rules; when several rules match the same
token, the first in the file wins (specific rules are listed before general ones). A rule may instead
give a raw DependencyMatcher pattern.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from spacy.matcher import DependencyMatcher
from spacy.tokens import Token
from spacy.vocab import Vocab

from annotations.nlp import syntax
from annotations.nlp.docview import DocView
from annotations.nlp.event_rules import (
    CLAUSE_DEPS,
    MODIFIER_DEPS,
    ChildTest,
    CueIndex,
    EventRule,
    RealisCues,
    compile_rule,
)
from annotations.nlp.labels import EventSpec, SchemaView
from annotations.nlp.mentions import MentionIndex
from annotations.nlp.types import ArgumentSuggestion, EventSuggestion
from annotations.nlp.ud_arguments import UDArguments, UDGrammar


class _Arguments:
    """Collects (role, mention) pairs for one event, honouring the schema's role types and maxima."""

    def __init__(self, spec: EventSpec, index: MentionIndex):
        self.spec = spec
        self.index = index
        self.items: list[tuple[str, int]] = []
        self.used: set[int] = set()
        self.counts: Counter[str] = Counter()

    def fits(self, role: str, mention: int) -> bool:
        spec = self.spec.roles.get(role)
        if spec is None or mention in self.used:
            return False
        if spec.max is not None and self.counts[role] >= spec.max:
            return False
        return self.index.mentions[mention].label in spec.entity_types

    def offer(self, roles: Sequence[str], candidates: Sequence[int]) -> bool:
        """Give the best candidate the first role it fits; True when one was taken.

        A phrase already represented by one of its mentions ("his Russian counterpart Yevkurov" as
        Yevkurov) gets no second argument from its modifiers."""
        if any(mention in self.used for mention in candidates):
            return False
        for mention in candidates:
            for role in roles:
                if self.fits(role, mention):
                    self.items.append((role, mention))
                    self.used.add(mention)
                    self.counts[role] += 1
                    return True
        return False

    def has(self, role: str) -> bool:
        return self.counts[role] > 0


class EventRules:
    """All event rules of one patterns file, restricted to the event types the schema has."""

    def __init__(self, vocab: Vocab, patterns: dict[str, Any], schema: SchemaView, log: list[str]):
        self.schema = schema
        scores = patterns.get("scores", {})
        self.missing_actor_factor = float(scores.get("event_missing_actor_factor", 0.75))
        defaults = patterns.get("roles", {})
        self.between_role: str = defaults.get("between", "actor")
        self.between_events = frozenset(defaults.get("between_events", []))
        self.realis_cues = RealisCues.from_patterns(patterns.get("realis", {}))
        # A Universal Dependencies model (French) has its arguments read by ud_arguments.py
        grammar = patterns.get("syntax", {})
        self.ud = UDArguments(UDGrammar.from_patterns(grammar)) if grammar.get("scheme") == "ud" else None
        self.object_deps = (self.ud.g.object | self.ud.g.passive_subject) if self.ud else frozenset({"dobj"})
        self.rules: list[EventRule] = []
        self._triggers: set[int] = set()  # trigger tokens of the document being read
        skipped: list[str] = []
        for raw in patterns.get("events", []):
            rule = compile_rule(raw, defaults, float(scores.get("event", 0.6)))
            if rule.event_type not in schema.event_types:
                skipped.append(rule.event_type)
                continue
            self.rules.append(rule)
        if skipped:
            log.append(f"event rules for types the schema lacks are off: {', '.join(sorted(set(skipped)))}")
        # Lemma rules: a hash look-up per token (vectorised), then the rule's own tests on the few hits.
        strings = vocab.strings
        self.rules_by_lemma: dict[int, list[int]] = {}
        for i, rule in enumerate(self.rules):
            for lemma in rule.lemmas:
                self.rules_by_lemma.setdefault(strings.add(lemma), []).append(i)
        self.trigger_hashes = np.array(sorted(self.rules_by_lemma), dtype=np.uint64)
        # Raw DependencyMatcher patterns, for rules the lemma form cannot express.
        self.raw_matcher: DependencyMatcher | None = None
        self.raw_rule_by_key: dict[int, int] = {}
        for i, rule in enumerate(self.rules):
            if rule.pattern is not None:
                if self.raw_matcher is None:
                    self.raw_matcher = DependencyMatcher(vocab)
                key = f"event-rule-{i}"
                self.raw_matcher.add(key, [rule.pattern])
                self.raw_rule_by_key[strings.add(key)] = i

    def find(self, view: DocView, index: MentionIndex, cues: CueIndex) -> list[EventSuggestion]:
        if not self.rules:
            return []
        doc = view.doc
        best: dict[int, int] = {}
        for i in view.positions(self.trigger_hashes).tolist():
            if i in index.by_token:
                continue  # part of a name: "attack helicopters", "Operation Barkhane"
            token = doc[i]
            if token.dep_ in MODIFIER_DEPS:
                continue  # a modifier names a kind, not an event: "coup plotters", "the ousted president"
            for rule_i in self.rules_by_lemma.get(int(view.lemma[i]), ()):
                if self.rules[rule_i].pattern is None and self.rules[rule_i].matches(token):
                    best[i] = rule_i
                    break
        if self.raw_matcher is not None:
            for match_id, token_ids in self.raw_matcher(doc):
                trigger, rule_i = token_ids[0], self.raw_rule_by_key[match_id]
                if trigger not in index.by_token and rule_i < best.get(trigger, len(self.rules)):
                    best[trigger] = rule_i
        self._light_verbs(doc, best)
        self._triggers = set(best)
        return [self._event(view, doc[i], self.rules[r], index, cues) for i, r in sorted(best.items())]

    def _light_verbs(self, doc, best: dict[int, int]) -> None:
        """One event per predicate: "provide support" is the noun's event (its verb only gives the
        arguments); "ended its cooperation" is the verb's (its rule requires that object)."""
        for i in [i for i in best if doc[i].pos_ in ("VERB", "AUX")]:
            if i not in best:
                continue
            rule = self.rules[best[i]]
            needs_child = any(isinstance(t, ChildTest) for t in rule.tests)
            for child in doc[i].children:
                if child.dep_ not in ("dobj", "nsubjpass", "xcomp", "ccomp") and child.dep_ not in self.object_deps:
                    continue
                if needs_child:
                    # the verb's rule read this complement already: "strengthen cooperation (and
                    # support)", "ordered the ambassador to leave"
                    for part in syntax.conjuncts(child):
                        best.pop(part.i, None)
                elif (
                    child.i in best
                    and child.dep_ in self.object_deps
                    and self.rules[best[child.i]].event_type == rule.event_type
                ):
                    if rule.keeps_object_event:
                        del best[child.i]  # "signer un accord": one AGREE, on the verb
                        continue
                    del best[i]  # a light verb: "provide support"
                    break

    def _event(
        self, view: DocView, trigger: Token, rule: EventRule, index: MentionIndex, cues: CueIndex
    ) -> EventSuggestion:
        spec = self.schema.event_types[rule.event_type]
        args = _Arguments(spec, index)
        nominal = trigger.pos_ in ("NOUN", "PROPN")
        if self.ud is not None:
            if nominal:
                mode_zone = self.ud.nominal(trigger, rule, args, index, self._triggers)
            else:
                mode_zone = self.ud.verbal(trigger, rule, args, index)
        elif nominal:
            mode_zone = self._nominal_arguments(trigger, rule, args, index)
        else:
            mode_zone = self._verbal_arguments(trigger, rule, args, index)
        if self.ud is None and rule.event_type in self.between_events and not args.has(self.between_role):
            self._between(trigger, args, index)
        if self.ud is None and nominal and not any(args.has(role) for role in rule.subject_roles):
            self._governor_subject(trigger, rule, args, index)
        sent_start, sent_end = view.sentence(trigger.i)
        contexts_found = cues.names_between(sent_start, sent_end)
        contexts = [c for c in self.schema.contexts if c in contexts_found]
        mode = self._mode(rule, mode_zone, contexts, spec)
        question = self.realis_cues.question_is_hypothetical and view.is_question(sent_start, sent_end)
        realis = self.schema.realis_value(self.realis_cues.realis(trigger, question))
        score = rule.score
        if any(args.counts[r.name] < r.min for r in spec.roles.values()):
            score = round(score * self.missing_actor_factor, 4)
        role_order = {name: i for i, name in enumerate(spec.roles)}
        arguments = [
            ArgumentSuggestion(role=role, mention=m)
            for role, m in sorted(args.items, key=lambda item: (role_order[item[0]], item[1]))
        ]
        return EventSuggestion(
            event_type=rule.event_type,
            trigger_start=trigger.idx,
            trigger_end=trigger.idx + len(trigger.text),
            trigger_text=trigger.text,
            mode=mode,
            realis=realis,
            contexts=contexts,
            score=score,
            arguments=arguments,
        )

    # --- roles ------------------------------------------------------------------------------

    def _prep_arguments(self, pairs: list[tuple[str, Token]], rule: EventRule, args: _Arguments, index: MentionIndex):
        for prep, head in pairs:
            if prep == "between" or (prep == "by" and any(args.has(role) for role in rule.subject_roles)):
                continue  # an active verb's "by X" is not its agent ("rejected the proposal by Tinubu")
            candidates = syntax.np_mentions(index, head, through_preps=False)
            roles = ("time", *rule.prep_roles.get(prep, ()))
            args.offer(roles, candidates)

    def _verbal_arguments(self, trigger: Token, rule: EventRule, args: _Arguments, index: MentionIndex) -> list[Token]:
        for subject in syntax.clause_subjects(trigger):
            args.offer(rule.subject_roles, syntax.np_mentions(index, subject, through_preps=True))
        zone: list[Token] = []
        objects = syntax.clause_objects(trigger)
        for obj in objects:
            args.offer(rule.object_roles, syntax.np_mentions(index, obj, through_preps=False))
            zone.extend(_phrase_tokens(obj))
        self._prep_arguments(syntax.prep_objects(trigger), rule, args, index)
        for obj in objects:
            self._prep_arguments(syntax.prep_objects(obj), rule, args, index)
        for child in trigger.children:
            if child.dep_ in ("npadvmod", "tmod", "obl"):
                args.offer(("time",), index.at(child.i))
            elif child.dep_ == "prep":
                zone.extend(_phrase_tokens(child))
            elif child.dep_ == "xcomp" and child.pos_ == "VERB":
                # "threatened to intervene in Niger", "refused to meet the envoy": the complement's
                # object and settings belong to the event; its subject is the trigger's own
                for obj in syntax.clause_objects(child):
                    args.offer(("recipient",), syntax.np_mentions(index, obj, through_preps=False))
                self._prep_arguments(syntax.prep_objects(child), rule, args, index)
                zone.extend(_phrase_tokens(child))
        if trigger.dep_ == "relcl":
            # "Niger, where military rulers seized power", "July 26, when …": the relative adverb's noun
            for child in trigger.children:
                if child.dep_ == "advmod" and child.lower_ in ("where", "when"):
                    args.offer(("place",) if child.lower_ == "where" else ("time",), index.at(trigger.head.i))
        self._governor_setting(trigger, rule, args, index)
        return zone

    def _nominal_arguments(self, trigger: Token, rule: EventRule, args: _Arguments, index: MentionIndex) -> list[Token]:
        zone: list[Token] = []
        for child in trigger.children:
            if child.dep_ == "poss":
                args.offer(rule.subject_roles, syntax.np_mentions(index, child, through_preps=False))
            elif child.dep_ in ("compound", "amod", "nmod", "npadvmod"):
                args.offer(("time", rule.modifier_role), index.at(child.i))
                zone.append(child)
        for prep, head in syntax.prep_objects(trigger):
            if prep == "between":
                continue
            if prep == "by":
                args.offer(rule.subject_roles, syntax.np_mentions(index, head, through_preps=True))
                continue
            candidates = syntax.np_mentions(index, head, through_preps=False)
            roles = ("time", *rule.noun_of_roles) if prep == "of" else ("time", *rule.prep_roles.get(prep, ()))
            args.offer(roles, candidates)
            zone.extend(_phrase_tokens(head))
        for child in trigger.children:
            if child.dep_ == "acl" and child.tag_ == "VBN":
                # "sanctions imposed by the regional bloc", "a deadline set by ECOWAS": the agent acts
                for prep, head in syntax.prep_objects(child):
                    if prep == "by":
                        args.offer(rule.subject_roles, syntax.np_mentions(index, head, through_preps=True))
        governor = syntax.governing_verb(trigger)
        if governor is not None and trigger.dep_ == "dobj":
            # "imposed sanctions on Niger", "issued an ultimatum to the junta": the verb carries the roles
            for prep, head in syntax.prep_objects(governor):
                if prep not in ("between", "by", "of"):
                    args.offer(
                        ("time", *rule.prep_roles.get(prep, ())), syntax.np_mentions(index, head, through_preps=False)
                    )
        self._governor_setting(trigger, rule, args, index)
        return zone

    def _governor_subject(self, trigger: Token, rule: EventRule, args: _Arguments, index: MentionIndex):
        """ "Burkina Faso and Niger announced their departure": the announcer is the actor."""
        governor = syntax.governing_verb(trigger)
        if governor is None or governor.i in self._triggers:
            return  # "France condemned the coup": the condemner did not stage the coup
        for subject in syntax.clause_subjects(governor):
            if subject.i != trigger.i:
                args.offer(rule.subject_roles, syntax.np_mentions(index, subject, through_preps=True))

    def _governor_setting(self, trigger: Token, rule: EventRule, args: _Arguments, index: MentionIndex):
        """Place and time written on the governing verb ("arrived in Niamey to discuss")."""
        if args.has("place") and args.has("time"):
            return
        governor: Token | None
        purpose = trigger.dep_ == "advcl" and any(c.dep_ == "aux" and c.lower_ == "to" for c in trigger.children)
        if trigger.dep_ in ("xcomp", "conj") or purpose:
            governor = trigger.head
        elif trigger.pos_ in ("NOUN", "PROPN"):
            governor = syntax.governing_verb(trigger)
        else:
            governor = None
        if governor is None or governor.i == trigger.i:
            return
        for prep, head in syntax.prep_objects(governor):
            if prep in ("in", "at", "on", "during", "since", "until"):
                args.offer(("time", "place"), index.at(head.i))
        for child in governor.children:
            if child.dep_ in ("npadvmod", "tmod"):
                args.offer(("time",), index.at(child.i))

    def _between(self, trigger: Token, args: _Arguments, index: MentionIndex):
        """ "signing … between the Republic of Niger and the Russian Federation": both sides are actors."""
        subtree_end = trigger.right_edge.i + 1
        doc = trigger.doc
        for i in range(trigger.left_edge.i, subtree_end):
            token = doc[i]
            if token.lower_ == "between" and token.dep_ == "prep" and syntax.owns_between(trigger, token):
                for pobj in token.children:
                    if pobj.dep_ == "pobj":
                        for head in syntax.conjuncts(pobj):
                            args.offer((self.between_role,), syntax.np_mentions(index, head, through_preps=False))
                if args.has(self.between_role):
                    return

    def _mode(self, rule: EventRule, zone: list[Token], contexts: list[str], spec: EventSpec) -> str:
        mode = rule.mode
        if rule.mode_cues and zone:
            words = {t.lemma_ for t in zone} | {t.lower_ for t in zone}
            for candidate, cue_words in rule.mode_cues.items():
                if words & cue_words:
                    mode = candidate
                    break
        if not mode and rule.mode_from_context:
            for context, candidate in rule.mode_from_context.items():
                if context in contexts:
                    mode = candidate
                    break
        return mode if mode in spec.modes else ""


def _phrase_tokens(token: Token, limit: int = 24) -> list[Token]:
    """Tokens of the phrase headed by `token`, without entering clauses (bounded)."""
    out: list[Token] = []
    stack = [token]
    while stack and len(out) < limit:
        current = stack.pop()
        out.append(current)
        stack.extend(c for c in current.children if c.dep_ not in CLAUSE_DEPS)
    return out

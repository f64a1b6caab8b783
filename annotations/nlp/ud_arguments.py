"""Event arguments read off a Universal Dependencies parse (fr_core_news_sm and the other UD-trained models).

The English rules walk spaCy's ClearNLP labels (dobj, prep → pobj, agent); UD hangs the preposition under
its noun instead (obl / nmod + case), so the same roles are read here with the labels and prepositions the
rules file's "syntax" section names (seeds/event_patterns.fr.json):

- subject (nsubj) → the rule's subject roles (actor); in a passive, nsubj:pass → its object roles and the
  "par X" agent (obl:agent) → the subject roles; a relative pronoun ("qui") stands for its noun; without a
  subject of its own an infinitive or coordinated verb takes its governor's (control);
- object (obj), indirect object (iobj) → object roles / recipient;
- obl / nmod with a case word ("à", "avec", "contre", "en", "dans", "au" = "à") → "time" first, then the
  roles the rules give that preposition; a bare obl:mod / nmod (a date: "lundi") → time;
- a nominal trigger: "de X" → the rule's noun_of_roles (default syntax.of_roles), an adjective with a
  mention ("la délégation russe") → its modifier role, "par X" on it or on its participle → actor, and the
  verb it is the object of lends its subject and its settings ("La Russie a signé un accord à Niamey");
- coordination spreads a role ("le Mali, le Burkina Faso et le Niger").
Bounded walks around one trigger, as in syntax.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spacy.tokens import Token

from annotations.nlp.event_rules import EventRule
from annotations.nlp.mentions import MentionIndex
from annotations.nlp.syntax import conjuncts

MAX_HOPS = 3
NP_RANK = {"appos": 0, "flat:name": 1, "nmod": 2, "amod": 3}


class Offers(Protocol):
    def offer(self, roles: Sequence[str], candidates: Sequence[int]) -> bool: ...

    def has(self, role: str) -> bool: ...


@dataclass(frozen=True)
class UDGrammar:
    subject: frozenset[str]
    passive_subject: frozenset[str]
    agent: frozenset[str]
    object: frozenset[str]
    indirect_object: frozenset[str]
    oblique: frozenset[str]
    argument_oblique: frozenset[str]
    case: str
    case_aliases: dict[str, str]
    of_preps: frozenset[str]
    of_roles: tuple[str, ...]
    relative_pronouns: frozenset[str]
    relative_clause: frozenset[str]
    reflexives: frozenset[str]
    setting_preps: frozenset[str]
    np_deps: frozenset[str]

    @classmethod
    def from_patterns(cls, raw: dict[str, Any]) -> UDGrammar:
        return cls(
            subject=frozenset(raw.get("subject", ["nsubj"])),
            passive_subject=frozenset(raw.get("passive_subject", ["nsubj:pass"])),
            agent=frozenset(raw.get("agent", ["obl:agent"])),
            object=frozenset(raw.get("object", ["obj"])),
            indirect_object=frozenset(raw.get("indirect_object", ["iobj"])),
            oblique=frozenset(raw.get("oblique", ["obl", "obl:arg", "obl:mod", "nmod"])),
            argument_oblique=frozenset(raw.get("argument_oblique", ["obl:arg"])),
            case=raw.get("case", "case"),
            case_aliases=dict(raw.get("case_aliases", {})),
            of_preps=frozenset(raw.get("of_preps", [])),
            of_roles=tuple(raw.get("of_roles", ["actor"])),
            relative_pronouns=frozenset(raw.get("relative_pronouns", [])),
            relative_clause=frozenset(raw.get("relative_clause", ["acl:relcl"])),
            reflexives=frozenset(raw.get("reflexives", [])),
            setting_preps=frozenset(raw.get("setting_preps", [])),
            np_deps=frozenset(raw.get("np_deps", ["appos", "flat:name", "amod", "nmod"])),
        )

    # --- walks --------------------------------------------------------------------------------

    def preposition(self, token: Token) -> str:
        """The case word of a noun ("à" for "au Niger"), "" when it has none."""
        for child in token.children:
            if child.dep_ == self.case:
                word = child.lower_
                return self.case_aliases.get(word, word)
        return ""

    def subjects(self, verb: Token, hops: int = 0) -> list[Token]:
        found: list[Token] = []
        # a pronominal verb is no passive ("Tiani s’est entretenu avec …"), whatever the parser says
        deps = self.subject | self.agent | (self.passive_subject if self._pronominal(verb) else frozenset())
        for child in verb.children:
            if child.dep_ in deps:
                head = child
                if child.lower_ in self.relative_pronouns and verb.dep_ in self.relative_clause:
                    head = verb.head
                found.extend(conjuncts(head))
            elif child.dep_ in self.oblique and self.preposition(child) == "par" and self._passive(verb):
                found.extend(conjuncts(child))  # "sanctionné par la CEDEAO", parsed obl rather than obl:agent
        if found or hops >= MAX_HOPS or verb.head.i == verb.i:
            return found
        if verb.dep_ == "xcomp":
            objects = [c for c in verb.head.children if c.dep_ in self.object]
            if objects:
                return conjuncts(objects[0])
        if verb.dep_ in ("xcomp", "conj", "advcl"):
            return self.subjects(verb.head, hops + 1)
        if verb.dep_ == "acl" and "Pres" in verb.morph.get("Tense", []):
            return [verb.head]  # "un avion transportant du matériel": the noun does it
        return []

    def _pronominal(self, verb: Token) -> bool:
        """A reflexive clitic on the verb or just before it (the parser often hangs "s’" elsewhere)."""
        before = verb.doc[max(0, verb.i - 3) : verb.i]
        return any(t.lower_ in self.reflexives for t in (*verb.children, *before))

    def _passive(self, verb: Token) -> bool:
        return any(child.dep_ == "aux:pass" for child in verb.children) and not self._pronominal(verb)

    def objects(self, verb: Token) -> list[Token]:
        found: list[Token] = []
        deps = self.object | (frozenset() if self._pronominal(verb) else self.passive_subject)
        for child in verb.children:
            if child.dep_ in deps:
                head = child
                if child.lower_ in self.relative_pronouns and verb.dep_ in self.relative_clause:
                    head = verb.head
                found.extend(conjuncts(head))
        if not found and verb.dep_ == "acl" and "Past" in verb.morph.get("Tense", []):
            found.append(verb.head)  # "1 500 soldats déployés dans le pays": the noun undergoes it
        return found

    def obliques(self, token: Token) -> list[tuple[str, Token]]:
        """(preposition, noun) pairs hanging from `token`; "" for a bare one (a date), "à" for iobj."""
        out: list[tuple[str, Token]] = []
        for child in token.children:
            if child.dep_ in self.oblique:
                prep = self.preposition(child)
                out.extend((prep, c) for c in conjuncts(child))
            elif child.dep_ in self.indirect_object:
                out.extend(("à", c) for c in conjuncts(child))
        return out

    def governing_verb(self, token: Token) -> Token | None:
        """The verb a nominal trigger is the object or argument of ("signer un accord", "procédé à la signature")."""
        head = token.head
        if head.i == token.i or token.dep_ not in self.object | self.passive_subject | self.argument_oblique:
            return None
        return head if head.pos_ in ("VERB", "AUX") else None

    def np_mentions(self, index: MentionIndex, head: Token) -> list[int]:
        """The mentions a noun phrase stands for: its own, an unnamed actor / force / weapon made a mention
        ("la junte"), else those of its appositions, names, adjectives and "de" complements."""
        own = index.at(head.i)
        if own:
            return own
        out = index.nominal(head)
        if out:
            return out
        level = [head]
        for _ in range(2):
            following: list[Token] = []
            for token in level:
                # names first: "le président russe Vladimir Poutine" is Poutine, then "de" complements, then adjectives
                children = sorted(token.children, key=lambda c: (NP_RANK.get(c.dep_, 9), abs(c.i - head.i)))
                for child in children:
                    if child.dep_ not in self.np_deps:
                        continue
                    if child.dep_ == "nmod" and self.preposition(child) not in self.of_preps:
                        continue
                    out.extend(m for m in index.at(child.i) if m not in out)
                    following.append(child)
            if out or not following:
                break
            level = following
        return out


class UDArguments:
    """Fills an event's roles from the UD parse around its trigger; returns the mode zone (object phrases)."""

    def __init__(self, grammar: UDGrammar):
        self.g = grammar

    def verbal(self, trigger: Token, rule: EventRule, args: Offers, index: MentionIndex) -> list[Token]:
        g = self.g
        for subject in g.subjects(trigger):
            args.offer(rule.subject_roles, g.np_mentions(index, subject))
        zone: list[Token] = []
        for obj in g.objects(trigger):
            args.offer(rule.object_roles, g.np_mentions(index, obj))
            zone.extend(obj.subtree)
            self._obliques(g.obliques(obj), rule, args, index, of=True)
        self._obliques(g.obliques(trigger), rule, args, index)
        self._dates(trigger, args, index)
        for child in trigger.children:
            if child.dep_ == "xcomp" and child.pos_ == "VERB":
                # "menacé d'intervenir au Niger": the complement's object and settings are the event's
                for obj in g.objects(child):
                    args.offer(("recipient",), g.np_mentions(index, obj))
                self._obliques(g.obliques(child), rule, args, index)
        if trigger.dep_ in ("xcomp", "conj", "advcl") and trigger.head.i != trigger.i:
            self._settings(trigger.head, args, index)
        return zone

    def nominal(
        self, trigger: Token, rule: EventRule, args: Offers, index: MentionIndex, other_triggers: set[int]
    ) -> list[Token]:
        g = self.g
        zone: list[Token] = []
        for child in trigger.children:
            if child.dep_ == "amod" and index.at(child.i):
                args.offer(("time", rule.modifier_role), index.at(child.i))  # "la délégation russe"
        of_roles = rule.noun_of_roles or g.of_roles
        for prep, head in g.obliques(trigger):
            candidates = g.np_mentions(index, head)
            if prep in g.of_preps:
                args.offer(("time", *of_roles), candidates)
            elif prep == "par":
                args.offer(rule.subject_roles, candidates)
            else:
                args.offer(("time", *rule.prep_roles.get(prep, ())), candidates)
            zone.extend(head.subtree)
        for child in trigger.children:
            if child.dep_ == "acl":  # "les sanctions imposées par la CEDEAO"
                for sub in child.children:
                    if sub.dep_ in g.agent:
                        args.offer(rule.subject_roles, g.np_mentions(index, sub))
        governor = g.governing_verb(trigger)
        if governor is not None:
            if governor.i not in other_triggers and not any(args.has(r) for r in rule.subject_roles):
                for subject in g.subjects(governor):
                    args.offer(rule.subject_roles, g.np_mentions(index, subject))
            for prep, head in g.obliques(governor):
                if prep not in g.of_preps and prep != "par":
                    args.offer(("time", *rule.prep_roles.get(prep, ())), g.np_mentions(index, head))
            self._dates(governor, args, index)
        return zone

    def _dates(self, token: Token, args: Offers, index: MentionIndex) -> None:
        """A date hanging from the verb however the parser attached it ("réunis dimanche", "Mi-mars, …"),
        only a DATE fits the time role, so every child's mention may be offered."""
        if args.has("time"):
            return
        for child in token.children:  # and their dependents: the parser often hangs "mercredi" on a noun
            if args.offer(("time",), index.at(child.i)):
                return
            for grandchild in child.children:
                if args.offer(("time",), index.at(grandchild.i)):
                    return

    def _obliques(
        self, pairs: list[tuple[str, Token]], rule: EventRule, args: Offers, index: MentionIndex, of: bool = False
    ) -> None:
        for prep, head in pairs:
            if prep == "par" or (of and prep in self.g.of_preps):
                continue  # the agent is read with the subjects; "de" inside an object belongs to it
            if not prep:
                args.offer(("time",), index.at(head.i))
                continue
            candidates = self.g.np_mentions(index, head)
            if not candidates:  # "entretenu au téléphone avec le président": the inner phrase
                inner = [(p, h) for p, h in self.g.obliques(head) if p and p not in self.g.of_preps and p != "par"]
                for inner_prep, inner_head in inner:
                    roles = ("time", *rule.prep_roles.get(inner_prep, ()))
                    args.offer(roles, self.g.np_mentions(index, inner_head))
                continue
            args.offer(("time", *rule.prep_roles.get(prep, ())), candidates)

    def _settings(self, governor: Token, args: Offers, index: MentionIndex) -> None:
        """Place and time written on the governing verb ("arrivés à Niamey pour former …")."""
        for prep, head in self.g.obliques(governor):
            if not prep or prep in self.g.setting_preps:
                args.offer(("time", "place"), index.at(head.i))

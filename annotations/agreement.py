"""Inter-annotator agreement, and each annotator's figures against the gold layer.

The metrics are pure functions over plain data (`LayerData` per article and annotator, in an
`AgreementData`); `load_agreement_data` is the one function that reads the database, with a
fixed number of queries whatever the size of the project. `compute_agreement` turns the data
into a JSON-serialisable dict that a job can store and the API can return as is.

Definitions
-----------
Pairs. Two annotators form a pair when both have a layer on at least one article; every pair
figure is computed on the articles both annotated, its counts summed over those articles
(micro-average). A project figure is the mean over pairs of the pair figures that are defined.
With no pair at all the status is ``"not_enough_annotators"`` (a status, not an exception):
the pairwise figures are then None, and the figures against gold are still given.
In a pair (A, B), A is the annotator whose username sorts first and serves as reference.

Precision, recall, F1 of a pair: P = matched / |B|, R = matched / |A|, F1 = 2·matched / (|A| + |B|)
(the same as 2PR / (P + R), and symmetric in A and B). A figure whose denominator is 0 is None:
two empty layers have no F1, an empty B against a non-empty A has P None, R 0 and F1 0.

Mentions.
- exact: same (start, end, label);
- overlap: same label and overlapping spans, matched one-to-one, greedily by largest overlap
  first (ties by position), so one mention never matches twice;
- by label: the same counts restricted to one label (the matching is within a label anyway).

Events (ACE-style, as DyGIE++ / OneIE score them; offsets exact, a multiset so two events on
one trigger count twice):
- trigger identification: trigger span;
- trigger classification: trigger span + event type;
- argument identification: (event type, trigger span, argument mention span), role ignored;
- argument classification: the same + role;
- by type: trigger classification and argument identification / classification restricted
  to the events of one type.

Categorical tasks (stance, and mention labels apart from boundaries). A unit is coded by an
annotator with one value:
- stance: unit = (article, holder, target) where holder is the holder mention's span or the
  author, target the target mention's span (or the target actor when there is no target
  mention); value = the label;
- mention labels: unit = (article, exact span) of a mention; value = its label.
When one annotator gave one unit several different labels, their value is those labels sorted
and joined with "+" (e.g. "GPE+ORG"): a category of its own, which agrees only with the same mix.
- Cohen's kappa of a pair is computed on the units both coded (units coded by only one of them
  are left out: kappa has no notion of missing data); the project kappa is the mean over pairs
  that share a unit. Krippendorff's alpha (nominal) uses every unit coded by at least two
  annotators and handles missing codes natively. Both come from
  ``nltk.metrics.agreement.AnnotationTask``.
- No variation: when every value compared is one and the same category, chance agreement is
  1 and both coefficients are 0/0. We report kappa 1.0 and alpha 1.0 then, since observed
  agreement is perfect (``observed_agreement`` 1.0 says so); with no unit to compare they are None.
- ``items`` is the number of units coded by at least two annotators; ``observed_agreement`` the
  share of agreeing value pairs (1 - D_o of alpha); ``by_label`` reads the coincidence matrix of
  alpha: ``agreement`` = o_kk / n_k (of the values k that were paired, the share paired with k)
  and ``confused_with`` = o_kc for the other categories c.

Against gold (to coach annotators). For each annotator, on the articles with both their layer
and a gold layer, gold is the reference: P = matched / |annotator|, R = matched / |gold| for
mentions (exact, overlap, by label), the four event figures, and stance: ``accuracy`` = same
label / units both have, and P/R/F1 over (unit, label).

Result shape: see `compute_agreement`. Numbers are rounded to 4 decimals, undefined ones are
None (never NaN, which JSON can't carry).
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from nltk.metrics.agreement import AnnotationTask

from annotations.models import Event, EventArgument, Layer, Mention, Project, Stance

STATUS_OK = "ok"
STATUS_NOT_ENOUGH_ANNOTATORS = "not_enough_annotators"
EVENT_METRICS = (
    "trigger_identification",
    "trigger_classification",
    "argument_identification",
    "argument_classification",
)
# A not-started annotator layer is untouched: it says nothing about what its annotator would label.
DEFAULT_ANNOTATOR_STATUSES = (Layer.Status.IN_PROGRESS, Layer.Status.DONE)
# A gold layer is gold once adjudicated.
DEFAULT_GOLD_STATUSES = (Layer.Status.ADJUDICATED,)

Span = tuple[int, int]


# --- Plain data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionData:
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class ArgumentData:
    role: str
    start: int
    end: int


@dataclass(frozen=True)
class EventData:
    event_type: str
    trigger_start: int
    trigger_end: int
    arguments: tuple[ArgumentData, ...] = ()


@dataclass(frozen=True)
class StanceData:
    """A stance; `holder` None means the author; `target` is a mention span, else `target_actor` counts."""

    label: str
    holder: Span | None = None
    target: Span | None = None
    target_actor: int | None = None

    @property
    def key(self) -> str:
        holder = "author" if self.holder is None else f"{self.holder[0]}:{self.holder[1]}"
        target = f"{self.target[0]}:{self.target[1]}" if self.target is not None else f"actor:{self.target_actor}"
        return f"{holder}->{target}"


@dataclass(frozen=True)
class LayerData:
    mentions: tuple[MentionData, ...] = ()
    events: tuple[EventData, ...] = ()
    stances: tuple[StanceData, ...] = ()


@dataclass(frozen=True)
class AgreementData:
    """Annotator layers (username → article id → layer) and gold layers (article id → layer)."""

    annotators: Mapping[str, Mapping[int, LayerData]]
    gold: Mapping[int, LayerData] = field(default_factory=dict)


# --- Counting -------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


@dataclass
class Counts:
    """Matches between a reference (A, or gold) and a compared set (B, or an annotator)."""

    matched: int = 0
    reference: int = 0
    compared: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.matched + other.matched, self.reference + other.reference, self.compared + other.compared)

    @property
    def precision(self) -> float | None:
        return _ratio(self.matched, self.compared)

    @property
    def recall(self) -> float | None:
        return _ratio(self.matched, self.reference)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.matched, self.reference + self.compared)

    def figures(self, *, with_counts: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = {
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
        }
        if with_counts:
            result.update(matched=self.matched, reference=self.reference, compared=self.compared)
        return result


def _multiset_counts(reference: Iterable[Hashable], compared: Iterable[Hashable]) -> Counts:
    ref, cmp = Counter(reference), Counter(compared)
    return Counts(sum((ref & cmp).values()), sum(ref.values()), sum(cmp.values()))


def _sum_by_key(parts: Iterable[Mapping[str, Counts]]) -> dict[str, Counts]:
    total: dict[str, Counts] = defaultdict(Counts)
    for part in parts:
        for key, counts in part.items():
            total[key] = total[key] + counts
    return dict(total)


def _total(by_key: Mapping[str, Counts]) -> Counts:
    return sum(by_key.values(), Counts())


def _mean_figures(counts: Iterable[Counts]) -> dict[str, float | None]:
    counts = list(counts)
    return {
        "precision": _round(_mean(c.precision for c in counts)),
        "recall": _round(_mean(c.recall for c in counts)),
        "f1": _round(_mean(c.f1 for c in counts)),
    }


# --- Mentions -------------------------------------------------------------------------------


def mention_matches_exact(reference: Iterable[MentionData], compared: Iterable[MentionData]) -> dict[str, Counts]:
    """Per label: mentions with the same (start, end, label) in both."""
    ref, cmp = list(reference), list(compared)
    return {
        label: _multiset_counts(
            ((m.start, m.end) for m in ref if m.label == label), ((m.start, m.end) for m in cmp if m.label == label)
        )
        for label in sorted({m.label for m in ref} | {m.label for m in cmp})
    }


def mention_matches_overlap(reference: Iterable[MentionData], compared: Iterable[MentionData]) -> dict[str, Counts]:
    """Per label: overlapping mentions of the label, matched one-to-one, largest overlap first."""
    ref, cmp = list(reference), list(compared)
    result: dict[str, Counts] = {}
    for label in sorted({m.label for m in ref} | {m.label for m in cmp}):
        ref_spans = sorted((m.start, m.end) for m in ref if m.label == label)
        cmp_spans = sorted((m.start, m.end) for m in cmp if m.label == label)
        cmp_starts = [start for start, _ in cmp_spans]
        candidates = []
        for i, (start, end) in enumerate(ref_spans):
            # Only compared spans that start before this one ends can overlap it.
            for j in range(bisect.bisect_left(cmp_starts, end)):
                overlap = min(end, cmp_spans[j][1]) - max(start, cmp_spans[j][0])
                if overlap > 0:
                    candidates.append((-overlap, i, j))
        used_ref: set[int] = set()
        used_cmp: set[int] = set()
        for _, i, j in sorted(candidates):
            if i not in used_ref and j not in used_cmp:
                used_ref.add(i)
                used_cmp.add(j)
        result[label] = Counts(len(used_ref), len(ref_spans), len(cmp_spans))
    return result


# --- Events ---------------------------------------------------------------------------------


def _event_tuples(events: Iterable[EventData], metric: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for e in events:
        trigger = (e.trigger_start, e.trigger_end)
        if metric == "trigger_identification":
            out.append(trigger)
        elif metric == "trigger_classification":
            out.append((*trigger, e.event_type))
        elif metric == "argument_identification":
            out += [(e.event_type, *trigger, a.start, a.end) for a in e.arguments]
        else:
            out += [(e.event_type, *trigger, a.start, a.end, a.role) for a in e.arguments]
    return out


def event_matches(reference: Iterable[EventData], compared: Iterable[EventData]) -> dict[str, Counts]:
    """The four event figures' counts (see the module docstring)."""
    ref, cmp = list(reference), list(compared)
    return {
        metric: _multiset_counts(_event_tuples(ref, metric), _event_tuples(cmp, metric)) for metric in EVENT_METRICS
    }


def event_matches_by_type(
    reference: Iterable[EventData], compared: Iterable[EventData]
) -> dict[str, dict[str, Counts]]:
    """Per event type: trigger classification and argument identification / classification counts."""
    ref, cmp = list(reference), list(compared)
    result = {}
    for event_type in sorted({e.event_type for e in ref} | {e.event_type for e in cmp}):
        of_type = event_matches(
            [e for e in ref if e.event_type == event_type], [e for e in cmp if e.event_type == event_type]
        )
        del of_type["trigger_identification"]  # type-blind: means nothing per type
        result[event_type] = of_type
    return result


# --- Categorical agreement ------------------------------------------------------------------

# coder → unit → value
Codes = Mapping[str, Mapping[Hashable, str]]


def _value(labels: Iterable[str]) -> str:
    return "+".join(sorted(set(labels)))


def stance_codes(layer: LayerData) -> dict[str, str]:
    """Stance units (holder → target) of one layer and their value."""
    labels: dict[str, list[str]] = defaultdict(list)
    for stance in layer.stances:
        labels[stance.key].append(stance.label)
    return {key: _value(values) for key, values in labels.items()}


def mention_label_codes(layer: LayerData) -> dict[Span, str]:
    """Mention spans of one layer and their label."""
    labels: dict[Span, list[str]] = defaultdict(list)
    for mention in layer.mentions:
        labels[(mention.start, mention.end)].append(mention.label)
    return {span: _value(values) for span, values in labels.items()}


@dataclass(frozen=True)
class KappaResult:
    kappa: float | None
    observed_agreement: float | None
    items: int


def cohen_kappa(a: Mapping[Hashable, str], b: Mapping[Hashable, str]) -> KappaResult:
    """Cohen's kappa of two coders on the units both coded (see the module docstring for no variation)."""
    shared = [unit for unit in a if unit in b]
    if not shared:
        return KappaResult(None, None, 0)
    observed = sum(a[u] == b[u] for u in shared) / len(shared)
    if len({a[u] for u in shared} | {b[u] for u in shared}) == 1:
        return KappaResult(1.0, observed, len(shared))
    # nltk divides by the task's item count: give it only the shared units, as plain indexes.
    task = AnnotationTask(data=[(c, i, codes[u]) for i, u in enumerate(shared) for c, codes in (("a", a), ("b", b))])
    return KappaResult(task.kappa_pairwise("a", "b"), observed, len(shared))


@dataclass(frozen=True)
class AlphaResult:
    alpha: float | None
    observed_agreement: float | None
    items: int
    # (value, value) → coincidence count o_ck (ordered pairs of values in a unit, weighted 1 / (m_u - 1)).
    coincidences: dict[tuple[str, str], float]


def _pairable(codes: Codes) -> dict[Hashable, list[tuple[str, str]]]:
    """Units coded by at least two coders → [(coder, value)]."""
    by_unit: dict[Hashable, list[tuple[str, str]]] = defaultdict(list)
    for coder, units in codes.items():
        for unit, value in units.items():
            by_unit[unit].append((coder, value))
    return {unit: values for unit, values in by_unit.items() if len(values) >= 2}


def krippendorff_alpha(codes: Codes) -> AlphaResult:
    """Krippendorff's alpha, nominal, any number of coders, missing codes allowed."""
    units = _pairable(codes)
    coincidences: dict[tuple[str, str], float] = defaultdict(float)
    for values in units.values():
        weight = 1 / (len(values) - 1)
        for (_, x), (_, y) in itertools.permutations(values, 2):
            coincidences[(x, y)] += weight
    if not units:
        return AlphaResult(None, None, 0, {})
    paired = sum(coincidences.values())
    observed = sum(n for (x, y), n in coincidences.items() if x == y) / paired
    if len({value for values in units.values() for _, value in values}) == 1:
        alpha = 1.0
    else:
        index = {unit: i for i, unit in enumerate(units)}
        task = AnnotationTask(data=[(c, index[u], v) for u, values in units.items() for c, v in values])
        alpha = float(task.alpha())
    return AlphaResult(alpha, observed, len(units), dict(coincidences))


def categorical_agreement(codes: Codes) -> dict[str, Any]:
    """Kappa (mean over pairs), alpha, items, observed agreement, pairs and by-label figures."""
    pairs: list[dict[str, Any]] = []
    for a, b in itertools.combinations(sorted(codes), 2):
        result = cohen_kappa(codes[a], codes[b])
        if result.items:
            pairs.append(
                {
                    "annotators": [a, b],
                    "kappa": _round(result.kappa),
                    "observed_agreement": _round(result.observed_agreement),
                    "items": result.items,
                }
            )
    alpha = krippendorff_alpha(codes)
    totals: dict[str, float] = defaultdict(float)
    for (x, _), n in alpha.coincidences.items():
        totals[x] += n
    by_label = {
        label: {
            "agreement": _round(alpha.coincidences.get((label, label), 0.0) / totals[label]),
            "values": _round(totals[label]),
            "confused_with": {
                y: _round(n) for (x, y), n in sorted(alpha.coincidences.items()) if x == label and y != label
            },
        }
        for label in sorted(totals)
    }
    return {
        "kappa": _round(_mean(p["kappa"] for p in pairs)),
        "alpha": _round(alpha.alpha),
        "observed_agreement": _round(alpha.observed_agreement),
        "items": alpha.items,
        "pairs": pairs,
        "by_label": by_label,
    }


# --- Putting it together --------------------------------------------------------------------


def _per_article(
    reference: Mapping[int, LayerData], compared: Mapping[int, LayerData]
) -> list[tuple[int, LayerData, LayerData]]:
    return [(article, reference[article], compared[article]) for article in sorted(reference) if article in compared]


def _layer_comparison(shared: list[tuple[int, LayerData, LayerData]]) -> dict[str, Any]:
    """Counts of reference vs compared over the shared articles (micro-averaged)."""
    return {
        "exact": _sum_by_key(mention_matches_exact(r.mentions, c.mentions) for _, r, c in shared),
        "overlap": _sum_by_key(mention_matches_overlap(r.mentions, c.mentions) for _, r, c in shared),
        "events": _sum_by_key(event_matches(r.events, c.events) for _, r, c in shared),
        "events_by_type": {
            event_type: _sum_by_key(parts)
            for event_type, parts in _group(
                (t, by) for _, r, c in shared for t, by in event_matches_by_type(r.events, c.events).items()
            ).items()
        },
    }


def _group(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return dict(sorted(grouped.items()))


def _mention_section(pairs: list[tuple[str, str, int, dict[str, Any]]], match: str) -> dict[str, Any]:
    by_label = _group((label, counts) for *_, comparison in pairs for label, counts in comparison[match].items())
    return {
        **_mean_figures(_total(comparison[match]) for *_, comparison in pairs),
        "by_label": {label: _mean_figures(counts) for label, counts in by_label.items()},
    }


def _vs_gold(layers: Mapping[int, LayerData], gold: Mapping[int, LayerData]) -> dict[str, Any]:
    shared = _per_article(gold, layers)
    comparison = _layer_comparison(shared)
    stance = Counts()
    same = both = 0
    for _, g, a in shared:
        gold_codes, codes = stance_codes(g), stance_codes(a)
        units = [u for u in gold_codes if u in codes]
        both += len(units)
        same += sum(gold_codes[u] == codes[u] for u in units)
        stance = stance + _multiset_counts(gold_codes.items(), codes.items())
    return {
        "articles": len(shared),
        "mentions": {
            match: {
                **_total(comparison[match]).figures(with_counts=True),
                "by_label": {label: c.figures() for label, c in comparison[match].items()},
            }
            for match in ("exact", "overlap")
        },
        "events": {
            metric: comparison["events"].get(metric, Counts()).figures(with_counts=True) for metric in EVENT_METRICS
        },
        "stance": {"accuracy": _round(_ratio(same, both)), "items": both, **stance.figures()},
    }


def compute_agreement(data: AgreementData) -> dict[str, Any]:
    """Agreement between annotators and against gold, as a JSON-serialisable dict.

    {"status": "ok" | "not_enough_annotators", "annotators": [username, …],
     "articles": articles with ≥ 2 annotator layers, "gold_articles": articles with gold,
     "mentions": {"exact": {"precision", "recall", "f1", "by_label": {label: {…}}}, "overlap": {…},
                  "pairs": [{"annotators": [a, b], "articles": n, "exact": {… + counts}, "overlap": {…}}]},
     "events": {"trigger_identification": {"precision", "recall", "f1"}, "trigger_classification": …,
                "argument_identification": …, "argument_classification": …,
                "by_type": {type: {"trigger_classification": …, "argument_identification": …,
                                   "argument_classification": …}},
                "pairs": [{"annotators", "articles", each metric + counts}]},
     "stance": {"kappa", "alpha", "observed_agreement", "items", "pairs": […], "by_label": {…}},
     "mention_labels": same shape as stance,
     "vs_gold": {username: {"articles", "mentions": {"exact", "overlap"}, "events": {…},
                            "stance": {"accuracy", "items", "precision", "recall", "f1"}}}}
    """
    annotators = sorted(data.annotators)
    pairs = []
    for a, b in itertools.combinations(annotators, 2):
        shared = _per_article(data.annotators[a], data.annotators[b])
        if shared:
            pairs.append((a, b, len(shared), _layer_comparison(shared)))
    compared_articles = Counter(article for layers in data.annotators.values() for article in layers)

    events_by_type = _group(
        (t, counts) for *_, comparison in pairs for t, counts in comparison["events_by_type"].items()
    )
    stance_codes_by_annotator: Codes = {
        name: {(article, key): value for article, layer in layers.items() for key, value in stance_codes(layer).items()}
        for name, layers in data.annotators.items()
    }
    label_codes_by_annotator: Codes = {
        name: {
            (article, *span): value
            for article, layer in layers.items()
            for span, value in mention_label_codes(layer).items()
        }
        for name, layers in data.annotators.items()
    }
    return {
        "status": STATUS_OK if pairs else STATUS_NOT_ENOUGH_ANNOTATORS,
        "annotators": annotators,
        "articles": sum(1 for n in compared_articles.values() if n >= 2),
        "gold_articles": len(data.gold),
        "mentions": {
            "exact": _mention_section(pairs, "exact"),
            "overlap": _mention_section(pairs, "overlap"),
            "pairs": [
                {
                    "annotators": [a, b],
                    "articles": n,
                    "exact": _total(comparison["exact"]).figures(with_counts=True),
                    "overlap": _total(comparison["overlap"]).figures(with_counts=True),
                }
                for a, b, n, comparison in pairs
            ],
        },
        "events": {
            **{
                metric: _mean_figures(comparison["events"][metric] for *_, comparison in pairs)
                for metric in EVENT_METRICS
            },
            "by_type": {
                event_type: {metric: _mean_figures(p[metric] for p in parts) for metric in EVENT_METRICS[1:]}
                for event_type, parts in events_by_type.items()
            },
            "pairs": [
                {
                    "annotators": [a, b],
                    "articles": n,
                    **{metric: comparison["events"][metric].figures(with_counts=True) for metric in EVENT_METRICS},
                }
                for a, b, n, comparison in pairs
            ],
        },
        "stance": categorical_agreement(stance_codes_by_annotator),
        "mention_labels": categorical_agreement(label_codes_by_annotator),
        "vs_gold": {name: _vs_gold(data.annotators[name], data.gold) for name in annotators},
    }


# --- Loading --------------------------------------------------------------------------------


def load_agreement_data(
    *,
    project: Project,
    annotator_statuses: Collection[str] = DEFAULT_ANNOTATOR_STATUSES,
    gold_statuses: Collection[str] = DEFAULT_GOLD_STATUSES,
) -> AgreementData:
    """The project's annotator and gold layers as plain data, in five queries whatever its size.

    By default: annotator layers in progress or done, and adjudicated gold layers.
    """
    username = f"annotator__{get_user_model().USERNAME_FIELD}"
    layers = Layer.objects.filter(article__project=project).filter(
        Q(kind=Layer.Kind.ANNOTATOR, status__in=list(annotator_statuses))
        | Q(kind=Layer.Kind.GOLD, status__in=list(gold_statuses))
    )
    # The layer filter goes into each query as a subquery: no id list that grows with the project.
    layer_ids = layers.values("id")
    layer_rows = list(layers.order_by("article_id", "id").values_list("id", "article_id", "kind", username))
    mentions: dict[int, list[MentionData]] = defaultdict(list)
    for layer_id, label, start, end in Mention.objects.filter(layer_id__in=layer_ids).values_list(
        "layer_id", "label", "start", "end"
    ):
        mentions[layer_id].append(MentionData(label, start, end))
    arguments: dict[int, list[ArgumentData]] = defaultdict(list)
    for event_id, role, start, end in EventArgument.objects.filter(event__layer_id__in=layer_ids).values_list(
        "event_id", "role", "mention__start", "mention__end"
    ):
        arguments[event_id].append(ArgumentData(role, start, end))
    events: dict[int, list[EventData]] = defaultdict(list)
    for event_id, layer_id, event_type, start, end in Event.objects.filter(layer_id__in=layer_ids).values_list(
        "id", "layer_id", "event_type", "trigger_start", "trigger_end"
    ):
        events[layer_id].append(EventData(event_type, start, end, tuple(arguments[event_id])))
    stances: dict[int, list[StanceData]] = defaultdict(list)
    for layer_id, label, h_start, h_end, t_start, t_end, actor_id in Stance.objects.filter(
        layer_id__in=layer_ids
    ).values_list(
        "layer_id", "label", "holder__start", "holder__end", "target__start", "target__end", "target_actor_id"
    ):
        holder = None if h_start is None else (h_start, h_end)
        target = None if t_start is None else (t_start, t_end)
        stances[layer_id].append(StanceData(label, holder, target, actor_id))

    annotators: dict[str, dict[int, LayerData]] = defaultdict(dict)
    gold: dict[int, LayerData] = {}
    for layer_id, article_id, kind, name in layer_rows:
        layer = LayerData(tuple(mentions[layer_id]), tuple(events[layer_id]), tuple(stances[layer_id]))
        if kind == Layer.Kind.GOLD:
            gold[article_id] = layer
        else:
            annotators[name][article_id] = layer
    return AgreementData(annotators=dict(annotators), gold=gold)

"""Agreement: every figure checked against an example worked out by hand (arithmetic in the comments)."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict

import pytest

from annotations.agreement import (
    AgreementData,
    ArgumentData,
    EventData,
    LayerData,
    MentionData,
    StanceData,
    categorical_agreement,
    cohen_kappa,
    compute_agreement,
    krippendorff_alpha,
    load_agreement_data,
)
from annotations.models import Layer
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_gold, layer_set_status
from tests.factories import ArticleFactory, LayerFactory, UserFactory

NO_FIGURES = {"precision": None, "recall": None, "f1": None}


def gpe(start: int, end: int, label: str = "GPE") -> MentionData:
    return MentionData(label, start, end)


def two_annotators(a: LayerData, b: LayerData, article: int = 1) -> AgreementData:
    return AgreementData(annotators={"alice": {article: a}, "bob": {article: b}})


# --- Mentions -------------------------------------------------------------------------------


def test_mention_exact_f1_is_worked_out_with_the_first_annotator_as_reference():
    # Given A with 4 mentions and B with 5, 3 of them on the same (start, end, label)
    alice = LayerData(mentions=(gpe(0, 6), gpe(10, 15), gpe(20, 25), gpe(30, 35)))
    bob = LayerData(mentions=(gpe(0, 6), gpe(10, 15), gpe(20, 25), gpe(30, 36), gpe(40, 45)))

    # When
    result = compute_agreement(two_annotators(alice, bob))

    # Then P = 3/5 = 0.6, R = 3/4 = 0.75, F1 = 2·0.6·0.75 / 1.35 = 0.6667
    assert result["status"] == "ok"
    exact = result["mentions"]["exact"]
    assert (exact["precision"], exact["recall"], exact["f1"]) == (0.6, 0.75, 0.6667)
    assert exact["by_label"] == {"GPE": {"precision": 0.6, "recall": 0.75, "f1": 0.6667}}
    assert result["mentions"]["pairs"] == [
        {
            "annotators": ["alice", "bob"],
            "articles": 1,
            "exact": {"precision": 0.6, "recall": 0.75, "f1": 0.6667, "matched": 3, "reference": 4, "compared": 5},
            # [30, 35) and [30, 36) overlap: 4 matches → P = 4/5, R = 4/4, F1 = 8/9
            "overlap": {"precision": 0.8, "recall": 1.0, "f1": 0.8889, "matched": 4, "reference": 4, "compared": 5},
        }
    ]


def test_mention_overlap_needs_the_same_label_and_matches_one_to_one_by_largest_overlap():
    # A: GPE [0,10)   ORG [20,30) ORG [28,40)   LOC [50,60)
    # B: GPE [0,4) GPE [2,9)   ORG [25,35)      GPE [50,60)
    # GPE [0,10) overlaps [0,4) by 4 and [2,9) by 7 → matched with [2,9); [0,4) stays unmatched.
    # ORG [25,35) overlaps [20,30) by 5 and [28,40) by 7 → matched with [28,40) only.
    # LOC [50,60) vs GPE [50,60): same span, different label → no match.
    alice = LayerData(mentions=(gpe(0, 10), gpe(20, 30, "ORG"), gpe(28, 40, "ORG"), gpe(50, 60, "LOC")))
    bob = LayerData(mentions=(gpe(0, 4), gpe(2, 9), gpe(25, 35, "ORG"), gpe(50, 60)))

    result = compute_agreement(two_annotators(alice, bob))

    # matched 2 of |A| = 4, |B| = 4 → P = R = F1 = 0.5; no span is exactly the same → 0.
    overlap = result["mentions"]["overlap"]
    assert (overlap["precision"], overlap["recall"], overlap["f1"]) == (0.5, 0.5, 0.5)
    assert result["mentions"]["exact"]["f1"] == 0.0
    assert overlap["by_label"] == {
        # A 1, B 3, matched 1 → P = 1/3, R = 1/1, F1 = 2·1/(1+3) = 0.5
        "GPE": {"precision": 0.3333, "recall": 1.0, "f1": 0.5},
        # A 1, B 0 → P undefined, R = 0/1, F1 = 0/(1+0) = 0
        "LOC": {"precision": None, "recall": 0.0, "f1": 0.0},
        # A 2, B 1, matched 1 → P = 1/1, R = 1/2, F1 = 2/3
        "ORG": {"precision": 1.0, "recall": 0.5, "f1": 0.6667},
    }


def test_a_mention_overlapping_two_others_matches_only_once():
    # B's [7,12) overlaps A's [0,10) by 3 and A's [8,12) by 4: it matches [8,12), and [0,10) is missed.
    alice = LayerData(mentions=(gpe(0, 10), gpe(8, 12)))
    bob = LayerData(mentions=(gpe(7, 12),))

    pair = compute_agreement(two_annotators(alice, bob))["mentions"]["pairs"][0]

    # matched 1, |A| = 2, |B| = 1 → P = 1, R = 0.5, F1 = 2/3
    assert pair["overlap"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
        "matched": 1,
        "reference": 2,
        "compared": 1,
    }


def test_overlap_matching_takes_the_largest_overlap_first():
    # A: [0,10) [9,20);  B: [5,15) [6,8)
    # Overlaps: A[9,20)–B[5,15) = 6, A[0,10)–B[5,15) = 5, A[0,10)–B[6,8) = 2.
    # Largest first: [9,20)~[5,15), then [0,10)~[6,8) → 2 matches. (Taking A in text order
    # would give [0,10)~[5,15) and leave [9,20) without a partner: 1 match.)
    alice = LayerData(mentions=(gpe(0, 10), gpe(9, 20)))
    bob = LayerData(mentions=(gpe(5, 15), gpe(6, 8)))

    pair = compute_agreement(two_annotators(alice, bob))["mentions"]["pairs"][0]

    assert (pair["overlap"]["matched"], pair["overlap"]["f1"]) == (2, 1.0)


def test_project_figure_is_the_mean_over_annotator_pairs_of_counts_summed_over_articles():
    # alice and bob agree on both articles; carol has only one of the two mentions of article 1
    # and did not annotate article 2.
    one, two = gpe(0, 6), gpe(10, 16)
    data = AgreementData(
        annotators={
            "alice": {1: LayerData(mentions=(one, two)), 2: LayerData(mentions=(one,))},
            "bob": {1: LayerData(mentions=(one, two)), 2: LayerData(mentions=(one,))},
            "carol": {1: LayerData(mentions=(one,))},
        }
    )

    result = compute_agreement(data)

    # alice–bob, 2 articles: matched 3 of 3 and 3 → F1 1.0
    # alice–carol, article 1: matched 1, |A| = 2, |B| = 1 → P 1.0, R 0.5, F1 2/3
    # bob–carol: the same.   Mean F1 = (1 + 2/3 + 2/3) / 3 = 0.7778; mean R = (1 + .5 + .5) / 3 = 0.6667
    assert [(p["annotators"], p["articles"], p["exact"]["f1"]) for p in result["mentions"]["pairs"]] == [
        (["alice", "bob"], 2, 1.0),
        (["alice", "carol"], 1, 0.6667),
        (["bob", "carol"], 1, 0.6667),
    ]
    exact = result["mentions"]["exact"]
    assert (exact["precision"], exact["recall"], exact["f1"]) == (1.0, 0.6667, 0.7778)
    assert result["articles"] == 2


# --- Events ---------------------------------------------------------------------------------


def test_event_trigger_and_argument_figures():
    # A: AID [11,15) actor [0,6), recipient [70,75);  AGREE [100,106) actor [120,130)
    # B: AID [11,15) actor [0,6), artifact [70,75);   COOPERATE [100,106) actor [120,130);  ASSAULT [200,205)
    alice = LayerData(
        events=(
            EventData("AID", 11, 15, (ArgumentData("actor", 0, 6), ArgumentData("recipient", 70, 75))),
            EventData("AGREE", 100, 106, (ArgumentData("actor", 120, 130),)),
        )
    )
    bob = LayerData(
        events=(
            EventData("AID", 11, 15, (ArgumentData("actor", 0, 6), ArgumentData("artifact", 70, 75))),
            EventData("COOPERATE", 100, 106, (ArgumentData("actor", 120, 130),)),
            EventData("ASSAULT", 200, 205),
        )
    )

    events = compute_agreement(two_annotators(alice, bob))["events"]

    # trigger identification: spans match for [11,15) and [100,106): 2 of A 2, B 3
    #   → P = 2/3, R = 2/2, F1 = 2·2/(2+3) = 0.8
    assert events["trigger_identification"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8}
    # trigger classification: only AID [11,15) → P = 1/3, R = 1/2, F1 = 2/5
    assert events["trigger_classification"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4}
    # argument identification on (type, trigger, span): the two AID arguments, not the AGREE/COOPERATE one
    #   → 2 of A 3, B 3 → 2/3
    assert events["argument_identification"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667}
    # argument classification adds the role: only actor [0,6) → 1/3
    assert events["argument_classification"] == {"precision": 0.3333, "recall": 0.3333, "f1": 0.3333}
    assert events["by_type"] == {
        # ASSAULT: A 0, B 1 trigger → P 0/1, R undefined, F1 0; no arguments at all → undefined
        "ASSAULT": {
            "trigger_classification": {"precision": 0.0, "recall": None, "f1": 0.0},
            "argument_identification": NO_FIGURES,
            "argument_classification": NO_FIGURES,
        },
        # AGREE: A has it, B does not → P undefined, R 0, F1 0
        "AGREE": {
            "trigger_classification": {"precision": None, "recall": 0.0, "f1": 0.0},
            "argument_identification": {"precision": None, "recall": 0.0, "f1": 0.0},
            "argument_classification": {"precision": None, "recall": 0.0, "f1": 0.0},
        },
        # AID: trigger 1/1; arguments identified 2/2; classified 1/2
        "AID": {
            "trigger_classification": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
            "argument_identification": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
            "argument_classification": {"precision": 0.5, "recall": 0.5, "f1": 0.5},
        },
        "COOPERATE": {
            "trigger_classification": {"precision": 0.0, "recall": None, "f1": 0.0},
            "argument_identification": {"precision": 0.0, "recall": None, "f1": 0.0},
            "argument_classification": {"precision": 0.0, "recall": None, "f1": 0.0},
        },
    }
    assert events["pairs"][0]["trigger_identification"] == {
        "precision": 0.6667,
        "recall": 1.0,
        "f1": 0.8,
        "matched": 2,
        "reference": 2,
        "compared": 3,
    }


# --- Categorical: Cohen's kappa and Krippendorff's alpha ----------------------------------


def test_cohen_kappa_on_ten_items_and_two_labels():
    #              B FAVOR   B AGAINST
    # A FAVOR         4          1        5
    # A AGAINST       2          3        5
    #                 6          4       10
    # po = (4 + 3) / 10 = 0.7
    # pe = (5/10)(6/10) + (5/10)(4/10) = 0.30 + 0.20 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    pairs = (
        [("FAVOR", "FAVOR")] * 4 + [("FAVOR", "AGAINST")] + [("AGAINST", "FAVOR")] * 2 + [("AGAINST", "AGAINST")] * 3
    )
    a = {unit: x for unit, (x, _) in enumerate(pairs)}
    b = {unit: y for unit, (_, y) in enumerate(pairs)}
    # An 11th unit only A coded is left out: kappa is computed on the units both coded.
    a[10] = "NONE"

    result = cohen_kappa(a, b)

    assert result.items == 10
    assert result.observed_agreement == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.4)


def alpha_from_coincidences(units: list[list[str]]) -> float:
    """Krippendorff's alpha (nominal) written out from its coincidence matrix, independently of nltk.

    o_ck = Σ_u (number of ordered pairs (c, k) of values of u from different coders) / (m_u - 1)
    n_c = Σ_k o_ck,  n = Σ_c n_c
    alpha = 1 - D_o / D_e = ((n - 1) Σ_c o_cc - Σ_c n_c (n_c - 1)) / (n (n - 1) - Σ_c n_c (n_c - 1))
    """
    o: dict[tuple[str, str], float] = defaultdict(float)
    for values in (u for u in units if len(u) >= 2):
        for x, y in itertools.permutations(values, 2):
            o[(x, y)] += 1 / (len(values) - 1)
    n_c: Counter[str] = Counter()
    for (x, _), count in o.items():
        n_c[x] += count
    n = sum(n_c.values())
    same = sum(count for (x, y), count in o.items() if x == y)
    chance = sum(v * (v - 1) for v in n_c.values())
    return ((n - 1) * same - chance) / (n * (n - 1) - chance)


# Three coders, five units, missing codes ("-"):
#        u1  u2  u3  u4  u5
#   c1   a   a   b   b   a
#   c2   a   b   b   b   -
#   c3   a   -   -   a   -
ALPHA_EXAMPLE = {
    "c1": {"u1": "a", "u2": "a", "u3": "b", "u4": "b", "u5": "a"},
    "c2": {"u1": "a", "u2": "b", "u3": "b", "u4": "b"},
    "c3": {"u1": "a", "u4": "a"},
}


def test_krippendorff_alpha_nominal_with_missing_codes():
    # u5 has one code only: not pairable. Coincidences (pairs of values within a unit / (m_u - 1)):
    #   u1 a,a,a: 6 ordered a-a pairs / 2 → o_aa += 3
    #   u2 a,b:   o_ab += 1, o_ba += 1
    #   u3 b,b:   2 b-b pairs / 1 → o_bb += 2
    #   u4 b,b,a: 2 b-b, 2 b-a, 2 a-b pairs / 2 → o_bb += 1, o_ba += 1, o_ab += 1
    #   o_aa = 3, o_ab = o_ba = 2, o_bb = 3;  n_a = 5, n_b = 5, n = 10
    # D_o = (o_ab + o_ba) / n = 4/10 = 0.4;  D_e = (n_a n_b + n_b n_a) / (n (n-1)) = 50/90
    # alpha = 1 - 0.4 / (50/90) = 1 - 0.72 = 0.28
    # (check: ((n-1)(o_aa + o_bb) - Σ n_c(n_c-1)) / (n(n-1) - Σ n_c(n_c-1)) = (9·6 - 40) / (90 - 40) = 14/50)
    result = krippendorff_alpha(ALPHA_EXAMPLE)

    assert result.alpha == pytest.approx(0.28)
    assert result.alpha == pytest.approx(alpha_from_coincidences([["a"] * 3, ["a", "b"], ["b", "b"], ["b", "b", "a"]]))
    assert result.items == 4
    assert result.observed_agreement == pytest.approx(0.6)  # (o_aa + o_bb) / n = 6/10
    assert result.coincidences == pytest.approx({("a", "a"): 3, ("a", "b"): 2, ("b", "a"): 2, ("b", "b"): 3})


def test_krippendorff_alpha_matches_the_coincidence_formula_on_a_larger_example():
    # Four coders, three labels, codes missing here and there.
    codes = {
        "c1": {1: "F", 2: "A", 3: "N", 4: "F", 5: "A", 6: "F", 7: "N", 9: "A"},
        "c2": {1: "F", 2: "A", 3: "F", 4: "F", 6: "A", 7: "N", 8: "N"},
        "c3": {1: "F", 3: "N", 4: "A", 5: "A", 6: "F", 8: "N", 9: "A"},
        "c4": {2: "N", 4: "F", 5: "A", 7: "N", 8: "F", 10: "F"},
    }
    units = [[c[u] for c in codes.values() if u in c] for u in range(1, 11)]

    assert krippendorff_alpha(codes).alpha == pytest.approx(alpha_from_coincidences(units))


def test_categorical_section_reports_mean_pairwise_kappa_alpha_and_label_confusion():
    result = categorical_agreement(ALPHA_EXAMPLE)

    # Pairwise, on the units both coded:
    #   c1–c2 on u1..u4: agree u1, u3, u4 → po 3/4; c1 a,a,b,b; c2 a,b,b,b → pe = (2/4)(1/4) + (2/4)(3/4) = 0.5
    #         → kappa = (0.75 - 0.5) / 0.5 = 0.5
    #   c1–c3 on u1, u4: a/a, b/a → po 1/2; c1 a,b; c3 a,a → pe = (1/2)(2/2) + (1/2)(0) = 0.5 → kappa 0
    #   c2–c3 on u1, u4: the same → kappa 0
    #   mean = 0.5 / 3 = 0.1667
    assert result["pairs"] == [
        {"annotators": ["c1", "c2"], "kappa": 0.5, "observed_agreement": 0.75, "items": 4},
        {"annotators": ["c1", "c3"], "kappa": 0.0, "observed_agreement": 0.5, "items": 2},
        {"annotators": ["c2", "c3"], "kappa": 0.0, "observed_agreement": 0.5, "items": 2},
    ]
    assert result["kappa"] == 0.1667
    assert (result["alpha"], result["items"], result["observed_agreement"]) == (0.28, 4, 0.6)
    # From the coincidences above: o_aa / n_a = 3/5, o_bb / n_b = 3/5
    assert result["by_label"] == {
        "a": {"agreement": 0.6, "values": 5.0, "confused_with": {"b": 2.0}},
        "b": {"agreement": 0.6, "values": 5.0, "confused_with": {"a": 2.0}},
    }


def test_stance_units_are_holder_and_target_per_article():
    alice = LayerData(
        stances=(
            StanceData("AGAINST", holder=None, target=(0, 6)),  # the author against [0,6)
            StanceData("FAVOR", holder=(10, 20), target=(30, 40)),
            StanceData("NONE", holder=(10, 20), target_actor=7),
        )
    )
    bob = LayerData(
        stances=(
            StanceData("AGAINST", holder=None, target=(0, 6)),
            StanceData("AGAINST", holder=(10, 20), target=(30, 40)),
            StanceData("NONE", holder=(12, 20), target_actor=7),  # another holder span: another unit
        )
    )

    stance = compute_agreement(two_annotators(alice, bob))["stance"]

    # Shared units: author→[0,6) AGAINST/AGAINST and [10,20)→[30,40) FAVOR/AGAINST.
    # po = 1/2; A: AGAINST 1, FAVOR 1; B: AGAINST 2 → pe = (1/2)(2/2) = 0.5 → kappa = 0 / 0.5 = 0
    # alpha: values AGAINST ×3, FAVOR ×1, n = 4; o_AA = 2, o_AF = o_FA = 1
    #        ((n-1)·2 - 3·2) / (n(n-1) - 3·2) = (6 - 6) / (12 - 6) = 0
    assert (stance["kappa"], stance["alpha"], stance["items"]) == (0.0, 0.0, 2)


def test_a_span_given_two_labels_by_one_annotator_is_its_own_category():
    # alice labels [0,6) both GPE and ORG, bob only GPE: "GPE+ORG" vs "GPE" disagree; [10,16) agrees.
    alice = LayerData(mentions=(gpe(0, 6), gpe(0, 6, "ORG"), gpe(10, 16)))
    bob = LayerData(mentions=(gpe(0, 6), gpe(10, 16)))

    labels = compute_agreement(two_annotators(alice, bob))["mention_labels"]

    # po = 1/2; A: GPE+ORG 1, GPE 1; B: GPE 2 → pe = (1/2)(2/2) = 0.5 → kappa 0
    assert (labels["kappa"], labels["observed_agreement"], labels["items"]) == (0.0, 0.5, 2)
    assert labels["by_label"]["GPE+ORG"] == {"agreement": 0.0, "values": 1.0, "confused_with": {"GPE": 1.0}}


# --- Against gold ---------------------------------------------------------------------------


def test_each_annotator_is_scored_against_gold_on_the_articles_with_gold():
    gold = LayerData(
        mentions=(gpe(0, 6), gpe(10, 15), gpe(20, 25), gpe(30, 35)),
        events=(EventData("AID", 11, 15, (ArgumentData("actor", 0, 6),)),),
        stances=(StanceData("AGAINST", target=(0, 6)), StanceData("FAVOR", holder=(10, 15), target=(20, 25))),
    )
    alice = LayerData(
        mentions=(gpe(0, 6), gpe(10, 15), gpe(20, 25), gpe(30, 36), gpe(40, 45)),
        events=(EventData("AID", 11, 15, (ArgumentData("recipient", 0, 6),)),),
        stances=(StanceData("AGAINST", target=(0, 6)), StanceData("NONE", holder=(10, 15), target=(20, 25))),
    )
    # Article 2 has no gold: it does not count against gold.
    data = AgreementData(annotators={"alice": {1: alice, 2: alice}}, gold={1: gold})

    result = compute_agreement(data)

    # Only one annotator: no pairwise figure, but the figures against gold are there.
    assert result["status"] == "not_enough_annotators"
    assert result["gold_articles"] == 1
    vs_gold = result["vs_gold"]["alice"]
    assert vs_gold["articles"] == 1
    # gold 4, alice 5, 3 exact → P = 3/5, R = 3/4, F1 = 0.6667; with [30,36) overlapping: 4 → P 0.8, R 1, F1 8/9
    assert vs_gold["mentions"]["exact"] == {
        "precision": 0.6,
        "recall": 0.75,
        "f1": 0.6667,
        "matched": 3,
        "reference": 4,
        "compared": 5,
        "by_label": {"GPE": {"precision": 0.6, "recall": 0.75, "f1": 0.6667}},
    }
    assert vs_gold["mentions"]["overlap"]["f1"] == 0.8889
    # trigger right, argument found with the wrong role
    assert [vs_gold["events"][m]["f1"] for m in vs_gold["events"]] == [1.0, 1.0, 1.0, 0.0]
    # stance: 2 units both have, 1 with the same label → accuracy 1/2; (unit, label): 1 of 2 and 2
    assert vs_gold["stance"] == {"accuracy": 0.5, "items": 2, "precision": 0.5, "recall": 0.5, "f1": 0.5}


# --- Edge cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "annotators",
    [
        pytest.param({}, id="nobody"),
        pytest.param({"alice": {1: LayerData(mentions=(gpe(0, 6),))}}, id="one annotator"),
        pytest.param(
            {"alice": {1: LayerData(mentions=(gpe(0, 6),))}, "bob": {2: LayerData(mentions=(gpe(0, 6),))}},
            id="two annotators on different articles",
        ),
    ],
)
def test_without_two_annotators_on_one_article_the_status_says_so(annotators):
    result = compute_agreement(AgreementData(annotators=annotators))

    assert result["status"] == "not_enough_annotators"
    assert result["annotators"] == sorted(annotators)
    assert result["articles"] == 0
    assert result["mentions"]["exact"] == {**NO_FIGURES, "by_label": {}}
    assert result["mentions"]["pairs"] == []
    assert result["events"]["trigger_identification"] == NO_FIGURES
    assert (result["stance"]["kappa"], result["stance"]["alpha"], result["stance"]["items"]) == (None, None, 0)
    assert result["mention_labels"]["kappa"] is None
    json.dumps(result, allow_nan=False)


def test_empty_layers_have_no_figures_rather_than_zero_or_nan():
    result = compute_agreement(two_annotators(LayerData(), LayerData()))

    # Two annotators, nothing labelled: 0/0 everywhere is undefined, reported as None.
    assert result["status"] == "ok"
    assert result["mentions"]["pairs"][0]["exact"] == {**NO_FIGURES, "matched": 0, "reference": 0, "compared": 0}
    assert result["mentions"]["exact"] == {**NO_FIGURES, "by_label": {}}
    assert result["events"]["argument_classification"] == NO_FIGURES
    assert result["stance"] == {
        "kappa": None,
        "alpha": None,
        "observed_agreement": None,
        "items": 0,
        "pairs": [],
        "by_label": {},
    }
    json.dumps(result, allow_nan=False)


def test_an_empty_layer_against_a_full_one_scores_zero():
    result = compute_agreement(two_annotators(LayerData(mentions=(gpe(0, 6),)), LayerData()))

    # A 1, B 0, matched 0 → P undefined (B labelled nothing), R 0/1, F1 0/(1+0) = 0
    exact = result["mentions"]["exact"]
    assert (exact["precision"], exact["recall"], exact["f1"]) == (None, 0.0, 0.0)


@pytest.mark.parametrize("stance_labels", [["AGAINST", "AGAINST"], ["AGAINST", "FAVOR"]], ids=["one label", "two"])
def test_identical_layers_score_perfectly_even_without_variation(stance_labels):
    # With one label only, chance agreement is 1 and kappa/alpha are 0/0: we report 1.0 since
    # observed agreement is 1.0 (the module docstring says so).
    layer = LayerData(
        mentions=(gpe(0, 6), gpe(10, 15)),
        events=(EventData("AID", 20, 24, (ArgumentData("actor", 0, 6),)),),
        stances=(
            StanceData(stance_labels[0], target=(0, 6)),
            StanceData(stance_labels[1], holder=(0, 6), target=(10, 15)),
        ),
    )

    result = compute_agreement(two_annotators(layer, layer))

    perfect = {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["mentions"]["exact"] == {**perfect, "by_label": {"GPE": perfect}}
    assert result["mentions"]["overlap"] == {**perfect, "by_label": {"GPE": perfect}}
    assert all(result["events"][metric] == perfect for metric in ("trigger_identification", "argument_classification"))
    for section in ("stance", "mention_labels"):
        figures = result[section]
        assert (figures["kappa"], figures["alpha"], figures["observed_agreement"], figures["items"]) == (
            1.0,
            1.0,
            1.0,
            2,
        )
    json.dumps(result, allow_nan=False)


# --- Loading from the database --------------------------------------------------------------


def at(text: str, phrase: str) -> dict[str, int]:
    start = text.index(phrase)
    return {"start": start, "end": start + len(phrase)}


def mentions(layer: Layer, *specs: tuple[str, str]) -> dict[str, int]:
    """Create (label, phrase) mentions; returns phrase → mention id."""
    text = layer.article.text
    return {phrase: mention_create(layer=layer, label=label, **at(text, phrase)).pk for label, phrase in specs}


def event(layer: Layer, event_type: str, trigger: str, *arguments: tuple[str, int]) -> None:
    span = at(layer.article.text, trigger)
    event_create(
        layer=layer,
        event_type=event_type,
        trigger_start=span["start"],
        trigger_end=span["end"],
        arguments=list(arguments),
    )


@pytest.fixture
def two_annotated_articles(project):
    """alice and bob on two articles (text: tests.factories.SAMPLE_TEXT), gold on the first."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    first, second = ArticleFactory.create_batch(2, project=project)

    # Article 1 — alice: Russia GPE, Niger GPE, anti-aircraft system WEAPON, Niamey GPE;
    # AID "sent" (actor Russia, recipient Niger, artifact weapon); the author AGAINST Russia.
    layer = layer_for_annotator(article=first, annotator=alice)
    m = mentions(layer, ("GPE", "Russia"), ("GPE", "Niger"), ("WEAPON", "anti-aircraft system"), ("GPE", "Niamey"))
    event(
        layer, "AID", "sent", ("actor", m["Russia"]), ("recipient", m["Niger"]), ("artifact", m["anti-aircraft system"])
    )
    stance_create(layer=layer, label="AGAINST", target_id=m["Russia"])
    # bob: the same but "anti-aircraft" (shorter), Niamey as LOC, plus Salifou Modi PERSON;
    # Niger as a second actor instead of recipient.
    layer = layer_for_annotator(article=first, annotator=bob)
    m = mentions(
        layer,
        ("GPE", "Russia"),
        ("GPE", "Niger"),
        ("WEAPON", "anti-aircraft"),
        ("LOC", "Niamey"),
        ("PERSON", "Salifou Modi"),
    )
    event(layer, "AID", "sent", ("actor", m["Russia"]), ("actor", m["Niger"]), ("artifact", m["anti-aircraft"]))
    stance_create(layer=layer, label="AGAINST", target_id=m["Russia"])

    # Article 2 — alice: Modi, Yevkurov PERSON; AGREE "signed" (both actors); Modi FAVOR Yevkurov.
    layer = layer_for_annotator(article=second, annotator=alice)
    m = mentions(layer, ("PERSON", "Salifou Modi"), ("PERSON", "Yunus-Bek Yevkurov"))
    event(layer, "AGREE", "signed", ("actor", m["Salifou Modi"]), ("actor", m["Yunus-Bek Yevkurov"]))
    stance_create(layer=layer, label="FAVOR", holder_id=m["Salifou Modi"], target_id=m["Yunus-Bek Yevkurov"])
    # bob: the same two plus Niger GPE; COOPERATE instead of AGREE; Modi NONE Yevkurov; the author FAVOR Niger.
    layer = layer_for_annotator(article=second, annotator=bob)
    m = mentions(layer, ("PERSON", "Salifou Modi"), ("PERSON", "Yunus-Bek Yevkurov"), ("GPE", "Niger"))
    event(layer, "COOPERATE", "signed", ("actor", m["Salifou Modi"]), ("actor", m["Yunus-Bek Yevkurov"]))
    stance_create(layer=layer, label="NONE", holder_id=m["Salifou Modi"], target_id=m["Yunus-Bek Yevkurov"])
    stance_create(layer=layer, label="FAVOR", target_id=m["Niger"])

    # Gold on article 1: alice's layer plus Salifou Modi PERSON.
    gold = layer_gold(article=first)
    m = mentions(
        gold,
        ("GPE", "Russia"),
        ("GPE", "Niger"),
        ("WEAPON", "anti-aircraft system"),
        ("GPE", "Niamey"),
        ("PERSON", "Salifou Modi"),
    )
    event(
        gold, "AID", "sent", ("actor", m["Russia"]), ("recipient", m["Niger"]), ("artifact", m["anti-aircraft system"])
    )
    stance_create(layer=gold, label="AGAINST", target_id=m["Russia"])
    layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)

    # carol was given article 2 but has not started: her empty layer is not counted.
    LayerFactory(article=second, annotator=UserFactory(username="carol"))
    return project


def test_two_annotators_on_two_articles_end_to_end(two_annotated_articles):
    result = compute_agreement(load_agreement_data(project=two_annotated_articles))

    assert (result["status"], result["annotators"], result["articles"], result["gold_articles"]) == (
        "ok",
        ["alice", "bob"],
        2,
        1,
    )
    # Mentions, alice (6) as reference, bob (8):
    #   exact: Russia, Niger (art. 1), Modi, Yevkurov (art. 2) = 4 → P 4/8, R 4/6, F1 8/14 = 0.5714
    #   overlap: + anti-aircraft system ~ anti-aircraft = 5 → P 5/8, R 5/6, F1 10/14 = 0.7143
    #   (Niamey GPE vs LOC is a different label: no match either way)
    mentions_ = result["mentions"]
    assert mentions_["exact"] == {
        "precision": 0.5,
        "recall": 0.6667,
        "f1": 0.5714,
        "by_label": {
            "GPE": {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667},  # A 3, B 3, 2 matched
            "LOC": {"precision": 0.0, "recall": None, "f1": 0.0},  # A 0, B 1
            # A 2, B 3 (Modi twice), 2 matched → P 2/3, R 1, F1 4/5
            "PERSON": {"precision": 0.6667, "recall": 1.0, "f1": 0.8},
            "WEAPON": {"precision": 0.0, "recall": 0.0, "f1": 0.0},  # A 1, B 1, spans differ
        },
    }
    assert (mentions_["overlap"]["f1"], mentions_["overlap"]["by_label"]["WEAPON"]["f1"]) == (0.7143, 1.0)
    assert mentions_["pairs"][0]["overlap"] == {
        "precision": 0.625,
        "recall": 0.8333,
        "f1": 0.7143,
        "matched": 5,
        "reference": 6,
        "compared": 8,
    }

    # Events: triggers "sent" and "signed" both found (2/2); typed: AID yes, AGREE ≠ COOPERATE → 1/2.
    # Arguments (type, trigger, span), A 5, B 5: Russia and Niger of AID → 2/5 = 0.4;
    # with roles only Russia/actor (bob made Niger an actor) → 1/5 = 0.2.
    events = result["events"]
    assert [events[m]["f1"] for m in ("trigger_identification", "trigger_classification")] == [1.0, 0.5]
    assert events["argument_identification"] == {"precision": 0.4, "recall": 0.4, "f1": 0.4}
    assert events["argument_classification"] == {"precision": 0.2, "recall": 0.2, "f1": 0.2}
    # AID: arguments identified 2 of 3 and 3, classified 1 of 3 and 3
    assert events["by_type"]["AID"] == {
        "trigger_classification": {"precision": 1.0, "recall": 1.0, "f1": 1.0},
        "argument_identification": {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667},
        "argument_classification": {"precision": 0.3333, "recall": 0.3333, "f1": 0.3333},
    }
    assert sorted(events["by_type"]) == ["AGREE", "AID", "COOPERATE"]

    # Stance units both coded: (1, author→Russia) AGAINST/AGAINST, (2, Modi→Yevkurov) FAVOR/NONE;
    # bob's author→Niger is his alone.
    #   po = 1/2; A: AGAINST 1, FAVOR 1; B: AGAINST 1, NONE 1 → pe = (1/2)(1/2) = 0.25
    #   kappa = (0.5 - 0.25) / 0.75 = 0.3333
    #   alpha: n = 4 (AGAINST 2, FAVOR 1, NONE 1), o_AA = 2 → ((4-1)·2 - 2·1) / (4·3 - 2·1) = 4/10 = 0.4
    stance = result["stance"]
    assert (stance["kappa"], stance["alpha"], stance["observed_agreement"], stance["items"]) == (0.3333, 0.4, 0.5, 2)

    # Mention labels on spans both marked: Russia G/G, Niger G/G, Niamey G/L (art. 1), Modi P/P, Yevkurov P/P
    #   po = 4/5 = 0.8; A: GPE 3, PERSON 2; B: GPE 2, LOC 1, PERSON 2 → pe = (3/5)(2/5) + (2/5)(2/5) = 0.4
    #   kappa = (0.8 - 0.4) / 0.6 = 0.6667
    #   alpha: n = 10 (GPE 5, LOC 1, PERSON 4); o_GG = 4, o_PP = 4; Σ n_c(n_c-1) = 20 + 0 + 12 = 32
    #          ((10-1)·8 - 32) / (10·9 - 32) = 40/58 = 0.6897
    labels = result["mention_labels"]
    assert (labels["kappa"], labels["alpha"], labels["observed_agreement"], labels["items"]) == (0.6667, 0.6897, 0.8, 5)
    assert labels["by_label"]["GPE"] == {"agreement": 0.8, "values": 5.0, "confused_with": {"LOC": 1.0}}

    # Against gold (article 1: 5 mentions, the AID event with 3 arguments, the author AGAINST Russia):
    #   alice: 4 mentions, all in gold → P 1, R 4/5, F1 8/9; events all right; stance right.
    #   bob: 5 mentions, exact Russia, Niger, Modi → 3/5; arguments identified 2/3, classified 1/3.
    alice, bob = result["vs_gold"]["alice"], result["vs_gold"]["bob"]
    assert (alice["articles"], alice["mentions"]["exact"]["f1"], alice["mentions"]["exact"]["precision"]) == (
        1,
        0.8889,
        1.0,
    )
    assert [alice["events"][m]["f1"] for m in alice["events"]] == [1.0, 1.0, 1.0, 1.0]
    assert alice["stance"] == {"accuracy": 1.0, "items": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert (bob["mentions"]["exact"]["f1"], bob["mentions"]["overlap"]["f1"]) == (0.6, 0.8)
    assert [bob["events"][m]["f1"] for m in bob["events"]] == [1.0, 1.0, 0.6667, 0.3333]
    json.dumps(result, allow_nan=False)


def test_loader_statuses_decide_which_layers_count(two_annotated_articles):
    everything = load_agreement_data(
        project=two_annotated_articles,
        annotator_statuses=Layer.Status.values,
        gold_statuses=(),
    )

    # carol's not-started layer counts when asked for, as an empty layer; gold was left out.
    assert sorted(everything.annotators) == ["alice", "bob", "carol"]
    assert list(everything.annotators["carol"].values()) == [LayerData()]
    assert everything.gold == {}


@pytest.mark.parametrize("article_count", [2, 10])
def test_loader_query_count_does_not_grow_with_the_project(project, article_count, django_assert_max_num_queries):
    annotators = [UserFactory(username=name) for name in ("alice", "bob")]
    for article in ArticleFactory.create_batch(article_count, project=project):
        for layer in [layer_for_annotator(article=article, annotator=user) for user in annotators] + [
            layer_gold(article=article)
        ]:
            m = mentions(layer, ("GPE", "Russia"), ("GPE", "Niger"))
            event(layer, "AID", "sent", ("actor", m["Russia"]), ("recipient", m["Niger"]))
            stance_create(layer=layer, label="AGAINST", holder_id=m["Niger"], target_id=m["Russia"])
        layer_set_status(layer=layer_gold(article=article), status=Layer.Status.ADJUDICATED)

    # Layers, mentions, event arguments, events, stances: five queries, however many articles.
    with django_assert_max_num_queries(5):
        data = load_agreement_data(project=project)

    assert [len(data.annotators[name]) for name in ("alice", "bob")] == [article_count, article_count]
    assert len(data.gold) == article_count
    assert compute_agreement(data)["events"]["argument_classification"]["f1"] == 1.0

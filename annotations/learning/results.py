"""What a training run is told and what it hands back: plain dataclasses and the two errors (no spaCy).

The web process may import this module without loading any model (the package imports spaCy,
scikit-learn's estimators and the NLP pipeline only inside the functions that train or predict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPONENTS = ("mentions", "triggers", "arguments", "stance")

# Fewest gold items a component needs on the training rows before it is trained at all.
DEFAULT_MIN_EXAMPLES = {"mentions": 50, "triggers": 30, "arguments": 40, "stance": 20}


@dataclass
class TrainConfig:
    """How one training run goes.

    ner_start: "base" resumes from the base model's ner weights with the schema's labels added, "blank"
    trains a fresh ner with its own tok2vec, "both" trains both and keeps the better one on dev.
    use_plover: add the PLOVER gold-standard sentences (annotations/learning/data) to the trigger and
    argument training data; only for the default schema (its name is seeds/schema.json's).
    dev_share: the share of stories held out when no dev rows are given.
    cv_folds: story-grouped folds on the training rows that decide how learned and rule output merge.
    """

    ner_iterations: int = 20
    ner_start: str = "both"
    seed: int = 0
    use_plover: bool = False
    min_examples: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIN_EXAMPLES))
    components: tuple[str, ...] = COMPONENTS
    dev_share: float = 0.25
    cv_folds: int = 4
    ner_dropout: float = 0.2
    classifier_c: float = 1.0


@dataclass
class ComponentResult:
    name: str
    trained: bool
    reason: str  # why it was skipped, or a one-line summary
    path: str = ""  # relative to out_dir; "" when not trained
    labels: list[str] = field(default_factory=list)  # labels / event types / roles / stance labels it outputs
    examples: int = 0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    components: dict[str, ComponentResult]
    seconds: float
    peak_memory_mb: float
    dev_keys: list[str]


class TrainingCancelled(Exception):
    """should_stop() said so; nothing of the run was left in out_dir."""


class ModelLoadError(Exception):
    """A learned component's file is missing, corrupt or not what it claims to be."""

    def __init__(self, component: str, path: str, reason: str):
        super().__init__(f"cannot load the {component} component from {path}: {reason}")
        self.component = component
        self.path = path
        self.reason = reason

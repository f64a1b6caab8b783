"""The learning loop's pure ML core (no Django, no database): train components on gold rows, save and load
them, run them merged with the rules inside the Preannotator, evaluate.

Components (COMPONENTS), one file or directory each under a training run's out_dir:
- mentions (`mentions/`): a spaCy ner trained on the gold mention labels, from the base model's ner
  weights or blank (TrainConfig.ner_start; "both" keeps the better on dev);
- triggers (`triggers.joblib`): logistic regression over candidate tokens (verbs, nouns, adjectives,
  names) → event type or NONE; features from the parse, the window, the mentions around and whether an
  event rule fires there;
- arguments (`arguments.joblib`): logistic regression over trigger–mention pairs of a sentence → role or
  NONE; features: dependency path, preposition, side, distance, mention label, event type, the rules' role;
- stance (`stance.joblib`): logistic regression over holder–target pairs of a sentence → label or NONE.
Each classifier file also holds its merge thresholds, chosen on out-of-fold predictions over the
training stories (datasets.py). Rows are the native JSONL rows of the corpus; "negatives" (rejected
suggestions) weigh as extra negatives. PLOVER gold-standard sentences (data/, CC BY-SA 4.0, Open
Event Data Alliance; data/NOTICE) add trigger and argument rows for the default schema.

Importing this package loads no spaCy: the NLP pipeline and spaCy are imported where training or
prediction runs (scikit-learn and joblib are imported here).
"""

from annotations.learning.evaluate import evaluate
from annotations.learning.results import (
    COMPONENTS,
    ComponentResult,
    ModelLoadError,
    TrainConfig,
    TrainingCancelled,
    TrainResult,
)
from annotations.learning.runtime import LearnedComponents
from annotations.learning.train import train_components

__all__ = [
    "COMPONENTS",
    "ComponentResult",
    "LearnedComponents",
    "ModelLoadError",
    "TrainConfig",
    "TrainResult",
    "TrainingCancelled",
    "evaluate",
    "train_components",
]

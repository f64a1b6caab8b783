"""The language of an article's text, told apart among the languages the workbench has pipelines for.

Detection must not slow the import down (DESIGN.md §7: ≥ 2,000 articles/s), so it reads two short
samples, the head and the tail of the text, with lingua's low-accuracy mode (trigrams only, reliable
from about 120 characters; a shorter text is read with the full models) restricted to the languages
in `settings.SPACY_MODELS`. When the samples disagree (the rare case) the first few thousand
characters are split into language runs and the language with the most characters wins; the article
is flagged as mixed. A text too short to tell is `und` (undetermined, ISO 639-2), with a note.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

UNDETERMINED = "und"
SAMPLE_CHARS = 200
MIXED_SCAN_CHARS = 4000
MIN_LETTERS = 20
SHORT_CHARS = 120


@dataclass(frozen=True)
class LanguageGuess:
    code: str
    note: str = ""
    mixed: bool = False


@functools.cache
def _detector(languages: tuple[str, ...], accurate: bool = False) -> LanguageDetector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    if len(chosen) == 1:  # lingua needs two; the answer is then the one language or nothing
        chosen.append(Language.ENGLISH if chosen[0] != Language.ENGLISH else Language.FRENCH)
    builder = LanguageDetectorBuilder.from_languages(*chosen)
    return (builder if accurate else builder.with_low_accuracy_mode()).build()


def _code(language: object) -> str:
    return language.iso_code_639_1.name.lower()  # type: ignore[attr-defined]


def detect_language(text: str, languages: Sequence[str]) -> LanguageGuess:
    """The language of `text` among `languages` (ISO 639-1 codes), `und` when it can't be told."""
    letters = sum(1 for ch in text[: SAMPLE_CHARS * 2] if ch.isalpha())
    if letters < MIN_LETTERS:
        return LanguageGuess(UNDETERMINED, note=f"text too short to tell its language ({letters} letters)")
    wanted = tuple(sorted({code.lower() for code in languages}))
    if not wanted:
        return LanguageGuess(UNDETERMINED, note="no language has a pipeline")
    stripped = text.strip()
    # Under SHORT_CHARS the trigram mode guesses ("Will Niger call the Wagner Group?" came out French):
    # short texts get lingua's full models (loaded on the first one, ~80 MB; ~0.15 ms a text).
    detector = _detector(wanted, accurate=len(stripped) < SHORT_CHARS)
    samples = [stripped[:SAMPLE_CHARS]]
    if len(stripped) > 2 * SAMPLE_CHARS:
        samples.append(stripped[-SAMPLE_CHARS:])
    found = [detector.detect_language_of(sample) for sample in samples]
    codes = {_code(language) for language in found if language is not None}
    if len(codes) == 1 and None not in found:
        code = codes.pop()
        return LanguageGuess(code) if code in wanted else _other(code)
    shares: Counter[str] = Counter()
    scan = stripped[:MIXED_SCAN_CHARS]
    for run in detector.detect_multiple_languages_of(scan):
        shares[_code(run.language)] += run.end_index - run.start_index
    if not shares:
        return LanguageGuess(UNDETERMINED, note=f"language not recognised among {', '.join(wanted)}")
    total = sum(shares.values())
    (code, _), *rest = shares.most_common()
    if not rest:
        return LanguageGuess(code) if code in wanted else _other(code)
    parts = ", ".join(f"{c} {n / total:.0%}" for c, n in shares.most_common())
    return LanguageGuess(code, note=f"mixed languages ({parts}); stored as the majority, {code}", mixed=True)


def _other(code: str) -> LanguageGuess:
    # only reached with a single configured language (the detector's filler): not one we can annotate
    return LanguageGuess(UNDETERMINED, note=f"looks like {code}, which has no pipeline")

"""Whether to answer: one stage, one typed set of signals, one calibrated probability that the answer is right.

The signals are what the earlier stages measured (how the best passage and the best sentence scored, how
clearly they won, how close the encoder puts them to the question, what the question names that the corpus
lacks, whether the answer states the kind of value asked for). Learned gradient-boosted trees map them to the
probability that the chosen answer contains the right answer; the engine refuses below a threshold chosen on
out-of-fold predictions. Without a model, today's rule stands: passage coverage, quartered per missing name
and once more when the asked unit is absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from reportqa.answer.extract import content_terms
from reportqa.index.measures import Measure, states
from reportqa.index.text import tagged

from reportqa.core.learned import LearnedModel, matrix

# unknown_names (names the corpus lacks: jieba's tagger and the company-suffix rule) is measured for the rules'
# confidence but not learned from: removing it from the model did not lower any out-of-fold figure (make eval)
# an English question is read through a dictionary and a cross-lingual encoder, so its similarities and coverage
# mean something else than a Chinese question's: the model gets each of these again, for English questions only
# (without them, one offset for English carried English chit-chat over the threshold)
ENGLISH_READ = ("ranker_top", "unit_sim", "chunk_sim", "coverage", "reader_top", "terms_missing", "centroid_lift")
SIGNALS = (
    "ranker_top", "ranker_margin", "reader_top", "reader_margin", "unit_sim", "chunk_sim", "chunk_sim_margin",
    "coverage", "unit_coverage", "measure_missing", "english", "wants_number", "wants_entity",
    "names_missing", "names_missing_passage", "years_missing", "rarest_missing", "terms_missing", "centroid_lift",
    "pairs_missing", "pairs_missing_count", "pairs_missing_passage", "focus_missing", "focus_missing_passage",
    *(f"english_{name}" for name in ENGLISH_READ),
)
MISSING_FACTOR = 0.25  # the rules' confidence kept per name the corpus lacks, and when the asked unit is absent


@dataclass(frozen=True, slots=True)
class Signals:
    """What the answerability stage reads about one question and its chosen answer."""

    ranker_top: float  # probability-scale score of the best passage
    ranker_margin: float  # its lead over the second passage
    reader_top: float  # the reader's probability for the chosen sentence (rules: its hand-weighted score)
    reader_margin: float
    unit_sim: float  # encoder cosine of the question and the chosen sentence
    chunk_sim: float  # encoder cosine of the question and the best passage
    chunk_sim_margin: float
    coverage: float  # share of the question's terms the best passage writes
    unit_coverage: float  # ... and the chosen sentence itself
    unknown_names: int  # names in the question the corpus never writes
    measure_missing: bool  # the question asks for a unit (多少颗, 哪一年, 谁) that the answer does not state
    english: bool
    wants_number: bool
    wants_entity: bool
    names_missing: int  # names the question writes (places, organisations, Latin names) absent from the answer
    names_missing_passage: int  # ... absent from the best passage
    years_missing: int  # years the question names that the answer does not
    rarest_missing: float  # idf of the rarest question term the answer lacks, as a share of the largest idf
    terms_missing: float  # share of the question's terms the answer lacks
    # the question's content terms read as character pairs (大尺寸 → 大尺, 尺寸): a near miss (中小尺寸 for 大尺寸,
    # 地级市 for 县级市, 营收 for 净利润) lacks a pair where whole-word coverage sees the shared word
    pairs_missing: float  # share of the pairs the answer lacks
    pairs_missing_count: int
    pairs_missing_passage: float  # ... the best passage lacks
    focus_missing: bool  # the question's last content term (what it asks the value of) is not in the answer
    focus_missing_passage: bool
    # the question's mean cosine to the collection's units less the units' own (SearchIndex.centroid_lift):
    # near the whole, not just one passage
    centroid_lift: float = 0.0
    # the answer verifier's logit for (question, chosen sentence): a cross-encoder reads them together (0: none)
    verifier: float = 0.0

    def row(self) -> dict[str, float]:
        """The signals by name, with the English-only copies (`english_<name>`: 0 for a Chinese question)."""
        row = {k: float(v) for k, v in asdict(self).items()}
        return row | {f"english_{name}": row[name] * row["english"] for name in ENGLISH_READ}


def measure_missing(measure: Measure | None, answer_text: str) -> bool:
    """The question asks for a value in some unit and the answer states none in it."""
    return bool(measure and answer_text and not states(answer_text, measure))


def probability_correct(signals: Signals, model: LearnedModel) -> float:
    return float(model.probabilities(matrix([signals.row()], model.features))[0])


def rule_confidence(signals: Signals) -> float:
    """Today's confidence: coverage of the best passage, quartered per missing name and for a missing unit."""
    factor = MISSING_FACTOR ** (signals.unknown_names + int(signals.measure_missing))
    return signals.coverage * factor


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 40.0), -40.0)))


YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "eng"})
_LATIN_NAME = re.compile(r"[a-z0-9][a-z0-9\-.]*")
_HAN = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Absences:
    """What of the question the chosen answer (and the best passage) does not write."""

    names_missing: int
    names_missing_passage: int
    years_missing: int
    rarest_missing: float
    terms_missing: float
    pairs_missing: float
    pairs_missing_count: int
    pairs_missing_passage: float
    focus_missing: bool
    focus_missing_passage: bool


def question_names(words: Sequence[str]) -> list[str]:
    """The question's words that name something: Latin names and model numbers, or words jieba tags as names."""
    return [w.lower() for w in words if _LATIN_NAME.fullmatch(w.lower()) or (len(w) >= 2 and is_name(w))]


@lru_cache(maxsize=8192)
def is_name(word: str) -> bool:
    return any(tag in NAME_TAGS for _, tag in tagged(word))


def absences(question: str, words: Sequence[str], core: Sequence[str], answer_flat: str, passage_flat: str,
             idf: Mapping[str, float], unknown_idf: float) -> Absences:
    """Lower-case whitespace-free texts in; counts and shares of what is missing out.

    A question with no term the index reads ("Hi there! How are you?") has every share at 1, as if each term were
    missing: with 0 it looked like a question the answer covers completely, and English chit-chat was answered.
    """
    names = question_names(words)
    terms = [t.lower() for t in core if not t.isdigit()]
    missing = [idf.get(t, unknown_idf) for t in terms if t not in answer_flat]
    content = [t.lower() for t in content_terms(core)]
    pairs = [p for term in content for p in character_pairs(term)]
    pairs_absent = sum(p not in answer_flat for p in pairs)
    focus = content[-1] if content else ""  # extract.focus: the term the question asks the value of
    measured = Absences(
        names_missing=sum(n not in answer_flat for n in names),
        names_missing_passage=sum(n not in passage_flat for n in names),
        years_missing=sum(y not in answer_flat for y in set(YEAR.findall(question))),
        rarest_missing=max(missing, default=0.0) / unknown_idf if unknown_idf > 0 else 0.0,
        terms_missing=len(missing) / len(terms) if terms else 0.0,
        pairs_missing=pairs_absent / len(pairs) if pairs else 0.0, pairs_missing_count=pairs_absent,
        pairs_missing_passage=sum(p not in passage_flat for p in pairs) / len(pairs) if pairs else 0.0,
        focus_missing=bool(focus) and focus not in answer_flat,
        focus_missing_passage=bool(focus) and focus not in passage_flat)
    if terms:
        return measured
    return replace(measured, rarest_missing=1.0, terms_missing=1.0, pairs_missing=1.0, pairs_missing_count=0,
                   pairs_missing_passage=1.0, focus_missing=True, focus_missing_passage=True)


def character_pairs(term: str) -> list[str]:
    """A Chinese term's overlapping character pairs; a Latin term (or a one-character one) is read whole."""
    if len(term) < 2:
        return []
    if not _HAN.search(term):
        return [term]
    return [term[i : i + 2] for i in range(len(term) - 1)]


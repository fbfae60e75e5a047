"""Open a published index version and search it: BM25 + dense candidates, fused, then reranked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.build import IDF_FILE, search_text
from reportqa.index.dense import DenseIndex
from reportqa.index.embed import Embedder
from reportqa.index.fusion import fuse
from reportqa.index.lexical import LexicalIndex
from reportqa.index.models import CORPUS_STATIC, load_embedder
from reportqa.index.query import Query, aliases
from reportqa.index.rank_features import CandidateFacts, chunk_features, pool
from reportqa.index.store import (
    BIGRAM_DIR,
    BM25_DIR,
    CHUNKS,
    FAISS_FILE,
    MODEL_DIR,
    IndexCorrupt,
    current_version_path,
    read_chunks,
    read_manifest,
    verify_files,
)
from reportqa.index.text import bigrams, covered_share, tagged, weighted_terms, without_spaces, word_frequency
from reportqa.index.vectors import UnitTable, load_units

from reportqa.core.learned import LinearModel, matrix
from reportqa.core.types import Chunk, Hit

CANDIDATES = 60
QUERY_VECTOR_CACHE = 256
# what of a question the encoder reads: a question is short, and a 2,000-character one took over a second of CPU
# (three 512-token windows); the lexical channels still read all of it
QUERY_ENCODER_CHARS = 300
UNITS_PER_CANDIDATE = 4  # unit neighbours fetched per candidate passage wanted (several units share a passage)
NORMALIZED_CACHE = 50_000  # chunks whose comparison form is kept between queries
CENTROID_SAMPLE = 8192  # unit vectors averaged for the collection's centroid
COVERAGE_WEIGHT = 1.0
UNKNOWN_WORD_PENALTY = 0.25  # confidence kept per name the corpus never uses
NAME_FLAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "eng", "x"})  # jieba's tags for names and the unknown
COMMON_WORD_FREQ = 50
FUNCTION_CHARS = "的了在是对按该其为那这较前要新多大占套用中与和及或将把被从向于"
TYPE_WEIGHT = 0.1
_HAS_NUMBER = re.compile(r"\d")
_COMPANY_SUFFIX = r"(?:科技|公司|集团|股份|控股|生物|医药|银行|电子|智能|资本)"
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_NUMERAL = re.compile(rf"^(?:百分之|[{_CN_DIGITS}]+分之)?[{_CN_DIGITS}点成倍]+$")


@dataclass(frozen=True, slots=True)
class SearchWeights:
    bm25: float = 1.0
    dense: float = 0.35
    rerank: bool = True
    bigram: float = 0.5

    def channels(self) -> dict[str, float]:
        return {"bm25": self.bm25, "bigram": self.bigram, "dense": self.dense}


@dataclass
class SearchIndex:
    version: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    lexical: LexicalIndex
    bigram: LexicalIndex
    dense: DenseIndex
    embedder: Embedder
    idf: dict[str, float]
    units: tuple[np.ndarray, UnitTable] | None = None  # unit vectors and which rows each chunk owns
    _normalized: dict[int, str] = field(default_factory=dict)
    _query_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    _centroid: np.ndarray | None = None

    def __post_init__(self) -> None:
        # a question term the corpus never uses is the rarest of all: its absence must weigh most
        self.unknown_idf = max(self.idf.values(), default=1.0) + 1.0
        self._positions = {c.id: i for i, c in enumerate(self.chunks)}

    def position(self, chunk_id: str) -> int:
        """The index of a chunk in this version (where its vectors are)."""
        return self._positions[chunk_id]

    def normalized_text(self, i: int) -> str:
        text = self._normalized.get(i)
        if text is None:
            text = without_spaces(search_text(self.chunks[i]))
            if len(self._normalized) >= NORMALIZED_CACHE:
                self._normalized.clear()  # bounded: at a million chunks it would otherwise grow to all of them
            self._normalized[i] = text
        return text

    def coverages(self, query: Query, candidates: Iterable[int]) -> dict[int, float]:
        """IDF-weighted share of the question's own terms that occur in each candidate passage."""
        weighted = weighted_terms(query.core, self.idf, self.unknown_idf)
        return {i: covered_share(weighted, self.normalized_text(i)) for i in candidates}

    def unknown_words(self, query: Query) -> list[str]:
        """Names in the question that the corpus never uses, not even piecewise: usually an entity it lacks.

        Common words (in jieba's dictionary with some frequency) are paraphrase, not missing entities;
        function characters glued on by segmentation (其为, 定义新) are trimmed before looking.
        """
        vocab, grams, table = self.lexical.vocabulary, self.bigram.vocabulary, aliases()
        unknown = []
        for word in query.words:
            core = word.strip(FUNCTION_CHARS)
            if len(core) < 2 or core in vocab or any(a in vocab for a in table.get(core, ())) or _NUMERAL.match(core):
                continue
            if word_frequency(core) >= COMMON_WORD_FREQ:
                continue
            if any(p not in grams for p in bigrams(core)):
                unknown.append(core)
        return unknown

    def unknown_names(self, query: Query) -> list[str]:
        """The unknown words jieba's tagger takes for names (拓荆, 千帆; not 差着, 干得) or that the question writes
        as a company's name (脑虎科技): what lowers confidence.

        On the fresh set the unfiltered words had flagged 9 of 50 answerable questions, paraphrase in words the
        corpus lacks; these flag none of them (and 8 of the 18 unanswerable questions of eval/qa.jsonl).
        """
        unknown = self.unknown_words(query)
        if query.english:
            return unknown
        asked = without_spaces(query.text)
        return [word for word in unknown if _tagged_as_name(word) or _names_a_company(word, asked)]

    def channel_scores(self, query: Query, weights: SearchWeights) -> dict[str, dict[int, float]]:
        channels: dict[str, dict[int, float]] = {}
        if weights.bm25 > 0:
            channels["bm25"] = _best_positive(self.lexical.scores(query.terms))
        if weights.bigram > 0:
            channels["bigram"] = _best_positive(self.bigram.scores(query.grams))
        if weights.dense > 0:
            channels["dense"] = self.dense_candidates(query)
        return channels

    def dense_candidates(self, query: Query) -> dict[int, float]:
        """The CANDIDATES chunks nearest the question: by their own vectors, or by their best unit's."""
        vector = self.query_vector(query)
        if self.units is None:
            sims, ids = self.dense.search(vector, CANDIDATES)
            return {int(i): float(s) for s, i in zip(sims, ids, strict=True) if i >= 0}
        sims, ids = self.dense.search(vector, CANDIDATES * UNITS_PER_CANDIDATE)
        keep = ids >= 0
        best: dict[int, float] = {}
        for chunk, sim in zip(self.units[1].owners(ids[keep]).tolist(), sims[keep].tolist(), strict=True):
            if chunk not in best:  # results come best first
                best[chunk] = float(sim)
                if len(best) == CANDIDATES:
                    break
        return best

    def query_vector(self, query: Query) -> np.ndarray:
        """The question's unit vector, computed once per question text (search and answer choice both read it).

        The corpus-fitted model reads Chinese only, so it gets the translated text; an encoder reads the question
        as asked.
        """
        text = query.dense_text if self.embedder.name == CORPUS_STATIC or not query.asked else query.asked
        text = text[:QUERY_ENCODER_CHARS]
        vector = self._query_vectors.get(text)
        if vector is None:
            if len(self._query_vectors) >= QUERY_VECTOR_CACHE:
                self._query_vectors.clear()
            vector = self._query_vectors[text] = self.embedder.encode_queries([text])[0]
        return vector

    def centroid_lift(self, query: Query) -> float:
        """How near the question lies to what the reports are about as a whole, against a typical unit: its mean
        cosine to the collection's units less the units' own mean cosine to each other (|centroid|²). The best
        passage's cosine says how near one passage is; this says how near the whole is, and the difference makes
        it comparable across collections (CMRC's questions lie 0.02 lower than the reports' in raw mean cosine,
        as do its units)."""
        if self.units is None:
            return 0.0
        if self._centroid is None:
            vectors = self.units[0]
            step = max(1, len(vectors) // CENTROID_SAMPLE)  # evenly spaced rows: a million need not be read
            self._centroid = np.asarray(vectors[::step], dtype=np.float32).mean(axis=0)
        centroid = self._centroid
        return float(self.query_vector(query) @ centroid - centroid @ centroid)

    def unit_similarities(self, query: Query, chunk_index: int) -> np.ndarray:
        """Cosine of the question to each unit of a chunk (index.units order); empty without unit vectors."""
        if self.units is None:
            return np.zeros(0, dtype=np.float32)
        vectors, table = self.units
        rows = table.rows(chunk_index)
        return np.asarray(vectors[rows.start : rows.stop] @ self.query_vector(query), dtype=np.float32)

    def search(self, query: Query, k: int, weights: SearchWeights) -> list[Hit]:
        """Fused candidates, reranked by coverage; each hit's confidence is its coverage, quartered for each
        name in the question that the corpus lacks."""
        channels = self.channel_scores(query, weights)
        fused = fuse(channels, weights.channels())
        coverage = self.coverages(query, fused)
        if weights.rerank:
            fused = {i: s + self._rerank_bonus(query, i, coverage[i]) for i, s in fused.items()}
        ranked = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        penalty = UNKNOWN_WORD_PENALTY ** len(self.unknown_names(query))
        return [
            Hit(self.chunks[i], fused[i], {name: scores[i] for name, scores in channels.items() if i in scores}
                | {"coverage": coverage[i], "confidence": coverage[i] * penalty})
            for i in ranked
        ]

    def candidate_features(self, query: Query, weights: SearchWeights) -> dict[int, dict[str, float]]:
        """Every channel's candidates with the ranker's features (index.rank_features): the pool a learned
        ranker orders. The pool does not depend on how many hits are asked for."""
        channels = self.channel_scores(query, weights)
        candidates = pool(channels)
        coverage = self.coverages(query, candidates)
        chunk_level = self.units is None
        vector = self.query_vector(query)
        dense = (self.dense.similarities(vector, candidates) if chunk_level
                 else np.zeros(len(candidates), dtype=np.float32))
        facts = {}
        for i, sim in zip(candidates, dense.tolist(), strict=True):
            units = self.unit_similarities(query, i)
            best_unit = float(units.max()) if len(units) else 0.0
            chunk = self.chunks[i]
            facts[i] = CandidateFacts(sim if chunk_level else best_unit, best_unit if len(units) else sim,
                                      coverage[i], _HAS_NUMBER.search(chunk.text) is not None,
                                      chunk.kind == "table")
        return chunk_features(channels, facts, query.wants, query.english)

    def ranked(self, query: Query, k: int, weights: SearchWeights, ranker: LinearModel) -> list[Hit]:
        """The pool ordered by the learned ranker; a hit's channel scores are its features and `ranker`, its
        score the ranker's logit."""
        rows = self.candidate_features(query, weights)
        ids = list(rows)
        if not ids:
            return []
        scores = ranker.logits(matrix([rows[i] for i in ids], ranker.features)).tolist()
        order = sorted(range(len(ids)), key=lambda j: (-scores[j], ids[j]))[:k]
        return [Hit(self.chunks[ids[j]], float(scores[j]), rows[ids[j]] | {"ranker": float(scores[j])})
                for j in order]

    def _rerank_bonus(self, query: Query, i: int, coverage: float) -> float:
        bonus = COVERAGE_WEIGHT * coverage
        if query.wants in {"number", "date"} and _HAS_NUMBER.search(self.chunks[i].text):
            bonus += TYPE_WEIGHT
        return bonus


def _names_a_company(word: str, asked: str) -> bool:
    """脑虎 in 脑虎科技: a word the corpus lacks, written as the name part of a company's name."""
    return re.search(re.escape(word) + _COMPANY_SUFFIX, asked) is not None


@lru_cache(maxsize=4096)
def _tagged_as_name(word: str) -> bool:
    """One token that jieba's tagger takes for a name; the word alone is enough for that, and cheaper to tag."""
    tags = tagged(word)
    return len(tags) == 1 and tags[0][1] in NAME_FLAGS


def _best_positive(scores: np.ndarray) -> dict[int, float]:
    """The CANDIDATES highest-scoring chunks of one lexical channel, those with any score at all."""
    top = np.argpartition(-scores, min(CANDIDATES, len(scores) - 1))[:CANDIDATES]
    return {int(i): float(scores[i]) for i in top if scores[i] > 0}


def open_index(index_dir: Path, embedder: Embedder | None = None, expect: Mapping[str, Any] | None = None,
               models_dir: Path = Path("var/models")) -> SearchIndex:
    """Load and verify the current version; every inconsistency is reported, never served."""
    version = current_version_path(index_dir)
    manifest = read_manifest(version)
    verify_files(version, manifest)
    if expect:
        from reportqa.index.store import check_compatible

        check_compatible(manifest, str(expect["embed_model"]), dict(expect["chunker"]), index_dir)
    try:
        chunks = read_chunks(version / CHUNKS)
        idf = json.loads((version / IDF_FILE).read_text(encoding="utf-8"))
        if not isinstance(idf, dict):
            raise ValueError(f"{IDF_FILE} is not a term → weight object")
        lexical = LexicalIndex.load(version / BM25_DIR, len(chunks))
        bigram = LexicalIndex.load(version / BIGRAM_DIR, len(chunks))
        dense = DenseIndex.load(version / FAISS_FILE)
        units = load_units(version, len(chunks))
    except (OSError, ValueError, RuntimeError, TypeError, KeyError) as exc:
        raise IndexCorrupt(f"index version {version} cannot be read ({exc}); rebuild with reportqa index") from exc
    expected = manifest.get("n_chunks")
    dense_rows = units[1].size if units is not None else len(chunks)
    if not (len(chunks) == expected and dense.size == dense_rows):
        raise IndexCorrupt(
            f"index version {version} is inconsistent: manifest says {expected} chunks, chunk store has "
            f"{len(chunks)}, dense index has {dense.size} vectors for {dense_rows}; rebuild with reportqa index"
        )
    if dense.dimension != manifest.get("dimension"):
        raise IndexCorrupt(f"dense index dimension {dense.dimension} != manifest {manifest.get('dimension')}")
    if embedder is None:
        name = str(manifest["embed_model"])
        try:
            embedder = load_embedder(name, version / MODEL_DIR if name == CORPUS_STATIC else None, models_dir)
        except Exception as exc:  # a damaged model folder fails in many library-specific ways
            raise IndexCorrupt(f"the embedding model of {version} cannot be loaded ({exc}); "
                               "rebuild with reportqa index") from exc
    return SearchIndex(version, manifest, chunks, lexical, bigram, dense, embedder, idf, units)

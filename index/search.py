"""Open a published index version and search it: BM25 + dense candidates, fused, then reranked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.build import IDF_FILE
from reportqa.index.dense import DenseIndex
from reportqa.index.embed import Embedder
from reportqa.index.fusion import fuse
from reportqa.index.lexical import LexicalIndex
from reportqa.index.models import CORPUS_STATIC, load_embedder
from reportqa.index.query import Query, aliases, analyze
from reportqa.index.query_vectors import QueryVectors
from reportqa.index.rank_features import CandidateFacts, chunk_features, pool, quantitative_share
from reportqa.index.shard import CandidateRecord, LocalShard, collection_centroid, merge_tops
from reportqa.index.store import (
    BIGRAM_DIR,
    BM25_DIR,
    CHUNKS,
    FAISS_FILE,
    MODEL_DIR,
    QUANTITATIVE_SHARE,
    IndexCorrupt,
    current_version_path,
    read_chunks,
    read_manifest,
    verify_files,
)
from reportqa.index.text import bigrams, tagged, without_spaces, word_frequency
from reportqa.index.titles import TitleTerms
from reportqa.index.vectors import UnitTable, load_units

from reportqa.core.learned import LearnedModel, QueryAdapter, matrix
from reportqa.core.types import Chunk, Hit

# what of a question the encoder reads: a question is short, and a 2,000-character one took over a second of CPU
# (three 512-token windows); the lexical channels still read all of it
QUERY_ENCODER_CHARS = 300
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

    def active(self) -> tuple[str, ...]:
        return tuple(name for name, weight in self.channels().items() if weight > 0)


class Retrieval:
    """What the engine asks of an index, over candidates gathered from one or many shards (subclasses say how):
    the channels' pool, the ranker's features, the hits, and the question-level signals."""

    version: Path
    embedder: Embedder
    idf: dict[str, float]
    manifest: dict[str, Any]
    unknown_idf: float
    word_vocabulary: Mapping[str, int]
    gram_vocabulary: Mapping[str, int]
    has_units: bool
    remote = False  # whether searching waits on other processes (shards on a cluster)
    query_vectors: QueryVectors
    query_adapter: QueryAdapter | None = None  # the learned map of question vectors; set through with_query_adapter

    def gather(self, query: Query, weights: SearchWeights
               ) -> tuple[dict[str, dict[int, float]], dict[int, CandidateRecord]]:
        """(channel → position → raw score, position → measurements) of every candidate of the pool."""
        raise NotImplementedError

    @cached_property
    def titles(self) -> TitleTerms:
        """The documents' titles from the manifest: which report a question names."""
        return TitleTerms.of(self.manifest.get("documents", {}))

    @cached_property
    def quant(self) -> float:
        """What kind of collection this is (index.rank_features.quantitative_share), as the build recorded it; an
        index built before it was recorded counts its passages once."""
        if QUANTITATIVE_SHARE in self.manifest:
            return float(self.manifest[QUANTITATIVE_SHARE])
        return quantitative_share(self.passage_texts())

    def passage_texts(self) -> Iterator[str]:
        """Every passage's text (what an index built without a recorded quantitative share counts, once)."""
        for doc in self.manifest.get("documents", {}):
            yield from (chunk.text for chunk in self.document_chunks(doc))

    def centroid(self) -> np.ndarray | None:
        raise NotImplementedError

    def position(self, chunk_id: str) -> int:
        """Where a chunk the search returned sits in the collection (what unit_similarities takes)."""
        raise NotImplementedError

    def unit_similarities(self, query: Query, position: int) -> np.ndarray:
        """Cosine of the question to each unit of a chunk (index.units order); empty without unit vectors."""
        raise NotImplementedError

    def document_chunks(self, doc: str) -> list[Chunk]:
        raise NotImplementedError

    def degraded(self) -> list[str]:
        """Parts of the collection the latest search could not reach (shards that failed)."""
        return []

    def check(self) -> list[str]:
        """Parts of the collection that do not answer now (asked, not remembered): for /healthz."""
        return []

    def unknown_words(self, query: Query) -> list[str]:
        """Names in the question that the corpus never uses, not even piecewise: usually an entity it lacks.

        Common words (in jieba's dictionary with some frequency) are paraphrase, not missing entities;
        function characters glued on by segmentation (其为, 定义新) are trimmed before looking.
        """
        vocab, grams, table = self.word_vocabulary, self.gram_vocabulary, aliases()
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

    def query_vector(self, query: Query) -> np.ndarray:
        """The question's unit vector, computed once per question text (search and answer choice both read it).

        The corpus-fitted model reads Chinese only, so it gets the translated text; an encoder reads the question
        as asked.
        """
        vector = self.query_vectors.vector(self.encoder_text(query))
        return self.query_adapter.apply(vector) if self.query_adapter is not None else vector

    @property
    def encoder_name(self) -> str:
        """The encoder the collection was embedded with, as its manifest names it (what an adapter is fitted for)."""
        return str(self.manifest.get("embed_model", self.embedder.name))

    def with_query_adapter(self, adapter: QueryAdapter | None) -> Retrieval:
        """This collection with question vectors mapped by `adapter` (None: as the encoder gives them): a view that
        shares the vectors, the shards and the cache of encoded questions, so training can try one per fold. An
        adapter fitted for another encoder or dimension is not applied."""
        if adapter is not None and not adapter.fits(self.encoder_name, int(self.manifest.get("dimension", 0))):
            adapter = None
        view = copy.copy(self)
        view.query_adapter = adapter
        return view

    def encoder_text(self, query: Query) -> str:
        """What of the question the encoder reads (the key of its cached vector)."""
        text = query.dense_text if self.embedder.name == CORPUS_STATIC or not query.asked else query.asked
        return text[:QUERY_ENCODER_CHARS]

    def prime(self, questions: Sequence[str], pool: Executor | None = None) -> int:
        """Encode the vectors of questions about to be asked: on `pool` in the background (a batch's look-ahead),
        or two at a time, returning when done. Only the corpus-fitted model needs a question analysed first (it
        reads the translation); an encoder reads the question as asked, so no analysis is done twice."""
        texts = [self.encoder_text(analyze(q)) if self.embedder.name == CORPUS_STATIC else q[:QUERY_ENCODER_CHARS]
                 for q in questions]
        return self.query_vectors.ahead(texts, pool) if pool is not None else self.query_vectors.prime(texts)

    def encode_together(self, queries: Sequence[Query]) -> int:
        """Encode the vectors of queries one answer will read, two at a time, returning when done: a chat turn
        searched with its thread and read as asked waits for one encoding, not two, on two cores. Only an index
        with unit vectors reads the second (the reader's unit similarities): without them the first is encoded
        alone, when searched."""
        if not self.has_units:
            return 0
        return self.query_vectors.prime([self.encoder_text(query) for query in queries])

    def centroid_lift(self, query: Query) -> float:
        """How near the question lies to what the reports are about as a whole, against a typical unit: its mean
        cosine to the collection's units less the units' own mean cosine to each other (|centroid|²). The best
        passage's cosine says how near one passage is; this says how near the whole is, and the difference makes
        it comparable across collections (CMRC's questions lie 0.02 lower than the reports' in raw mean cosine,
        as do its units)."""
        centroid = self.centroid()
        if centroid is None:
            return 0.0
        return float(self.query_vector(query) @ centroid - centroid @ centroid)

    def search(self, query: Query, k: int, weights: SearchWeights) -> list[Hit]:
        """Fused candidates, reranked by coverage; each hit's confidence is its coverage, quartered for each
        name in the question that the corpus lacks."""
        channels, records = self.gather(query, weights)
        fused = fuse(channels, weights.channels())
        if weights.rerank:
            fused = {i: s + self._rerank_bonus(query, records[i]) for i, s in fused.items()}
        ranked = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        penalty = UNKNOWN_WORD_PENALTY ** len(self.unknown_names(query))
        return [
            Hit(records[i].chunk, fused[i],
                {name: scores[i] for name, scores in channels.items() if i in scores}
                | {"coverage": records[i].coverage, "confidence": records[i].coverage * penalty})
            for i in ranked
        ]

    def candidate_features(self, query: Query, weights: SearchWeights) -> dict[int, dict[str, float]]:
        """Every channel's candidates with the ranker's features (index.rank_features): the pool a learned
        ranker orders. The pool does not depend on how many hits are asked for."""
        return self._features(query, weights)[0]

    def _features(self, query: Query, weights: SearchWeights
                  ) -> tuple[dict[int, dict[str, float]], dict[int, CandidateRecord]]:
        channels, records = self.gather(query, weights)
        named = self.titles.named((*query.core, *query.words))
        facts = {}
        for i in pool(channels):
            record = records[i]
            units = record.unit_similarities
            best_unit = float(units.max()) if len(units) else 0.0
            sim = record.chunk_similarity
            facts[i] = CandidateFacts(best_unit if self.has_units else sim, best_unit if len(units) else sim,
                                      record.coverage, _HAS_NUMBER.search(record.chunk.text) is not None,
                                      record.chunk.kind == "table", named.get(record.chunk.doc, 0.0))
        return chunk_features(channels, facts, query.wants, query.english, self.quant), records

    def ranked(self, query: Query, k: int, weights: SearchWeights, ranker: LearnedModel) -> list[Hit]:
        """The pool ordered by the learned ranker; a hit's channel scores are its features and `ranker`, its
        score the ranker's logit."""
        rows, records = self._features(query, weights)
        ids = list(rows)
        if not ids:
            return []
        scores = ranker.logits(matrix([rows[i] for i in ids], ranker.features)).tolist()
        order = sorted(range(len(ids)), key=lambda j: (-scores[j], ids[j]))[:k]
        return [Hit(records[ids[j]].chunk, float(scores[j]), rows[ids[j]] | {"ranker": float(scores[j])})
                for j in order]

    def _rerank_bonus(self, query: Query, record: CandidateRecord) -> float:
        bonus = COVERAGE_WEIGHT * record.coverage
        if query.wants in {"number", "date"} and _HAS_NUMBER.search(record.chunk.text):
            bonus += TYPE_WEIGHT
        return bonus


@dataclass
class SearchIndex(Retrieval):
    """The embedded index: one published version, searched in this process (a one-shard collection)."""

    version: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    lexical: LexicalIndex
    bigram: LexicalIndex
    dense: DenseIndex
    embedder: Embedder
    idf: dict[str, float]
    units: tuple[np.ndarray, UnitTable] | None = None  # unit vectors and which rows each chunk owns
    query_vectors: QueryVectors = field(init=False)
    _centroid: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.query_vectors = QueryVectors(self.embedder)
        self.shard = LocalShard(self.chunks, self.lexical, self.bigram, self.dense, self.units, self.idf,
                                np.arange(len(self.chunks), dtype=np.int64))
        self.unknown_idf = self.shard.unknown_idf
        self.word_vocabulary = self.lexical.vocabulary
        self.gram_vocabulary = self.bigram.vocabulary
        self.has_units = self.units is not None
        self._positions = {c.id: i for i, c in enumerate(self.chunks)}

    def passage_texts(self) -> Iterator[str]:
        return (chunk.text for chunk in self.chunks)

    def position(self, chunk_id: str) -> int:
        """The index of a chunk in this version (where its vectors are)."""
        return self._positions[chunk_id]

    def gather(self, query: Query, weights: SearchWeights
               ) -> tuple[dict[str, dict[int, float]], dict[int, CandidateRecord]]:
        vector = self.query_vector(query)
        channels = merge_tops([self.shard.top(query, vector, weights.active())], weights.active())
        candidates = pool(channels)
        return channels, {r.position: r for r in self.shard.records(query, vector, candidates)}

    def centroid(self) -> np.ndarray | None:
        if self.units is None:
            return None
        if self._centroid is None:
            self._centroid = collection_centroid(self.units[0])
        return self._centroid

    def unit_similarities(self, query: Query, position: int) -> np.ndarray:
        return self.shard.unit_similarities(self.query_vector(query), position)

    def document_chunks(self, doc: str) -> list[Chunk]:
        return self.shard.document_chunks(doc)


def _names_a_company(word: str, asked: str) -> bool:
    """脑虎 in 脑虎科技: a word the corpus lacks, written as the name part of a company's name."""
    return re.search(re.escape(word) + _COMPANY_SUFFIX, asked) is not None


@lru_cache(maxsize=4096)
def _tagged_as_name(word: str) -> bool:
    """One token that jieba's tagger takes for a name; the word alone is enough for that, and cheaper to tag."""
    tags = tagged(word)
    return len(tags) == 1 and tags[0][1] in NAME_FLAGS


ShardOpener = Callable[[Path, dict[str, Any]], Any]  # (version, manifest) → the shards (index.sharded.ShardSet)


def open_index(index_dir: Path, embedder: Embedder | None = None, expect: Mapping[str, Any] | None = None,
               models_dir: Path = Path("var/models"), shards: ShardOpener | None = None) -> Retrieval:
    """Load and verify the current version; every inconsistency is reported, never served. A sharded version
    is searched through `shards` when given (Ray), else with every shard loaded here."""
    version = current_version_path(index_dir)
    manifest = read_manifest(version)
    if expect:
        from reportqa.index.store import check_compatible

        check_compatible(manifest, str(expect["embed_model"]), dict(expect["chunker"]), index_dir)
    if manifest.get("kind") == "sharded":
        from reportqa.index.sharded import open_sharded

        return open_sharded(version, manifest, shards(version, manifest) if shards else None, embedder, models_dir)
    verify_files(version, manifest)
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

"""A collection split into shards ranks exactly like one index over it: ids and raw scores, BM25 and exact dense.

Random corpora (few distinct words, so equal scores and ties at the cut are common) and random splits; the
shards are scored from the collection's statistics. Scored from their own, rankings change (the last test).
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportqa.index.bm25 import CollectionStats
from reportqa.index.dense import DenseIndex
from reportqa.index.lexical import LexicalIndex
from reportqa.index.query import Query
from reportqa.index.shard import LocalShard, merge_tops, partition, top_positive
from reportqa.index.shard_build import Collection, shard_inputs
from reportqa.index.terms import counts_from_lists
from reportqa.index.vectors import UnitTable

from reportqa.core.types import Chunk

WORDS = [f"w{i}" for i in range(12)]
CHANNELS = ("bm25", "bigram", "dense")


def chunk(doc: str, n: int) -> Chunk:
    return Chunk(f"{doc}#{n}", doc, doc, "", f"{doc} {n}", 0, 1, 1, 1)


def query(terms: list[str]) -> Query:
    weights = {t: 1.0 for t in terms}
    return Query(" ".join(terms), weights, weights, tuple(terms), tuple(terms), " ".join(terms), False, None)


def collection(docs: list[list[list[str]]], seed: int, dim: int = 8) -> Collection:
    chunks = [chunk(f"d{d}", n) for d, doc in enumerate(docs) for n in range(len(doc))]
    token_lists = [tokens for doc in docs for tokens in doc]
    rng = np.random.default_rng(seed)
    per_chunk = rng.integers(1, 4, len(chunks))
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(per_chunk, out=offsets[1:])
    vectors = rng.normal(size=(int(offsets[-1]), dim)).astype(np.float32)
    vectors = np.round(vectors, 1)  # coarse values: equal similarities happen
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    grams = [[a + b for a, b in itertools.pairwise(t)] for t in token_lists]
    return Collection(chunks, counts_from_lists(token_lists), counts_from_lists(grams), vectors, UnitTable(offsets))


def whole(c: Collection) -> LocalShard:
    assert c.units is not None
    return LocalShard(list(c.chunks), LexicalIndex.from_counts(c.words), LexicalIndex.from_counts(c.grams),
                      DenseIndex.build(c.vectors), (c.vectors, c.units), {}, np.arange(len(c.chunks)))


def shards(c: Collection, n: int, own_statistics: bool = False) -> list[LocalShard]:
    out = []
    for part in shard_inputs(c, n, {}):
        word_stats = None if own_statistics else part.word_stats
        gram_stats = None if own_statistics else part.gram_stats
        assert part.unit_offsets is not None
        out.append(LocalShard(part.chunks, LexicalIndex.from_counts(part.words, word_stats),
                              LexicalIndex.from_counts(part.grams, gram_stats), DenseIndex.build(part.vectors),
                              (part.vectors, UnitTable(part.unit_offsets)), part.idf, part.positions))
    return out


documents = st.lists(st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=12), min_size=1, max_size=30),
                     min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=documents, n_shards=st.integers(1, 5), asked=st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
       seed=st.integers(0, 2**16))
def test_shards_rank_like_one_index(docs: list[list[list[str]]], n_shards: int, asked: list[str], seed: int) -> None:
    c = collection(docs, seed)
    q = query(asked)
    vector = np.random.default_rng(seed + 1).normal(size=8).astype(np.float32)
    vector /= np.linalg.norm(vector)
    single = merge_tops([whole(c).top(q, vector, CHANNELS)], CHANNELS)
    split = merge_tops([s.top(q, vector, CHANNELS) for s in shards(c, n_shards)], CHANNELS)
    for name in CHANNELS:
        assert split[name] == single[name], name  # the same positions with bit-identical scores
        ranked = sorted(single[name].items(), key=lambda pair: (-pair[1], pair[0]))
        assert [p for p, _ in ranked] == sorted(split[name], key=lambda p: (-split[name][p], p))


@settings(max_examples=30, deadline=None)
@given(docs=documents, n_shards=st.integers(1, 6))
def test_partition_keeps_documents_whole_and_balanced(docs: list[list[list[str]]], n_shards: int) -> None:
    c = collection(docs, 0)
    parts = partition(c.chunks, n_shards)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(c.chunks)))
    owner = {c.chunks[p].doc: k for k, part in enumerate(parts) for p in part.tolist()}
    assert all(owner[c.chunks[p].doc] == k for k, part in enumerate(parts) for p in part.tolist())
    sizes = sorted(len(p) for p in parts)
    largest_doc = max(len(d) for d in docs)
    assert sizes[-1] - sizes[0] <= largest_doc  # greedy by size: no shard more than one document ahead


def test_per_shard_statistics_change_the_ranking() -> None:
    """w1 is rare in the collection but common in the shard holding d0: with that shard's own statistics its
    chunks lose the idf they have in the whole collection, and the merged list orders differently."""
    docs = [[["w1", "w2"], ["w1", "w3"], ["w1", "w4"]], [["w2", "w5"], ["w3", "w6"]], [["w1", "w7"]]] + \
           [[["w8", "w9"]] for _ in range(6)]
    c = collection(docs, 3)
    q = query(["w1", "w2"])
    vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
    single = merge_tops([whole(c).top(q, vector, CHANNELS)], CHANNELS)["bm25"]
    global_stats = merge_tops([s.top(q, vector, CHANNELS) for s in shards(c, 3)], CHANNELS)["bm25"]
    own_stats = merge_tops([s.top(q, vector, CHANNELS) for s in shards(c, 3, own_statistics=True)], CHANNELS)["bm25"]
    assert global_stats == single
    assert own_stats != single


def test_collection_statistics_are_those_of_the_whole_corpus() -> None:
    corpus = counts_from_lists([["a", "b"], [], ["a", "a", "c"]])
    stats = corpus.collection_stats()
    assert isinstance(stats, CollectionStats)
    assert (stats.n_docs, stats.avgdl, stats.df.tolist()) == (3, (2 + 1 + 3) / 3, [2, 1, 1])  # empty counts as 1


def test_top_positive_breaks_ties_at_the_cut_by_lower_index() -> None:
    scores = np.array([0.0, 2.0, 1.0, 1.0, 1.0, 3.0, -1.0], dtype=np.float32)
    assert sorted(top_positive(scores, 3).tolist()) == [1, 2, 5]
    assert sorted(top_positive(scores, 10).tolist()) == [1, 2, 3, 4, 5]

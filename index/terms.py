"""The corpus as term counts: each chunk's distinct term ids and counts, for the word and bigram channels.

Texts become ids as soon as they are tokenised, so a build never holds every chunk's tokens as Python strings:
one vocabulary dict per channel and int32 arrays. Large corpora are tokenised by a pool of processes (jieba is
pure Python), each with its own vocabulary; the parent maps each worker's new words to global ids and
translates the worker's id arrays with one numpy gather.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from reportqa.index.text import bigrams, tokens

if TYPE_CHECKING:
    from reportqa.index.bm25 import CollectionStats

PARALLEL_MIN = 20_000  # chunks: below this a build tokenises in-process (tests and the server's adds never fork)
BATCH = 500  # chunks per task sent to a tokenising worker


@dataclass(frozen=True, slots=True)
class TermCounts:
    """A corpus as a sparse document × term count matrix in CSR form.

    Within a document the ids are in order of first occurrence (what the embedding fit relies on to stay
    bit-identical to its list-based predecessor); `vocabulary[id]` is the term.
    """

    indptr: np.ndarray  # int64, documents + 1
    ids: np.ndarray  # int32
    counts: np.ndarray  # int32
    vocabulary: list[str]

    @property
    def n_docs(self) -> int:
        return len(self.indptr) - 1

    def lengths(self) -> np.ndarray:
        """Tokens per document, repeats included."""
        from reportqa.index.bm25 import document_lengths

        return document_lengths(self.indptr, self.counts)

    def document_frequency(self) -> np.ndarray:
        return np.bincount(self.ids, minlength=len(self.vocabulary)).astype(np.int64)

    def rows(self, docs: np.ndarray) -> TermCounts:
        """The given documents only (in the order given), with the same vocabulary and ids."""
        docs = np.asarray(docs, dtype=np.int64)
        starts, ends = self.indptr[docs], self.indptr[docs + 1]
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(ends - starts, out=indptr[1:])
        take = np.concatenate([np.arange(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
                              or [np.zeros(0, dtype=np.int64)]).astype(np.int64)
        return TermCounts(indptr, self.ids[take], self.counts[take], self.vocabulary)

    def collection_stats(self) -> CollectionStats:
        from reportqa.index.bm25 import CollectionStats

        return CollectionStats.of(self.indptr, self.counts, len(self.vocabulary), self.ids)

    def terms_of(self, doc: int) -> dict[str, int]:
        """One document's term → count (for tests and inspection)."""
        start, end = int(self.indptr[doc]), int(self.indptr[doc + 1])
        return {self.vocabulary[i]: int(c) for i, c in zip(self.ids[start:end], self.counts[start:end], strict=True)}


class _Encoder:
    """Terms → ids of one vocabulary, documents → (distinct ids in first-occurrence order, counts)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.reported = 0  # terms already handed to the parent (worker side)

    def encode(self, docs: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(distinct ids per document, counts, distinct terms per document) of a batch of documents."""
        ids: list[int] = []
        counts: list[int] = []
        widths: list[int] = []
        vocab, terms = self.ids, self.terms
        for doc in docs:
            local: dict[int, int] = {}
            for term in doc:
                i = vocab.get(term)
                if i is None:
                    i = vocab[term] = len(terms)
                    terms.append(term)
                local[i] = local.get(i, 0) + 1
            ids.extend(local)
            counts.extend(local.values())
            widths.append(len(local))
        return (np.array(ids, dtype=np.int32), np.array(counts, dtype=np.int32), np.array(widths, dtype=np.int64))

    def new_terms(self) -> list[str]:
        fresh = self.terms[self.reported :]
        self.reported = len(self.terms)
        return fresh


Encoded = tuple[np.ndarray, np.ndarray, np.ndarray]


class _Channel:
    """The parent's side of one channel: global vocabulary, per-worker id maps, batches of arrays."""

    def __init__(self) -> None:
        self.encoder = _Encoder()
        self.maps: dict[Any, np.ndarray] = {}
        self.parts: list[Encoded] = []

    def add_local(self, batch: Encoded) -> None:
        self.parts.append(batch)

    def add_remote(self, worker: Any, new_terms: list[str], batch: Encoded) -> None:
        vocab, terms = self.encoder.ids, self.encoder.terms
        fresh = np.empty(len(new_terms), dtype=np.int32)
        for k, term in enumerate(new_terms):
            i = vocab.get(term)
            if i is None:
                i = vocab[term] = len(terms)
                terms.append(term)
            fresh[k] = i
        mapping = np.concatenate([self.maps.get(worker, np.zeros(0, np.int32)), fresh])
        self.maps[worker] = mapping
        ids, counts, widths = batch
        self.parts.append((mapping[ids], counts, widths))

    def finish(self) -> TermCounts:
        """Concatenate the batches and renumber the vocabulary in sorted order (stable files, any worker order)."""
        ids = np.concatenate([p[0] for p in self.parts]) if self.parts else np.zeros(0, np.int32)
        counts = np.concatenate([p[1] for p in self.parts]) if self.parts else np.zeros(0, np.int32)
        widths = np.concatenate([p[2] for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        self.parts.clear()
        indptr = np.zeros(len(widths) + 1, dtype=np.int64)
        np.cumsum(widths, out=indptr[1:])
        terms = self.encoder.terms
        order = sorted(range(len(terms)), key=terms.__getitem__)
        renumber = np.empty(len(terms), dtype=np.int32)
        renumber[order] = np.arange(len(terms), dtype=np.int32)
        return TermCounts(indptr, renumber[ids] if len(ids) else ids, counts, [terms[i] for i in order])


def with_synonyms(corpus: TermCounts, synonyms: Mapping[str, Sequence[str]]) -> TermCounts:
    """Each document also counts, once for each of its words, that word's synonyms (appended to the vocabulary
    when new): a co-occurrence model fitted on it places synonyms close, also ones the corpus never writes."""
    from scipy.sparse import csr_matrix

    vocabulary = list(corpus.vocabulary)
    position = {term: i for i, term in enumerate(vocabulary)}
    rows: list[int] = []
    cols: list[int] = []
    for term, others in synonyms.items():
        i = position.get(term)
        if i is None:
            continue
        for other in others:
            j = position.setdefault(other, len(vocabulary))
            if j == len(vocabulary):
                vocabulary.append(other)
            if j != i:
                rows.append(i)
                cols.append(j)
    if not rows:
        return corpus
    shape = (corpus.n_docs, len(vocabulary))
    present = csr_matrix((np.ones(len(corpus.ids), dtype=np.int32), corpus.ids, corpus.indptr),
                         shape=(corpus.n_docs, len(corpus.vocabulary)))
    expand = csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(corpus.vocabulary), shape[1]))
    counts = csr_matrix((corpus.counts, corpus.ids, corpus.indptr), shape=shape) + present @ expand
    counts.sum_duplicates()
    return TermCounts(counts.indptr.astype(np.int64), counts.indices.astype(np.int32),
                      counts.data.astype(np.int32), vocabulary)


def counts_from_lists(docs: Iterable[Sequence[str]]) -> TermCounts:
    """Term counts of already tokenised documents (the document cache's tokens), in-process."""
    channel = _Channel()
    batch: list[Sequence[str]] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == 10_000:
            channel.add_local(channel.encoder.encode(batch))
            batch = []
    if batch:
        channel.add_local(channel.encoder.encode(batch))
    return channel.finish()


# ---------------------------------------------------------------- tokenising workers

_WORKER: tuple[_Encoder, _Encoder] | None = None


def _tokenise_batch(texts: Sequence[str]) -> tuple[int, list[str], Encoded, list[str], Encoded]:
    """In a worker: both channels of a batch, with the words this worker had not reported before."""
    global _WORKER
    if _WORKER is None:
        _WORKER = (_Encoder(), _Encoder())
    words, grams = _WORKER
    word_batch = words.encode(tokens(t) for t in texts)
    gram_batch = grams.encode(bigrams(t) for t in texts)
    return os.getpid(), words.new_terms(), word_batch, grams.new_terms(), gram_batch


def _batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def worker_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def tokenise_corpus(texts: Sequence[str], processes: int | None = None,
                    progress: Callable[[int], None] | None = None) -> tuple[TermCounts, TermCounts]:
    """(word counts, bigram counts) of every text: jieba search-mode tokens and character bigrams.

    Large corpora (≥ PARALLEL_MIN texts, more than one core) are tokenised by a pool of processes, one per
    core; small ones in this process.
    """
    processes = worker_count() if processes is None else processes
    words, grams = _Channel(), _Channel()
    done = 0
    if processes <= 1 or len(texts) < PARALLEL_MIN:
        for batch in _batches(texts, BATCH):
            words.add_local(words.encoder.encode(tokens(t) for t in batch))
            grams.add_local(grams.encoder.encode(bigrams(t) for t in batch))
            done += len(batch)
            if progress:
                progress(done)
        return words.finish(), grams.finish()
    # fork: the workers start at once with jieba's dictionary already loaded, and nothing re-imports the caller's
    # main module (spawn would re-run an unguarded script). The workers only run Python and small numpy code, so
    # threads the parent may hold (OpenMP, a server's pool) do not matter; gc.freeze keeps the workers' garbage
    # collector off the parent's objects, whose pages would otherwise be copied into every worker.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    gc.freeze()
    try:
        with multiprocessing.get_context(method).Pool(processes) as pool:
            # imap keeps results in task order, so each worker's batches arrive in the order it encoded them
            for worker, new_words, word_batch, new_grams, gram_batch in pool.imap(_tokenise_batch,
                                                                                    _batches(texts, BATCH)):
                words.add_remote(worker, new_words, word_batch)
                grams.add_remote(worker, new_grams, gram_batch)
                done += len(word_batch[2])
                if progress:
                    progress(done)
    finally:
        gc.unfreeze()
    return words.finish(), grams.finish()

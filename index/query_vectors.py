"""The questions' vectors, kept per text: search and answer choice both read one, and a batch encodes ahead."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
from reportqa.index.embed import Embedder

QUERY_VECTOR_CACHE = 256
PRIME_THREADS = 2  # the wheel's engine releases the GIL: two texts encode at once on two cores


class QueryVectors:
    """A bounded, thread-safe cache of question vectors (least recently used goes first), with the texts being
    encoded ahead: asking for one of those waits for it rather than encoding it a second time."""

    def __init__(self, embedder: Embedder, capacity: int = QUERY_VECTOR_CACHE) -> None:
        self._embedder = embedder
        self._capacity = capacity
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pending: dict[str, Future[np.ndarray]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def vector(self, text: str) -> np.ndarray:
        """The text's vector: cached, being encoded ahead (waited for), or encoded now."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
            pending = self._pending.get(text)
        if pending is not None:
            return pending.result()
        return self._encode(text)

    def ahead(self, texts: Iterable[str], pool: Executor) -> int:
        """Start encoding on `pool` the texts neither cached nor on their way; how many were started. Start no
        more than the cache holds before asking for them, or the first would be gone when asked for."""
        started = 0
        with self._lock:
            for text in texts:
                if text in self._vectors or text in self._pending:
                    continue
                self._pending[text] = pool.submit(self._encode, text)
                started += 1
        return started

    def prime(self, texts: Iterable[str], threads: int = PRIME_THREADS) -> int:
        """Encode the texts not cached yet, `threads` at a time, and return when they are done."""
        unique = list(dict.fromkeys(texts))[: self._capacity]
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="prime-query") as pool:
            return self.ahead(unique, pool)

    def _encode(self, text: str) -> np.ndarray:
        try:
            vector = self._embedder.encode_queries([text])[0]
            with self._lock:
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
                while len(self._vectors) > self._capacity:
                    self._vectors.popitem(last=False)
            return vector
        finally:
            with self._lock:
                self._pending.pop(text, None)

"""The index built on a Ray cluster: documents prepared with Ray Data, units embedded by a pool of encoder
actors, shards written by Ray tasks; the statistics and the publishing are the embedded build's.

Cleaning, chunking and tokenising run in `map_batches` over the documents not in the document cache; the
collection's statistics (vocabulary, document frequencies, N, total length) are one pass over every chunk's
token ids on the driver; units not in the vector cache are embedded by actors that each load the encoder once
(with a GPU each when the cluster has them); each shard is written by its own task (index.shard_build). A
change (add, remove, rebuild) goes through the same flow as the embedded one (reportqa.collection), so the
version is published atomically and the statistics stay the collection's.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from reportqa.collection import IngestReport, prepare, prepared_from_cache, shard_count, sync
from reportqa.core.settings import Settings
from reportqa.core.types import Document
from reportqa.index.build import BuildRequest, Progress
from reportqa.index.doccache import DocCache, Prepared
from reportqa.index.models import CORPUS_STATIC, load_passage_embedder, passage_encoding
from reportqa.index.shard_build import ShardInput, publish_sharded, shard_name, write_shard
from reportqa.index.static_tier import FAST_TIER
from reportqa.index.units import chunk_units
from reportqa.index.vector_cache import VectorCache
from reportqa.index.vectors import VECTOR_CACHE_DIR
from reportqa.ingest.decoding import SourceError
from reportqa.scaleout.cluster import connect, require_ray

EMBED_BATCH = 256  # unit texts per actor call


class _NoCache:
    """The worker side of preparing: the driver keeps the document cache."""

    def get(self, key: str) -> Prepared | None:
        return None

    def put(self, prepared: Prepared) -> None:
        return None


def _prepare_batch(batch: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Ray Data: one row per document in, its Prepared (or the reason it has none) out, pickled."""
    out = []
    for blob in batch["document"]:
        document = pickle.loads(blob)
        try:
            result: Prepared | SourceError = prepare(document, settings, cast(DocCache, _NoCache()))
        except SourceError as exc:
            result = exc
        out.append(pickle.dumps(result))
    return {"i": batch["i"], "prepared": out}


class _UnitEncoder:
    """Ray Data actor: the passage encoder, loaded once, by the route a local build of a collection of `count`
    distinct texts takes (so vectors match the embedded build's)."""

    def __init__(self, model: str, models_dir: str, count: int) -> None:
        self.encode = passage_encoding(load_passage_embedder(model, Path(models_dir)), count)[1]

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        texts = [str(t) for t in batch["text"]]
        return {"text": texts, "vector": np.asarray(self.encode(texts), dtype=np.float32)}


class RayStages:
    """reportqa.collection.BuildStages on the connected Ray cluster."""

    def prepare(self, documents: Sequence[Document], settings: Settings, cache: DocCache
                ) -> list[Prepared | SourceError]:
        results: list[Prepared | SourceError | None] = [prepared_from_cache(d, settings, cache) for d in documents]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            ray = require_ray()
            rows = [{"i": i, "document": pickle.dumps(documents[i])} for i in todo]
            dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), 200))
            prepared = dataset.map_batches(_prepare_batch, fn_kwargs={"settings": settings}, batch_size=4,
                                           batch_format="numpy")
            for row in prepared.take_all():
                result = pickle.loads(row["prepared"])
                if isinstance(result, Prepared):
                    cache.put(result)
                results[int(row["i"])] = result
        return [r for r in results if r is not None]

    def publish(self, settings: Settings, request: BuildRequest, progress: Progress) -> Path:
        embed_missing(request, settings, progress)
        return publish_sharded(settings.index_dir, request, shard_count(settings), progress=progress,
                               writer=write_on_ray)


def embed_missing(request: BuildRequest, settings: Settings, progress: Progress) -> int:
    """Units of the request that the vector cache lacks, embedded across the cluster and added to the cache;
    how many there were. The corpus-fitted model and the fast tier embed on the driver (they are cheap)."""
    if request.embed_model in (CORPUS_STATIC, FAST_TIER):
        return 0
    embedder = load_passage_embedder(request.embed_model, settings.models_dir)  # converts the model if missing
    units = [u for chunk in request.chunks for u in chunk_units(chunk)]
    fingerprint, _ = passage_encoding(embedder, len(set(units)))  # the route a local build takes: the same vectors
    cache = VectorCache(settings.models_dir / VECTOR_CACHE_DIR, fingerprint)
    texts = cache.missing_texts(units)
    if not texts:
        return 0
    ray = require_ray()
    gpus = int(ray.cluster_resources().get("GPU", 0))
    # one CPU left to the rest of the pipeline: with every CPU held by encoders its input stage never runs
    workers = gpus or max(1, int(ray.cluster_resources().get("CPU", 1)) - 1)
    progress(f"embedding {len(texts)} new sentences and rows on {workers} Ray workers")
    dataset = ray.data.from_items([{"text": t} for t in texts])
    encoded = dataset.map_batches(_UnitEncoder, batch_size=EMBED_BATCH, batch_format="numpy",
                                  compute=ray.data.ActorPoolStrategy(size=workers),
                                  num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1,
                                  fn_constructor_kwargs={"model": request.embed_model,
                                                         "models_dir": str(settings.models_dir),
                                                         "count": len(set(units))})
    found: dict[str, np.ndarray] = {}
    for batch in encoded.iter_batches(batch_size=EMBED_BATCH, batch_format="numpy"):
        found.update(zip((str(t) for t in batch["text"]), np.asarray(batch["vector"], dtype=np.float32),
                         strict=True))
    cache.vectors(texts, lambda batch: np.stack([found[t] for t in batch]), embedder.dimension)
    cache.save()
    return len(texts)


def write_on_ray(version: Path, parts: Sequence[ShardInput]) -> list[dict[str, Any]]:
    """Each shard written by its own Ray task (the version folder must be reachable from every node)."""
    ray = require_ray()
    task = ray.remote(num_cpus=1)(write_shard)
    refs = [task.remote(version / shard_name(part.number), part) for part in parts]
    return list(ray.get(refs))


def ray_build(settings: Settings, progress: Progress) -> IngestReport:
    """`reportqa index --backend ray`: sync the index with the corpus on the cluster at settings.ray_address
    (or on one started here for the build)."""
    started = connect(settings.ray_address)
    try:
        return sync(settings, progress, stages=RayStages())
    finally:
        if started:
            require_ray().shutdown()

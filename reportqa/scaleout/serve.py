"""Serving a sharded index on Ray Serve: one deployment per shard, and the existing FastAPI app as the router.

Each shard deployment loads its folder of the version the router asks for (files memory-mapped, so replicas on
one node share them) and answers two calls: its best candidates per channel, and its measurements of the
candidates it owns (index.shard). The router is reportqa's own app, mounted in a `serve.ingress` deployment;
its engine searches a ShardedIndex whose shard set is the deployments' handles. A shard that does not answer
within SHARD_TIMEOUT_S is left out of that answer and named in `degraded` (answers and /healthz) while Ray
restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve

from reportqa.api.deadline import DeadlineExceeded
from reportqa.core.settings import Settings
from reportqa.core.types import Chunk
from reportqa.engine import Engine, open_engine
from reportqa.index.query import Query
from reportqa.index.shard import CandidateRecord, ChannelTops, LocalShard
from reportqa.index.shard_build import SHARDED, open_shard, recorded_shard_digest
from reportqa.index.store import VERSIONS, IndexCorrupt, IndexMismatch, current_version_path, read_manifest
from reportqa.scaleout.cluster import connect, require_ray

log = logging.getLogger("reportqa.scaleout")
APP_NAME = "reportqa"
SHARD_TIMEOUT_S = 5.0  # a shard slower than this is reported degraded for that answer
PING_TIMEOUT_S = 1.0
LOAD_TIMEOUT_S = 600.0  # a shard's first load of a version: checksums, and a copy with a node folder
VERSIONS_KEPT = 2  # a shard keeps the version being replaced until the router has moved on


class ShardServer:
    """One shard of whichever version the router asks for (loaded on first request, the previous one kept);
    with a node folder, copied to this node's disk first and served from the copy."""

    def __init__(self, index_dir: str, name: str, node_dir: str | None = None) -> None:
        self.index_dir, self.name = Path(index_dir), name
        self.node_dir = Path(node_dir) if node_dir else None
        self._loaded: dict[str, LocalShard] = {}
        self._lock = threading.Lock()
        try:  # ready for the current version before the first question
            self.shard(current_version_path(self.index_dir).name)
        except Exception as exc:  # the router reports it when asked
            log.warning("shard %s not preloaded: %s", name, exc)

    def shard(self, version: str) -> LocalShard:
        found = self._loaded.get(version)
        if found is not None:
            return found
        with self._lock:
            if version not in self._loaded:
                source = self.index_dir / VERSIONS / version / self.name
                digest = recorded_shard_digest(source.parent, self.name)
                shard = open_shard(source if self.node_dir is None else node_copy(source, self.node_dir / version),
                                   digest)
                while len(self._loaded) >= VERSIONS_KEPT:
                    self._loaded.pop(next(iter(self._loaded)))
                self._loaded[version] = shard
            return self._loaded[version]

    def top(self, version: str, query: Query, vector: np.ndarray, channels: Sequence[str]) -> ChannelTops:
        return self.shard(version).top(query, vector, channels)

    def records(self, version: str, query: Query, vector: np.ndarray, positions: Sequence[int]
                ) -> list[CandidateRecord]:
        return self.shard(version).records(query, vector, positions)

    def document_chunks(self, version: str, doc: str) -> list[Chunk]:
        return self.shard(version).document_chunks(doc)

    def load(self, version: str) -> str:
        """Load (and copy, with a node folder) the given version now: the router waits for this before it
        switches to a new version, so questions never meet a shard that is still loading."""
        self.shard(version)
        return self.name

    def ping(self, version: str) -> str:
        """Alive and able to serve `version` (a replica whose copy cannot be read is not healthy)."""
        self.shard(version)
        return self.name


def node_copy(source: Path, folder: Path) -> Path:
    """The shard folder copied into `folder` on this node (once: a finished copy is kept and reused), written
    beside and renamed when whole; open_shard checks it against its manifest's checksums."""
    target = folder / source.name
    if not target.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{source.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        try:
            partial.rename(target)
        except OSError:  # another replica on this node finished first
            shutil.rmtree(partial, ignore_errors=True)
    return target


class RayShards:
    """index.sharded.ShardSet over the shard deployments' handles: every call fans out at once."""

    def __init__(self, handles: Mapping[str, Any], version: str, timeout_s: float = SHARD_TIMEOUT_S) -> None:
        self.names = tuple(handles)
        self._handles = [handles[name] for name in self.names]
        self.version = version
        self.timeout_s = timeout_s

    def _gather(self, calls: Mapping[int, Any], timeout_s: float) -> dict[int, Any]:
        out: dict[int, Any] = {}
        deadline = time.monotonic() + timeout_s  # one deadline for the fan-out, not one per shard
        for k, response in calls.items():
            try:
                out[k] = response.result(timeout_s=max(0.01, deadline - time.monotonic()))
            except DeadlineExceeded:  # the request's own CPU budget: not the shard's failure
                response.cancel()
                raise
            except Exception as exc:  # a dead, restarting or overloaded replica: reported as degraded
                log.warning("shard %s did not answer: %s", self.names[k], exc)
                response.cancel()  # else it runs later, when a replica is back, for nobody
                out[k] = None
        return out

    def tops(self, query: Query, vector: np.ndarray, channels: Sequence[str]) -> list[ChannelTops | None]:
        calls = {k: h.top.remote(self.version, query, vector, list(channels)) for k, h in enumerate(self._handles)}
        found = self._gather(calls, self.timeout_s)
        return [found[k] for k in range(len(self._handles))]

    def records(self, query: Query, vector: np.ndarray, wanted: Mapping[int, Sequence[int]]
                ) -> dict[int, list[CandidateRecord] | None]:
        calls = {k: self._handles[k].records.remote(self.version, query, vector, list(positions))
                 for k, positions in wanted.items()}
        return self._gather(calls, self.timeout_s)

    def document_chunks(self, doc: str) -> list[Chunk]:
        calls = {k: h.document_chunks.remote(self.version, doc) for k, h in enumerate(self._handles)}
        return [c for chunks in self._gather(calls, self.timeout_s).values() if chunks for c in chunks]

    def load_all(self, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """Every shard loads this version; an error names the shards that could not. Waited for in a thread of
        its own: the engine may be opened on the router's event loop, where Serve forbids blocking waits."""
        def wait() -> list[str]:
            calls = {k: h.load.remote(self.version) for k, h in enumerate(self._handles)}
            return [self.names[k] for k, name in self._gather(calls, timeout_s).items() if name is None]

        with ThreadPoolExecutor(1) as waiter:
            missing = waiter.submit(wait).result()
        if missing:
            raise IndexCorrupt(f"shards {', '.join(missing)} could not load version {self.version}")

    def unavailable(self) -> list[str]:
        calls = {k: h.ping.remote(self.version) for k, h in enumerate(self._handles)}
        return [self.names[k] for k, name in self._gather(calls, PING_TIMEOUT_S).items() if name is None]


def engine_on_ray(settings: Settings, handles: Mapping[str, Any]) -> Engine:
    """The engine over the current version, its shards reached through the deployments' handles."""
    def shards(version: Path, manifest: dict[str, Any]) -> RayShards:
        names = [str(s["name"]) for s in manifest["shards"]]
        if sorted(names) != sorted(handles):
            raise IndexMismatch(f"version {version.name} has shards {names}, the cluster serves {sorted(handles)}; "
                                "restart with reportqa serve --backend ray")
        shards = RayShards({name: handles[name] for name in names}, version.name)
        shards.load_all()  # the previous engine serves until every shard holds this version
        return shards

    return open_engine(settings, shards=shards)


class _Forward:
    """The router's ASGI app: hands every request to reportqa's app, which the replica builds when it starts
    (the ingress app is pickled with the deployment; this class is found by name in the replica's module)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # reportqa's app needs no start-up of its own here
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        app = _ROUTED.get("app")
        if app is None:
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"error": "the router is starting"}'})
            return
        await app(scope, receive, send)


_ROUTED: dict[str, Any] = {}


def _route_to(app: Any) -> None:
    """Called from the router replica's constructor, which Serve pickles by value with copies of the globals it
    names: a module function is pickled by reference, so this sets the dict _Forward reads."""
    _ROUTED["app"] = app


@serve.deployment(name="router", ray_actor_options={"num_cpus": 0})
@serve.ingress(_Forward())
class Router:
    """reportqa's HTTP API, answering from the shard deployments."""

    def __init__(self, settings: Settings, names: list[str], *handles: Any) -> None:
        from reportqa.api.app import create_app
        from reportqa.api.deps import EngineHolder

        by_name = dict(zip(names, handles, strict=True))
        holder = EngineHolder(settings, opener=lambda s: engine_on_ray(s, by_name))
        holder.get()  # loaded before the first request
        _route_to(create_app(settings, holder))


def shard_names(settings: Settings) -> list[str]:
    """The shards of the current version; a clear error when it is not sharded."""
    version = current_version_path(settings.index_dir)
    manifest = read_manifest(version)
    if manifest.get("kind") != SHARDED:
        raise IndexMismatch(f"{settings.index_dir} holds an unsharded index; build it for Ray with: "
                            "reportqa index --backend ray --shards N")
    return [str(s["name"]) for s in manifest["shards"]]


def shard_deployments(settings: Settings, names: Sequence[str],
                      resources: Mapping[str, Mapping[str, float]] | None = None) -> list[Any]:
    """One deployment per shard; `resources` pins a shard's replicas to nodes offering those custom resources."""
    server: Any = serve.deployment(ShardServer)
    deployments = []
    for name in names:
        options: dict[str, Any] = {"num_cpus": 0}
        if resources and name in resources:
            options["resources"] = dict(resources[name])
        deployments.append(server.options(name=name, num_replicas=settings.shard_replicas, ray_actor_options=options,
                                          health_check_period_s=2, health_check_timeout_s=10,
                                          max_ongoing_requests=64).bind(
            str(settings.index_dir.resolve()), name,
            str(settings.node_shard_dir) if settings.node_shard_dir else None))
    return deployments


def deploy(settings: Settings, http: bool = True,
           resources: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Any]:
    """Deploy the current version's shards (and the HTTP router) on the connected cluster; the shards' handles.
    `resources`: custom node resources a shard (by name) or the "router" must run on."""
    names = shard_names(settings)
    shards = shard_deployments(settings, names, resources=resources)
    if http:  # one HTTP proxy, on the head node: more on one machine would compete for the port
        serve.start(proxy_location="HeadOnly", http_options={"host": settings.host, "port": settings.port})
        router: Any = Router
        if resources and "router" in resources:
            router = router.options(ray_actor_options={"num_cpus": 0, "resources": dict(resources["router"])})
        serve.run(router.bind(settings, names, *shards), name=APP_NAME, route_prefix="/", blocking=False)
    else:
        serve.start(proxy_location="Disabled")  # handles only: no port is taken
        for name, app in zip(names, shards, strict=True):
            serve.run(app, name=name, route_prefix=None, blocking=False)
    return {name: serve.get_deployment_handle(name, app_name=APP_NAME if http else name) for name in names}


@contextlib.contextmanager
def engine_on_cluster(settings: Settings) -> Iterator[Engine]:
    """`reportqa ask --backend ray`: through the shards a `serve --backend ray` runs on the cluster at
    settings.ray_address; without an address, on shards deployed for this command on a cluster started here."""
    started = connect(settings.ray_address)
    try:
        if settings.ray_address:
            handles = {name: serve.get_deployment_handle(name, app_name=APP_NAME) for name in shard_names(settings)}
        else:
            handles = deploy(settings, http=False)
        yield engine_on_ray(settings, handles)
    finally:
        with contextlib.redirect_stdout(sys.stderr):  # Ray's shutdown notices are not the command's output
            if not settings.ray_address:
                serve.shutdown()
            if started:
                require_ray().shutdown()


def serve_on_ray(settings: Settings) -> int:
    """`reportqa serve --backend ray`: serve until interrupted, then take the deployments down."""
    started = connect(settings.ray_address)
    stop = threading.Event()
    try:
        deploy(settings)
        for sig in (signal.SIGINT, signal.SIGTERM):  # after Ray and Serve have installed theirs
            signal.signal(sig, lambda *_: stop.set())
        print(f"reportqa on Ray Serve: http://{settings.host}:{settings.port} ({len(shard_names(settings))} shards)",
              flush=True)
        while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly
            pass
    finally:
        serve.shutdown()
        if started:
            require_ray().shutdown()
    return 0

"""The Ray backend on a two-node loopback cluster: built with Ray Data into 2 and 4 shards, served on Ray Serve,
it answers the eval questions exactly as the embedded engine does; losing a node's shard is reported as
degraded, and answers are whole again once the node is back."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reportqa.index.store import current_version_path

import reportqa.scaleout  # noqa: F401  (Ray's loopback environment, set before ray is imported)
from reportqa.core.settings import Settings
from reportqa.engine import build, open_engine
from tests.conftest import MODELS_DIR, REAL_CORPUS, ROOT
from tests.integration.test_sharded_index import answers
from tests.support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.ray]
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

QUESTIONS = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
MB = 1024 * 1024
COLD_REPLY_S = 120  # the first answer loads the encoder in each replica: slow on a loaded 2-core machine
TOPICS = ["固态电池", "低轨卫星", "合成生物", "工业机器人", "氢燃料电池", "量子通信"]


def node_args(**extra: Any) -> dict[str, Any]:
    return {"num_cpus": 1, "object_store_memory": 100 * MB, "node_ip_address": "127.0.0.1",
            "include_dashboard": False, "dashboard_host": "127.0.0.1", **extra}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    started = Cluster(initialize_head=True, head_node_args=node_args(num_cpus=2, resources={"node_a": 1}))
    started.add_node(**node_args(resources={"node_b": 1}))
    ray.init(address=started.address, logging_level="WARNING", log_to_driver=False)
    try:
        yield started
    finally:
        from ray import serve

        serve.shutdown()
        ray.shutdown()
        started.shutdown()


def synthetic_corpus(folder: Path) -> Path:
    """The five reports plus made-up reports whose sentences the vector cache has never seen."""
    shutil.copytree(REAL_CORPUS, folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.is_file() else {}
    for n, topic in enumerate(TOPICS):
        name = f"synthetic_{n:02d}.txt"
        lines = [f"{topic}产业观察（合成样本{n}）"]
        lines += [f"{2020 + k}年{topic}市场规模约为{(n + 1) * (k + 3) * 7}亿元，同比增长{10 + n + k}%。"
                  for k in range(6)]
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        manifest[name] = {"title": f"{topic}产业观察"}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_corpus(tmp_path_factory.mktemp("ray") / "corpus")


def settings_for(folder: Path, corpus: Path, **extra: Any) -> Settings:
    return Settings(index_dir=folder, corpus=[corpus], models_dir=MODELS_DIR,  # type: ignore[call-arg]
                    feedback_file=folder.parent / "feedback.jsonl", **extra)


@pytest.fixture(scope="module")
def built(cluster: Cluster, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Settings]:
    """The corpus built on the cluster into 2 and 4 shards (first: the synthetic units are embedded there)."""
    from reportqa.scaleout.build import ray_build

    out = {}
    for shards in (2, 4):
        settings = settings_for(tmp_path_factory.mktemp(f"ray{shards}"), corpus, shards=shards, backend="ray",
                                ray_address=cluster.address)
        report = ray_build(settings, lambda _: None)
        assert report.documents == 5 + len(TOPICS)
        out[shards] = settings
    return out


@pytest.fixture(scope="module")
def embedded(built: dict[int, Settings], corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("embedded"), corpus)
    build(settings)
    return settings


@pytest.mark.parametrize("shards", [2, 4])
def test_ray_shards_answer_as_the_embedded_engine(shards: int, built: dict[int, Settings], embedded: Settings,
                                                  tmp_path: Path) -> None:
    from ray import serve

    from reportqa.scaleout.serve import deploy, engine_on_ray

    settings = built[shards]
    if shards == 4:  # served from copies on the nodes' own disks, two replicas a shard
        settings = settings.model_copy(update={"node_shard_dir": tmp_path / "node", "shard_replicas": 2})
    handles = deploy(settings, http=False, resources={"shard-001": {"node_b": 0.01}})  # one shard on the worker node
    try:
        on_ray = engine_on_ray(settings, handles)
        questions = [*QUESTIONS, "2023年固态电池市场规模约为多少？"]
        assert answers(on_ray, questions) == answers(open_engine(embedded), questions)
        assert on_ray.index.degraded() == []
        if shards == 4:
            version = current_version_path(settings.index_dir).name
            assert sorted(p.name for p in (tmp_path / "node" / version).iterdir()) == [
                "shard-000", "shard-001", "shard-002", "shard-003"]
    finally:
        serve.shutdown()


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    """True once check holds; a request that times out while the cluster reschedules counts as not yet."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except httpx.TimeoutException:
            pass
        time.sleep(0.5)
    return False


def test_http_router_reports_a_lost_shard_then_recovers(cluster: Cluster, built: dict[int, Settings],
                                                         embedded: Settings) -> None:
    from reportqa.contract import AnswerOut
    from reportqa.scaleout.serve import deploy

    settings = built[2].model_copy(update={"port": free_port()})
    deploy(settings, http=True, resources={"shard-001": {"node_b": 0.01}, "router": {"node_a": 0.01}})
    question = "2026年全球AI支出预计是多少？"
    expected = AnswerOut.of(open_engine(embedded).ask(question)).model_dump()
    url = f"http://127.0.0.1:{settings.port}"
    with httpx.Client(base_url=url, timeout=COLD_REPLY_S) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.post("/ask", json={"question": question}).json() == expected

        worker = next(n for n in cluster.worker_nodes)
        cluster.remove_node(worker, allow_graceful=False)

        def degraded() -> bool:
            reply = client.post("/ask", json={"question": question})
            return reply.status_code == 200 and reply.json()["degraded"] == ["shard-001"]

        assert wait_for(degraded, 60), "a lost shard must be named in the answer"

        def health_names_the_lost_shard() -> bool:  # a probe of the live shard may time out while Ray reschedules
            health = client.get("/healthz").json()
            return health["status"] == "degraded" and health["degraded"] == ["shard-001"]

        assert wait_for(health_names_the_lost_shard, 30)

        cluster.add_node(**node_args(resources={"node_b": 1}))
        assert wait_for(lambda: client.post("/ask", json={"question": question}).json() == expected, 120)
        assert client.get("/healthz").json()["status"] == "ok"

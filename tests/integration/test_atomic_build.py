"""A build killed at any moment leaves the previous index serving and loadable, and the next build succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportqa.api.app import create_app
from reportqa.index.store import CURRENT, VERSIONS, current_version_path

from reportqa.core.settings import Settings
from reportqa.engine import build, open_engine

ROOT = Path(__file__).resolve().parents[2]
QUESTION = {"question": "2026年全球AI支出预计是多少？"}


def start_build(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "REPORTQA_EMBED_DIM": str(settings.embed_dim)}
    command = [sys.executable, "-m", "reportqa.cli", "index", "--index-dir", str(settings.index_dir),
               "--corpus", *map(str, settings.corpus)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.integration
@pytest.mark.parametrize("kill_after", [0.3, 1.5, 3.0, 5.0])
def test_sigkill_during_build_keeps_the_previous_index(small_corpus: Path, tmp_path: Path, kill_after: float) -> None:
    # the real corpus makes the build long enough (several seconds) to be killed in its middle
    settings = Settings(index_dir=tmp_path / "idx", corpus=[small_corpus, ROOT / "corpus"], embed_dim=16)
    build(settings.model_copy(update={"corpus": [small_corpus]}))
    previous = current_version_path(settings.index_dir)
    client = TestClient(create_app(settings.model_copy(update={"corpus": [small_corpus]})))
    first = client.post("/ask", json=QUESTION).json()
    assert "2.59万亿美元" in first.get("answer", ""), first

    process = start_build(settings)
    deadline = time.monotonic() + kill_after
    while time.monotonic() < deadline:
        reply = client.post("/ask", json=QUESTION)  # the server keeps answering throughout
        assert reply.status_code == 200 and "2.59万亿美元" in reply.json()["answer"]
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    current = current_version_path(settings.index_dir)
    if current == previous:  # killed before publishing: the old version is untouched and still loads
        open_engine(settings.model_copy(update={"corpus": [small_corpus]}))
    assert client.post("/ask", json=QUESTION).status_code == 200
    assert (settings.index_dir / CURRENT).read_text(encoding="utf-8").strip() == current.name

    report = build(settings)  # the next build is not blocked by the killed one's lock or leftovers
    assert report.documents == 9
    leftovers = [p.name for p in (settings.index_dir / VERSIONS).iterdir() if p.name.endswith(".partial")]
    assert leftovers == []


def test_disk_full_during_a_build_leaves_the_previous_index(small_index: Settings, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import shutil

    import reportqa.index.build

    from reportqa import collection

    settings = small_index.model_copy(update={"index_dir": tmp_path / "idx"})
    shutil.copytree(small_index.index_dir, settings.index_dir)
    before = current_version_path(settings.index_dir)
    client = TestClient(create_app(settings))

    def full_disk(self: object, path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(reportqa.index.build.DenseIndex, "save", full_disk)
    extra = tmp_path / "extra.txt"
    extra.write_text("第一章 概述\n新增文件的内容：氢能产业规模达到500亿元。\n", encoding="utf-8")
    with pytest.raises(OSError, match="No space left"):
        collection.add(settings, [extra])
    assert current_version_path(settings.index_dir) == before
    assert not [p for p in (settings.index_dir / VERSIONS).iterdir() if p.name.endswith(".partial")]
    reply = client.post("/ask", json=QUESTION)
    assert reply.status_code == 200 and "2.59万亿美元" in reply.json()["answer"]

"""`reportqa serve --workers N`: every worker gets connections, a dead worker is replaced, a taken port fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reportqa.core.settings import Settings

from .helpers import REPO_ROOT, free_port, serve_command, serve_env, serving

QUESTION = "2026年全球AI支出预计是多少？"


def _workers_answering(url: str, connections: int = 24) -> set[int]:
    """Process ids behind /healthz over that many fresh connections (httpx.get opens a new one each time)."""
    return {httpx.get(f"{url}/healthz", timeout=5).json()["worker"] for _ in range(connections)}


def _two_workers_answer(url: str, log: Path, without: int | None = None, wait_s: float = 60) -> set[int]:
    """The two worker pids, once both answer (a worker listens only after its start-up)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            now = _workers_answering(url)
        except httpx.TransportError:  # a connection queued on a dead worker's socket
            now = set()
        if len(now) == 2 and without not in now:
            return now
        assert time.monotonic() < deadline, f"not two workers answering: {now}\n{log.read_text()[-2000:]}"
        time.sleep(0.5)


@pytest.mark.integration
def test_connections_reach_every_worker_and_a_killed_worker_is_replaced(small_index: Settings,
                                                                         tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(small_index.index_dir, 2, log) as (proc, url):
        pids = _two_workers_answer(url, log)  # 24 fresh connections reach both: the kernel spreads them
        assert proc.pid not in pids  # the supervisor itself serves nothing

        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        _two_workers_answer(url, log, without=victim)
        assert proc.poll() is None
        response = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=30)
        assert response.status_code == 200 and "2.59万亿美元" in response.json()["answer"]
    assert "exited with -9; starting a new one" in log.read_text()


@pytest.mark.integration
def test_a_taken_port_fails_with_the_reason_instead_of_serving_nothing(small_index: Settings,
                                                                        tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:  # an ordinary listener, without SO_REUSEPORT: the port is not ours
        holder.bind(("127.0.0.1", port))
        holder.listen()
        done = subprocess.run(serve_command(small_index.index_dir, port, 2), env=serve_env(), capture_output=True,
                              text=True, timeout=60, cwd=str(REPO_ROOT))
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_workers_serve_the_settings_they_are_given_not_the_environment(small_index: Settings,
                                                                         tmp_path: Path) -> None:
    """serve() hands each worker its Settings: a limit set in code, nowhere in the environment, holds in both."""
    port = free_port()
    code = ("from pathlib import Path; from reportqa.api.server import serve; from reportqa.core.settings import "
            f"Settings; serve(Settings(index_dir=Path({str(small_index.index_dir)!r}), port={port}, workers=2, "
            f"embed_dim={small_index.embed_dim}, max_question_chars=100))")
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-c", code], env=serve_env(), stdout=sink, stderr=subprocess.STDOUT,
                                cwd=str(REPO_ROOT), start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        assert len(_two_workers_answer(url, log)) == 2
        for _ in range(24):  # fresh connections, spread over both workers by the kernel
            reply = httpx.post(f"{url}/ask", json={"question": "星" * 101}, timeout=30)
            assert reply.status_code == 422 and "the limit is 100" in reply.json()["error"], reply.text[:200]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

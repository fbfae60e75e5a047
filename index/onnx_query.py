"""Question vectors through ONNX Runtime: the converted encoder exported once, its weights int8.

Passages keep the wheel's engine (their vectors are cached by content and shared with every route); a question is
encoded while someone waits, so it takes the faster route: the converted folder exported to ONNX and its matrices
quantised to int8 per channel (ONNX Runtime's dynamic quantisation), about 6 ms a question on one core here
against the engine's 20, at cosine 0.997 (mean) to the engine's vectors. Figures: docs/performance.md.
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
from reportqa.index.encoder import E5_SMALL, QUERY_PREFIX, EncoderMissing, ensure_e5_folder, read_folder_manifest

from reportqa.core.digest import file_sha256

ONNX_DIR = E5_SMALL + "-onnx-int8"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST = "reportqa_model.json"
EXPORT_VERSION = 1
MAX_TOKENS = 512  # the encoder's 514 positions less <s> and </s>


def _export_fp32(e5_folder: Path, out: Path) -> None:
    """The converted folder's transformer as an ONNX graph (token ids, mask → last hidden states)."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    transformers_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(e5_folder)).eval()
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


def export_int8(models_dir: Path) -> Path:
    """Write the int8 ONNX folder beside the converted encoder; atomic (a private temporary folder, then a rename),
    so two processes exporting at once both end with one good folder."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    e5_folder = ensure_e5_folder(models_dir)
    source = read_folder_manifest(e5_folder)
    out_dir = models_dir / ONNX_DIR
    partial = Path(tempfile.mkdtemp(prefix=ONNX_DIR + ".", dir=models_dir))
    try:
        fp32 = partial / "fp32.onnx"
        _export_fp32(e5_folder, fp32)
        with _quiet_root_logger():  # the quantiser advises pre-processing through logging.warning
            quantize_dynamic(str(fp32), str(partial / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": 1})  # 1: float, where shape inference loses a type
        fp32.unlink()
        partial.chmod(0o755)  # mkdtemp makes it private
        shutil.copyfile(e5_folder / TOKENIZER_FILE, partial / TOKENIZER_FILE)
        manifest = {"name": ONNX_DIR, "export": EXPORT_VERSION, "source_sha256": source["source_sha256"],
                    "onnxruntime": importlib.metadata.version("onnxruntime"),
                    "quantisation": "dynamic, int8 weights per channel", "query_prefix": QUERY_PREFIX,
                    "files": {name: {"size": (partial / name).stat().st_size, "sha256": file_sha256(partial / name)}
                              for name in (MODEL_FILE, TOKENIZER_FILE)}}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if _current(out_dir, source["source_sha256"]):  # another process finished first
            return out_dir
        shutil.rmtree(out_dir, ignore_errors=True)  # a stale or damaged one
        try:
            partial.rename(out_dir)
        except OSError:
            if not _current(out_dir, source["source_sha256"]):
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return out_dir


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, after checking every file it lists by size and SHA-256."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EncoderMissing(f"{folder} is not an exported question encoder ({exc}); "
                             "delete it and rebuild with: reportqa index") from exc
    for name, facts in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != facts["size"] or file_sha256(path) != facts["sha256"]:
            raise EncoderMissing(f"{path} is missing or damaged; delete {folder} and rebuild with: reportqa index")
    return dict(manifest)


def _current(folder: Path, source_sha: str) -> bool:
    """Whether the folder holds a sound export of this wheel's model (damaged or stale: no)."""
    try:
        manifest = read_manifest(folder)
    except EncoderMissing:
        return False
    return manifest.get("export") == EXPORT_VERSION and manifest.get("source_sha256") == source_sha


def ensure_onnx_query_model(models_dir: Path) -> Path:
    """The int8 question encoder under models_dir, exported now when missing or made from another wheel (a
    build's check: it hashes the wheel's model and the export)."""
    e5_folder = ensure_e5_folder(models_dir)
    if _current(models_dir / ONNX_DIR, read_folder_manifest(e5_folder)["source_sha256"]):
        return models_dir / ONNX_DIR
    return export_int8(models_dir)


def onnx_query_folder(models_dir: Path) -> Path:
    """The export a loading index uses: the one there (OnnxQueryEmbedder checks its files as it loads), exported
    first only when there is none (an index built before the export existed). A build checks it is current."""
    folder = models_dir / ONNX_DIR
    return folder if (folder / MANIFEST).is_file() else ensure_onnx_query_model(models_dir)


class OnnxQueryEmbedder:
    """Questions through the int8 ONNX model, one at a time; passages through `passages()` (the wheel's engine),
    loaded at the first passage: a serving worker embeds none, and the engine's weights are 72 MB.

    One at a time because dynamic quantisation scales activations per tensor: a question batched with others
    (and their padding) would get a slightly different vector than alone, and answers must not depend on that.
    """

    name = E5_SMALL

    def __init__(self, folder: Path, passages: Callable[[], Embedder], threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        read_manifest(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # one: on busy cores more threads cost more than they give
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
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

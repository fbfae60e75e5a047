"""The answer verifier: a cross-encoder that reads the question and the chosen sentence together.

Why: every other answerability signal measures the question and the answer apart (cosines, shared terms, missing
names), so a sentence about the right subject that answers a neighbouring question looks like an answer. The
verifier is the bundled multilingual-e5-small with its top layers fine-tuned (eval.train_verifier) and a linear
head over the mean-pooled pair `query: <question>` / `passage: <sentence>`; its logit is one more signal for the
answerability model, which stays the one place that decides.

Stored small (the repository's weights stay under 25 MB): only the trained layers, their matrices as int8 with a
scale per row, plus the head (verifier.npz, checked by the model set's manifest). Served fast: the base encoder
folder with those layers put back, exported once to ONNX with int8 matrices (index.onnx_encoder's route for
questions), one pair at a time on one thread.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.encoder import (
    EXPORT_NEEDS,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    ensure_e5_folder,
    read_folder_manifest,
    require_free_space,
)
from reportqa.index.onnx_encoder import (
    TOKENIZER_FILE,
    export_current,
    export_hidden_states,
    open_session,
    publish_export,
    quantize_int8,
    shared_tokenizer,
)

from reportqa.core.digest import file_sha256
from reportqa.core.learned import VERIFIER_FILE, ModelFileError, ModelSet

VERIFIER_EXPORTS = "answer-verifier-onnx-int8"  # under the models folder: one export per weights file
MAX_PAIR_TOKENS = 128  # question and sentence together, the longer cut first: what it was trained on
PAIR_SPECIALS = 4  # <s> q </s></s> s </s>
PAIR_CACHE = 4096  # pairs a worker remembers the logit of (~0.5 MB)
HIDDEN = 384


@dataclass(frozen=True, slots=True)
class VerifierWeights:
    """The fine-tuned layers (state-dict names of the base encoder → float32 arrays) and the head."""

    layers: dict[str, np.ndarray]
    head_weight: np.ndarray  # (hidden,)
    head_bias: float
    first_layer: int  # the first fine-tuned layer; those below are the base encoder's own
    max_tokens: int = MAX_PAIR_TOKENS

    def head(self, pooled: np.ndarray) -> np.ndarray:
        return pooled @ self.head_weight + self.head_bias


def pair_texts(question: str, sentence: str) -> tuple[str, str]:
    """The pair as the verifier reads it, in training and serving alike (e5's query and passage prompts)."""
    return QUERY_PREFIX + question, PASSAGE_PREFIX + sentence


def pair_tokenizer(path: Path, max_tokens: int = MAX_PAIR_TOKENS) -> Any:
    """The encoder's tokenizer cutting a pair to max_tokens, the longer text first, unpadded."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_tokens, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def pair_ids(tokenizer: Any, question: str, sentence: str, max_tokens: int = MAX_PAIR_TOKENS) -> list[int]:
    """The pair's ids as pair_tokenizer gives them (<s> q </s></s> s </s>, the longer text cut first), from the
    encoder's shared tokenizer: a second copy of XLM-R's tokenizer would hold ~280 MB more."""
    first, second = (tokenizer.encode(text, add_special_tokens=False).ids for text in pair_texts(question, sentence))
    room = max_tokens - PAIR_SPECIALS
    n1, n2 = len(first), len(second)
    if n1 + n2 > room:  # the `tokenizers` library's longest-first rule, whole lengths at once
        shorter, longer = sorted((n1, n2))
        longer = max(shorter, room - shorter) if shorter <= room else shorter
        if shorter + longer > room:
            shorter, longer = room // 2, room // 2 + room % 2
        n1, n2 = (longer, shorter) if n1 > n2 else (shorter, longer)
    start, end = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    return [start, *first[:n1], end, end, *second[:n2], end]


def write_weights(weights: VerifierWeights, path: Path) -> None:
    """Matrices as int8 with a float32 scale per output row (symmetric), everything else float32."""
    arrays: dict[str, np.ndarray] = {"head_weight": weights.head_weight.astype(np.float32),
                                     "head_bias": np.asarray([weights.head_bias], np.float32),
                                     "first_layer": np.asarray([weights.first_layer], np.int64),
                                     "max_tokens": np.asarray([weights.max_tokens], np.int64)}
    for name, value in weights.layers.items():
        if value.ndim == 2:
            scale = np.maximum(np.abs(value).max(axis=1), 1e-12) / 127.0
            arrays[f"int8:{name}"] = np.round(value / scale[:, None]).astype(np.int8)
            arrays[f"scale:{name}"] = scale.astype(np.float32)
        else:
            arrays[f"float:{name}"] = value.astype(np.float32)
    with path.open("wb") as out:
        np.savez(out, **arrays)  # type: ignore[arg-type]  # not compressed: int8 matrices hardly shrink, and a digest reads the same bytes


def read_weights(path: Path) -> VerifierWeights:
    try:
        with np.load(path, allow_pickle=False) as data:
            layers = {key.removeprefix("float:"): np.asarray(data[key], np.float32)
                      for key in data.files if key.startswith("float:")}
            for key in data.files:
                if key.startswith("int8:"):
                    name = key.removeprefix("int8:")
                    layers[name] = data[key].astype(np.float32) * data[f"scale:{name}"][:, None]
            weights = VerifierWeights(layers, np.asarray(data["head_weight"], np.float32),
                                      float(data["head_bias"][0]), int(data["first_layer"][0]),
                                      int(data["max_tokens"][0]))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFileError(f"answer verifier {path} cannot be read ({exc}); retrain with: make train-reader"
                             ) from exc
    if weights.head_weight.shape != (HIDDEN,) or not np.isfinite(weights.head_weight).all():
        raise ModelFileError(f"answer verifier {path} has a head of shape {weights.head_weight.shape}")
    return weights


def export_source(weights_sha256: str, base_folder: Path) -> str:
    """What an export is derived from: these weights (their file's digest) over this base encoder."""
    base = str(read_folder_manifest(base_folder)["source_sha256"])
    return hashlib.sha256((weights_sha256 + base).encode()).hexdigest()


def export_verifier(weights_path: Path, base_folder: Path, out_dir: Path, source: str | None = None) -> Path:
    """The base encoder with the verifier's layers put back, exported to ONNX with int8 matrices; atomic, and
    reused while it was made from the same weights and base. `source`: export_source of these weights, when known."""
    source = source or export_source(file_sha256(weights_path), base_folder)
    if export_current(out_dir, source):
        return out_dir
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    require_free_space(out_dir.parent, EXPORT_NEEDS, "exporting the answer verifier to ONNX")
    weights = read_weights(weights_path)
    model = AutoModel.from_pretrained(str(base_folder)).eval()
    state = {name: torch.from_numpy(value) for name, value in weights.layers.items()}
    missing = set(state) - set(model.state_dict())
    if missing:
        raise ModelFileError(f"answer verifier {weights_path} does not fit the encoder: {sorted(missing)[:3]}")
    model.load_state_dict(state, strict=False)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        export_hidden_states(model, work / "fp32.onnx")
        quantize_int8(work / "fp32.onnx", work / "int8.onnx")
        publish_export(work / "int8", out_dir, work / "int8.onnx", {
            "source_sha256": source, "quantisation": "dynamic, int8 weights per channel",
            "verifier_first_layer": weights.first_layer}, base_folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


class OnnxVerifier:
    """Scores a pair through the int8 export and the head (numpy); one pair at a time, as questions are encoded."""

    def __init__(self, folder: Path, weights: VerifierWeights, threads: int = 1) -> None:
        # the question encoder's tokenizer, shared (XLM-R's holds ~280 MB); pair_ids cuts the pair as training did
        self._session = open_session(folder, threads, arena=False)
        self._tokenizer = shared_tokenizer(folder / TOKENIZER_FILE)
        self._weights = replace(weights, layers={})  # the head is all it reads: the layers live in the export
        # a pair asked again (a repeated question, a page reloaded) is not run again: the logit is the same
        self._remembered = lru_cache(maxsize=PAIR_CACHE)(self._run)

    def logit(self, question: str, sentence: str) -> float:
        return self._remembered(question, sentence)

    def forget(self) -> None:
        """Drop the remembered pairs (a benchmark's cycled question must cost what a new one does)."""
        self._remembered.cache_clear()

    def _run(self, question: str, sentence: str) -> float:
        ids = pair_ids(self._tokenizer, question, sentence, self._weights.max_tokens)
        batch = np.asarray([ids], dtype=np.int64)
        hidden = self._session.run(None, {"input_ids": batch, "attention_mask": np.ones_like(batch)})[0][0]
        return float(self._weights.head(hidden.mean(axis=0)))


def open_verifier(weights_path: Path, weights_sha256: str, models_dir: Path) -> OnnxVerifier:
    """The verifier ready to score: its export under models_dir, one folder per weights file (a test's verifier
    never replaces the served one), made now when missing (~10 s)."""
    base = ensure_e5_folder(models_dir)
    source = export_source(weights_sha256, base)
    folder = export_verifier(weights_path, base, models_dir / VERIFIER_EXPORTS / source[:16], source)
    return OnnxVerifier(folder, read_weights(weights_path))


def with_verifier(models: ModelSet, models_dir: Path) -> ModelSet:
    """The set with its verifier attached when its manifest lists one (its digest was checked by load_model_set),
    else as it is."""
    entry: Mapping[str, Any] | None = models.manifest.get("verifier")
    if not entry:
        return models
    return models.with_verifier(open_verifier(models.folder / str(entry["file"]), str(entry["sha256"]), models_dir))


def verifier_entry(weights: VerifierWeights, trained_on: int) -> dict[str, Any]:
    """What the model set's manifest says about the verifier (write_model_set adds the digest)."""
    return {"file": VERIFIER_FILE, "encoder": "multilingual-e5-small", "first_layer": weights.first_layer,
            "max_tokens": weights.max_tokens, "pairs": trained_on}


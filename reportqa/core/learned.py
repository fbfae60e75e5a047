"""Small learned models as data: standardised features, a linear score, a logistic probability.

A model is a JSON file (feature names, means, scales, weights, bias) so that serving needs numpy only and a
reader can see what each feature weighs; a role whose features interact may hold gradient-boosted trees instead
(core.trees), the same interface over the same rows. `ModelSet` is a folder of such files plus `manifest.json` (their
digests, the data and seed they were trained with, their out-of-fold metrics), checked when loaded. Beside them
may sit one `QueryAdapter`: a matrix (.npy) that maps the encoder's question vectors towards the passages that
answer them, and one answer verifier (a cross-encoder's trained layers, .npz): the set records and checks its file;
the answer stage (answer.verifier) turns it into something that scores pairs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from reportqa.core.digest import file_sha256
from reportqa.core.trees import TREES_KIND, TreeModel

MODELS_MANIFEST = "manifest.json"


class ModelFileError(RuntimeError):
    """A learned model that cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class LinearModel:
    """logit = bias + Σ weight · (x - mean) / scale over named features; probability = sigmoid(logit)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Scores of a (n, len(features)) matrix in the model's feature order."""
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.features))
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(rows), -40, 40)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        features = tuple(str(f) for f in data["features"])
        arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
        if any(a.shape != (len(features),) for a in arrays) or not np.all(arrays[1] > 0):
            raise ValueError("mean, scale and weights must have one positive-scale entry per feature")
        return cls(features, arrays[0], arrays[1], arrays[2], float(data["bias"]))


LearnedModel = LinearModel | TreeModel  # what a role holds: probabilities of a matrix in its feature order


def model_from_json(data: Mapping[str, Any]) -> LearnedModel:
    """A model file's model, linear unless it says it is trees."""
    return TreeModel.from_json(data) if data.get("kind") == TREES_KIND else LinearModel.from_json(data)


def matrix(rows: Sequence[Mapping[str, float]], features: Sequence[str]) -> np.ndarray:
    """Feature dicts → a matrix in the given order (a missing feature is 0)."""
    return np.array([[row.get(f, 0.0) for f in features] for row in rows], dtype=np.float64).reshape(
        len(rows), len(features))


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: a matrix has no single truth value
class QueryAdapter:
    """A learned linear map of one encoder's question vectors (passage vectors stay as indexed): question → unit
    vector of question @ matrix. Fitted on which passages answer which questions, so that a question lands nearer
    the passage that answers it than the encoder alone puts it."""

    encoder: str  # the embedder name it was fitted for; any other encoder's vectors pass unchanged
    matrix: np.ndarray  # (dimension, dimension) float32

    def __post_init__(self) -> None:
        shape = self.matrix.shape
        if len(shape) != 2 or shape[0] != shape[1] or not np.all(np.isfinite(self.matrix)):
            raise ValueError(f"a query adapter is a finite square matrix, not {shape}")

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[0])

    def fits(self, encoder: str, dimension: int) -> bool:
        return encoder == self.encoder and dimension == self.dimension

    def apply(self, vector: np.ndarray) -> np.ndarray:
        mapped = np.asarray(vector, dtype=np.float32) @ self.matrix
        norm = float(np.linalg.norm(mapped))
        return mapped / norm if norm > 0 else mapped


ADAPTER_FILE = "query_adapter.npy"
VERIFIER_FILE = "verifier.npz"
VERIFIER_SIGNAL = "verifier"  # the answerability signal the verifier gives: its logit for the chosen sentence
UNVERIFIED = "answerability_unverified"  # the answerability model without the verifier's logit, asked first
# the verifier runs only where UNVERIFIED's probability lies in this band: it costs as much as the rest of a question
# (ask p50 19 -> 39 ms asked always, 23 ms in the band), and out of fold the band keeps its gain (unanswerable refused
# 0.8056 against 0.8035 asked always, 0.7538 never; docs/experiments.md, forty-fifth session)
VERIFIER_BAND = (0.1, 0.9)


def needs_verifier(unverified: float, band: Sequence[float] = VERIFIER_BAND) -> bool:
    """Whether the answer verifier is asked, given the probability of the answerability model without it."""
    return band[0] <= unverified <= band[1]


class PairScorer(Protocol):
    """Reads a question and a sentence together: a logit that the sentence answers the question."""

    def logit(self, question: str, sentence: str) -> float: ...


@dataclass(frozen=True, slots=True)
class ModelSet:
    """The learned models the engine uses, by role (ranker, reader, answerability, ...), and their manifest."""

    folder: Path
    manifest: dict[str, Any]
    models: dict[str, LearnedModel]
    adapter: QueryAdapter | None = None
    verifier: PairScorer | None = None

    def get(self, role: str) -> LearnedModel | None:
        return self.models.get(role)

    def with_models(self, models: Mapping[str, LearnedModel]) -> ModelSet:
        """This set with some roles replaced or added (training tries fold models this way)."""
        return ModelSet(self.folder, dict(self.manifest), {**self.models, **models}, self.adapter, self.verifier)

    def with_only(self, models: Mapping[str, LearnedModel]) -> ModelSet:
        """This set with exactly these models (the claim models swapped or dropped), adapter and verifier kept."""
        return ModelSet(self.folder, dict(self.manifest), dict(models), self.adapter, self.verifier)

    def with_verifier(self, verifier: PairScorer | None) -> ModelSet:
        return ModelSet(self.folder, dict(self.manifest), dict(self.models), self.adapter, verifier)

    def check_verifier(self) -> None:
        """An answerability model that reads the verifier's logit must have the verifier beside it."""
        judge = self.models.get("answerability")
        if judge is not None and VERIFIER_SIGNAL in judge.features and self.verifier is None:
            raise ModelFileError(f"the answerability model in {self.folder} reads the answer verifier, which is not "
                                 "loaded; retrain with: make train-reader")

    @property
    def verifier_band(self) -> tuple[float, float]:
        """Where the verifier is asked (the set records the band it was trained with)."""
        low, high = self.manifest.get("verifier_band", VERIFIER_BAND)
        return float(low), float(high)

    @property
    def digest(self) -> str:
        """One identity for the whole set: what an index records it was built beside."""
        files = {**self.manifest.get("files", {}), **self._adapter_entry()}
        return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]

    def _adapter_entry(self) -> dict[str, Any]:
        return {key: self.manifest[key] for key in ("query_adapter", "verifier") if self.manifest.get(key)}


def load_model_set(folder: Path) -> ModelSet:
    """Read and verify every model the manifest lists (digests must match); an absent folder is an empty set."""
    manifest_path = folder / MODELS_MANIFEST
    if not manifest_path.is_file():
        return ModelSet(folder, {}, {})
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{manifest_path} cannot be read ({exc}); retrain with: make train-reader") from exc
    models = {}
    for role, entry in files.items():
        path = folder / str(entry["file"])
        try:
            if file_sha256(path) != entry["sha256"]:
                raise ValueError("its digest differs from the manifest")
            models[role] = model_from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"learned model {path} cannot be used ({exc}); retrain with: make train-reader"
                                 ) from exc
    if manifest.get("verifier"):
        check_verifier_file(folder, manifest["verifier"])
    return ModelSet(folder, manifest, models, load_adapter(folder, manifest.get("query_adapter")))


def check_verifier_file(folder: Path, entry: Any) -> None:
    """The manifest's verifier weights are there with the digest it lists."""
    try:
        if file_sha256(folder / str(entry["file"])) != entry["sha256"]:
            raise ValueError("its digest differs from the manifest")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"answer verifier in {folder} cannot be used ({exc}); retrain with: make train-reader"
                             ) from exc


def load_adapter(folder: Path, entry: Any) -> QueryAdapter | None:
    """The manifest's query adapter, its digest checked; None when the set has none."""
    if not entry:
        return None
    path = folder / ADAPTER_FILE
    try:
        if file_sha256(path) != entry["sha256"]:
            raise ValueError("its digest differs from the manifest")
        matrix = np.load(path, allow_pickle=False)
        return QueryAdapter(str(entry["encoder"]), np.asarray(matrix, dtype=np.float32))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"query adapter {path} cannot be used ({exc}); retrain with: make train-reader"
                             ) from exc


def write_model_set(folder: Path, models: Mapping[str, LearnedModel], facts: Mapping[str, Any],
                    adapter: QueryAdapter | None = None, verifier: Mapping[str, Any] | None = None) -> ModelSet:
    """Write each model as <role>.json, the adapter (if any) as .npy, and a manifest with their digests and the
    given training facts; `verifier`: the manifest entry of a verifier.npz already written into the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for role, model in models.items():
        path = folder / f"{role}.json"
        path.write_text(json.dumps(model.to_json(), indent=1), encoding="utf-8")
        files[role] = {"file": path.name, "sha256": file_sha256(path)}
    facts = {k: v for k, v in facts.items() if k not in {"query_adapter", "verifier"}}
    if verifier is not None:
        facts = {**facts, "verifier": {**verifier, "sha256": file_sha256(folder / str(verifier["file"]))}}
    else:
        (folder / VERIFIER_FILE).unlink(missing_ok=True)
    (folder / ADAPTER_FILE).unlink(missing_ok=True)
    if adapter is not None:
        np.save(folder / ADAPTER_FILE, adapter.matrix.astype(np.float32), allow_pickle=False)
        facts = {**facts, "query_adapter": {"file": ADAPTER_FILE, "sha256": file_sha256(folder / ADAPTER_FILE),
                                            "encoder": adapter.encoder, "dimension": adapter.dimension}}
    manifest = {**facts, "files": files}
    (folder / MODELS_MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return load_model_set(folder)

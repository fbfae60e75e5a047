"""Gradient-boosted trees as data: a learned model whose features may interact, served with numpy alone.

The reader's features interact (a high cosine means less when the sentence only names the passage's subject;
a table row reads differently from prose), which one linear score cannot say. The trees are stored as flat node
arrays in JSON, like the linear models, and scored all at once, one level per step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TREES_KIND = "trees"
MAX_DEPTH = 64  # deeper than any tree trained here; a file with deeper trees (or a loop) is refused


@dataclass(frozen=True, slots=True, eq=False)  # compared by identity: arrays have no single truth value
class TreeModel:
    """logit = baseline + Σ over trees of the leaf a row reaches; probability = sigmoid(logit).

    Nodes of every tree in one array: a row goes left when its feature is ≤ the threshold (or is missing and the
    node sends missing values left); a leaf points to itself."""

    features: tuple[str, ...]
    baseline: float
    roots: np.ndarray  # (trees,) int: each tree's root node
    feature: np.ndarray  # (nodes,) int: the feature a split reads
    threshold: np.ndarray  # (nodes,) float
    left: np.ndarray  # (nodes,) int
    right: np.ndarray  # (nodes,) int
    value: np.ndarray  # (nodes,) float: a leaf's contribution to the logit
    leaf: np.ndarray  # (nodes,) bool
    missing_left: np.ndarray  # (nodes,) bool
    depth: int = field(init=False)  # splits on the longest path: how many steps scoring takes, found when built
    # serving form: a split sends a row to _child[2 * node + (value <= _cut)]; a leaf's both children are itself
    _read: np.ndarray = field(init=False, repr=False)
    _cut: np.ndarray = field(init=False, repr=False)
    _child: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        nodes = len(self.value)
        arrays = (self.feature, self.threshold, self.left, self.right, self.leaf, self.missing_left)
        if any(a.shape != (nodes,) for a in arrays) or self.roots.ndim != 1:
            raise ValueError("every node array must have one entry per node")
        links = np.concatenate([self.roots, self.left, self.right])
        if nodes and (links.min(initial=0) < 0 or links.max(initial=0) >= nodes):
            raise ValueError("a tree links to a node that does not exist")
        splits = ~self.leaf
        if np.any(self.feature[splits] < 0) or np.any(self.feature[splits] >= len(self.features)):
            raise ValueError("a split reads a feature the model does not have")
        if not (np.all(np.isfinite(self.value)) and np.isfinite(self.baseline)):
            raise ValueError("leaf values must be finite")
        object.__setattr__(self, "depth", self._longest_path())
        own = np.arange(nodes)
        object.__setattr__(self, "_read", np.where(self.leaf, 0, self.feature))
        object.__setattr__(self, "_cut", np.where(self.leaf, np.inf, self.threshold))
        object.__setattr__(self, "_child", np.stack([np.where(self.leaf, own, self.right),
                                                     np.where(self.leaf, own, self.left)], axis=1).reshape(-1))

    def _longest_path(self) -> int:
        """Splits from the roots to the deepest leaf, level by level; a tree deeper than MAX_DEPTH (or a loop) is
        refused."""
        level = np.unique(self.roots)
        for depth in range(MAX_DEPTH + 1):
            splits = level[~self.leaf[level]]
            if not len(splits):
                return depth
            level = np.unique(np.concatenate([self.left[splits], self.right[splits]]))
        raise ValueError(f"a tree is deeper than {MAX_DEPTH} splits, or loops")

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Scores of a (n, len(features)) matrix in the model's feature order."""
        x = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.features))
        n = x.shape[0]
        node = np.repeat(self.roots[:, None], n, axis=1)  # (trees, n)
        if n == 0 or not len(self.features):
            return self.baseline + self.value[node].sum(axis=0)
        columns = np.arange(n)[None, :]
        missing = bool(np.isnan(x).any())
        for _ in range(self.depth):
            read = x[columns, self._read[node]]
            go_left = read <= self._cut[node]
            if missing:
                go_left = np.where(np.isnan(read), self.missing_left[node], go_left)
            node = self._child[2 * node + go_left]
        return self.baseline + self.value[node].sum(axis=0)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits(rows), -40, 40)))

    def to_json(self) -> dict[str, Any]:
        return {"kind": TREES_KIND, "features": list(self.features), "baseline": self.baseline,
                "roots": self.roots.tolist(), "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(), "left": self.left.tolist(), "right": self.right.tolist(),
                "value": self.value.tolist(), "leaf": self.leaf.astype(int).tolist(),
                "missing_left": self.missing_left.astype(int).tolist()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeModel:
        def ints(key: str) -> np.ndarray:
            return np.asarray(data[key], dtype=np.int64).reshape(-1)

        return cls(tuple(str(f) for f in data["features"]), float(data["baseline"]), ints("roots"),
                   ints("feature"), np.asarray(data["threshold"], dtype=np.float64).reshape(-1), ints("left"),
                   ints("right"), np.asarray(data["value"], dtype=np.float64).reshape(-1),
                   ints("leaf").astype(bool), ints("missing_left").astype(bool))


def tree_model(features: Sequence[str], baseline: float,
               trees: Sequence[Sequence[tuple[int, float, int, int, float, bool, bool]]]) -> TreeModel:
    """A model from trees given node by node as (feature, threshold, left, right, value, leaf, missing_left), links
    local to each tree (node 0 its root)."""
    roots: list[int] = []
    rows: list[tuple[int, float, int, int, float, bool, bool]] = []
    offset = 0
    for nodes in trees:
        roots.append(offset)
        for feature, threshold, left, right, value, leaf, missing_left in nodes:
            here = len(rows)
            rows.append((feature, threshold, here if leaf else offset + left, here if leaf else offset + right,
                         value, leaf, missing_left))
        offset = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    return TreeModel(tuple(features), float(baseline), np.asarray(roots, dtype=np.int64),
                     np.asarray(columns[0], dtype=np.int64), np.asarray(columns[1], dtype=np.float64),
                     np.asarray(columns[2], dtype=np.int64), np.asarray(columns[3], dtype=np.int64),
                     np.asarray(columns[4], dtype=np.float64), np.asarray(columns[5], dtype=bool),
                     np.asarray(columns[6], dtype=bool))

"""Pure score fusion: each channel's scores scaled to [0, 1] over the candidates, then weighted."""

from __future__ import annotations

from collections.abc import Mapping


def minmax(scores: Mapping[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return {i: (1.0 if high > 0 else 0.0) for i in scores}
    return {i: (s - low) / (high - low) for i, s in scores.items()}


def fuse(channels: Mapping[str, Mapping[int, float]], weights: Mapping[str, float]) -> dict[int, float]:
    """Weighted sum of min-max normalised channel scores; a candidate missing from a channel gets 0 there."""
    fused: dict[int, float] = {}
    for name, scores in channels.items():
        weight = weights.get(name, 0.0)
        for i, s in minmax(scores).items():
            fused[i] = fused.get(i, 0.0) + weight * s
    return fused


def reciprocal_rank(channels: Mapping[str, Mapping[int, float]], weights: Mapping[str, float],
                    k: int = 60) -> dict[int, float]:
    """Weighted reciprocal-rank fusion, for comparison with score fusion."""
    fused: dict[int, float] = {}
    for name, scores in channels.items():
        ranked = sorted(scores, key=lambda i: -scores[i])
        for rank, i in enumerate(ranked):
            fused[i] = fused.get(i, 0.0) + weights.get(name, 0.0) / (k + rank + 1)
    return fused

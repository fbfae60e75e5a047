"""Fit the question adapter: a linear map of the encoder's question vectors, learned from which passages answer
which questions (index vectors untouched, so nothing is re-embedded).

The loss is a softmax over every passage of the collection (a passage's score: its best unit's cosine to the
mapped question, over a temperature), the passages that answer the question as positives, and a ridge pull of the
matrix towards the identity, so that what the data does not say stays as the encoder has it. What it gains, out
of fold and set by set: docs/experiments.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reportqa.core.learned import QueryAdapter

EPOCHS = 20
TEMPERATURE = 0.03
RIDGE = 0.001  # weight of ‖W − I‖² beside the mean loss
BATCH = 64
LEARNING_RATE = 1e-3
SEED = 0
NO_SCORE = -2.0  # below any cosine: a passage without units is never ranked


@dataclass(frozen=True, slots=True)
class AdapterData:
    """What the adapter learns from: question vectors, which passages answer each, and the passages' unit vectors
    (row r of `units` belongs to passage owners[r])."""

    questions: np.ndarray  # (n, d) unit vectors as the encoder gives them
    relevant: np.ndarray  # (n, passages) bool, every row with at least one True
    units: np.ndarray  # (u, d)
    owners: np.ndarray  # (u,) passage of each unit

    def __post_init__(self) -> None:
        n, d = self.questions.shape
        if self.relevant.shape[0] != n or self.units.shape[1] != d or self.owners.shape != (self.units.shape[0],):
            raise ValueError("questions, relevance rows and unit vectors do not line up")
        if n and not self.relevant.any(axis=1).all():
            raise ValueError("every question needs a passage that answers it")

    def subset(self, rows: Sequence[int] | np.ndarray) -> AdapterData:
        return AdapterData(self.questions[rows], self.relevant[rows], self.units, self.owners)


def passage_scores(questions, units, owners, passages: int):  # type: ignore[no-untyped-def]
    """Each passage's best unit cosine to each question (torch tensors in, a (n, passages) tensor out)."""
    import torch

    sims = questions @ units.T
    out = torch.full((questions.shape[0], passages), NO_SCORE, dtype=sims.dtype)
    return out.scatter_reduce(1, owners.expand(questions.shape[0], -1), sims, reduce="amax", include_self=True)


def fit_query_adapter(data: AdapterData, encoder: str, epochs: int = EPOCHS, temperature: float = TEMPERATURE,
                      ridge: float = RIDGE, seed: int = SEED) -> QueryAdapter:
    """The matrix that puts each question's answering passages first, starting from (and pulled to) the identity."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    dimension = data.questions.shape[1]
    identity = torch.eye(dimension)
    weights = torch.eye(dimension, requires_grad=True)
    optimizer = torch.optim.Adam([weights], lr=LEARNING_RATE)
    questions = torch.tensor(data.questions, dtype=torch.float32)
    relevant = torch.tensor(data.relevant, dtype=torch.bool)
    units = torch.tensor(data.units, dtype=torch.float32)
    owners = torch.tensor(data.owners, dtype=torch.long)
    passages = data.relevant.shape[1]
    for _ in range(epochs if len(questions) else 0):
        order = torch.randperm(len(questions), generator=generator)
        for start in range(0, len(questions), BATCH):
            batch = order[start : start + BATCH]
            mapped = torch.nn.functional.normalize(questions[batch] @ weights, dim=1)
            logits = passage_scores(mapped, units, owners, passages) / temperature
            answering = logits.masked_fill(~relevant[batch], -1e9)
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(answering, 1)).mean()
            loss = loss + ridge * ((weights - identity) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return QueryAdapter(encoder, weights.detach().numpy().astype(np.float32))


def rank_of_first(data: AdapterData, adapter: QueryAdapter | None) -> np.ndarray:
    """1-based rank of each question's first answering passage by the (mapped) dense channel alone."""
    import torch

    questions = data.questions if adapter is None else np.stack([adapter.apply(q) for q in data.questions])
    scores = passage_scores(torch.tensor(questions, dtype=torch.float32), torch.tensor(data.units),
                            torch.tensor(data.owners, dtype=torch.long), data.relevant.shape[1]).numpy()
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(data.relevant, order, axis=1)
    return hits.argmax(axis=1) + 1

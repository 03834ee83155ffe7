"""The one settings object: every knob is a `T2B_` environment variable (or `.env` line).

No other module reads `os.environ`; code asks `get_settings()` (or `SettingsDep` in routes),
so tests override settings by building a `Settings(...)` and passing it in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MapModel = Literal["set", "vector", "auto"]
DeviceName = Literal["auto", "cpu", "cuda", "mps"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Runtime configuration. Field docs are mirrored in `.env.example` and the README table."""

    model_config = SettingsConfigDict(
        env_prefix="T2B_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///data/atlas.db", description="SQLAlchemy URL; SQLite runs in WAL mode."
    )
    data_dir: Path = Field(
        Path("data"),
        description=(
            "Directory of derived files: the embedding cache (`cache/`) and benchmark "
            "downloads. The default SQLite file lives in the default one."
        ),
    )

    # --- Hub crawling --------------------------------------------------------------------
    hub_endpoint: str = Field("https://huggingface.co", description="Hugging Face Hub base URL.")
    viewer_endpoint: str = Field(
        "https://datasets-server.huggingface.co", description="Dataset viewer base URL."
    )
    hf_token: str | None = Field(
        None,
        validation_alias=AliasChoices("HF_TOKEN", "T2B_HF_TOKEN"),
        description=(
            "Optional Hub token, for the Hub's higher rate limits (read from HF_TOKEN, or "
            "T2B_HF_TOKEN)."
        ),
    )
    max_labels: int = Field(
        5000, ge=1, description="Datasets with more classes than this are skipped."
    )
    crawl_concurrency: int = Field(8, ge=1, le=64, description="Parallel Hub requests.")
    crawl_batch_size: int = Field(50, ge=1, le=10_000, description="Datasets per DB commit.")
    crawl_max_retries: int = Field(5, ge=0, le=20, description="Retries on 429, 5xx, timeouts.")
    crawl_backoff_s: float = Field(
        0.5, ge=0, le=60, description="First retry wait; doubles per retry, with jitter."
    )
    crawl_builder_fallback: bool = Field(
        True,
        description="When card and viewer give no labels, ask `datasets.load_dataset_builder`.",
    )
    http_timeout_s: float = Field(20.0, gt=0, description="Per-request timeout to the Hub.")
    crawl_on_start: int = Field(
        300,
        ge=0,
        le=100_000,
        description=(
            "Datasets (most downloaded first) `task2box up` crawls until a first crawl has "
            "completed, when the Hub is reachable; 0 never crawls on start."
        ),
    )

    # --- representations and targets ------------------------------------------------------
    label_match_cosine: float = Field(
        0.9, ge=0.0, le=1.0, description="Label-embedding cosine at which two labels match."
    )
    max_embedded_labels: int = Field(
        512,
        ge=1,
        le=100_000,
        description=(
            "Labels embedded per dataset; larger sets are subsampled deterministically "
            "(the labels with the smallest hash), so the same set always gives the same vector."
        ),
    )
    clip_images_per_dataset: int = Field(
        8, ge=0, le=256, description="Images sampled per dataset for the `clip` representation."
    )
    clip_model: str = Field(
        "openai/clip-vit-base-patch32", description="CLIP weights for the `clip` representation."
    )

    # --- training --------------------------------------------------------------------------
    device: DeviceName = Field("auto", description="Trainer device: auto = cuda > mps > cpu.")
    map_dims: list[int] = Field(
        default_factory=lambda: [2, 5],
        description=(
            "Dimensions of the maps `train` fits: the 2-D map is drawn, the "
            "highest-dimensional published map gives the scores."
        ),
    )
    map_model: MapModel = Field(
        "auto",
        description=(
            "Containment map network: `set` (a dataset's box bounds its labels' points, so "
            "a label subset lies inside by construction), `vector` (its feature vector → "
            "its box) or `auto` (fit both on the same held-out datasets, publish the better "
            "by validation F1). Datasets without label text, and transfer maps, use `vector`."
        ),
    )
    set_epochs: int = Field(
        400,
        ge=1,
        le=100_000,
        description="Most epochs per label-set map fit (stops early on validation AP).",
    )
    train_epochs: int = Field(1350, ge=1, le=100_000, description="Epochs per map fit.")
    transfer_epochs: int = Field(
        3000,
        ge=1,
        le=100_000,
        description="Most epochs per transfer map fit (the paper's 3000; stops early on "
        "validation Spearman).",
    )
    first_map_epochs: int = Field(
        150,
        ge=0,
        le=100_000,
        description=(
            "Epochs of the quick first map `task2box up` fits when none is published, so the "
            "page shows a map within about a minute; 0 fits the first map with "
            "`T2B_TRAIN_EPOCHS`."
        ),
    )
    train_val_fraction: float = Field(
        0.1,
        ge=0.0,
        lt=0.5,
        description=(
            "Fraction of datasets held out to measure a new map (validation F1 on their "
            "pairs); 0 skips validation."
        ),
    )
    train_refit: bool = Field(
        True,
        description=(
            "After validating, refit on every dataset for the best epoch count, so no "
            "dataset's box is left unfitted in the published map."
        ),
    )
    train_max_memory_gb: float = Field(
        0.0,
        ge=0.0,
        le=65_536,
        description=(
            "A containment train job whose estimated peak memory is over this many GiB is "
            "refused before it starts, with the settings to change; 0: 80% of the memory "
            "this process may use (the machine's, or its container's limit)."
        ),
    )
    train_threads: int = Field(
        1,
        ge=0,
        le=256,
        description=(
            "torch CPU threads for training jobs; 0 keeps torch's default (every core). One "
            "by default: the fits are small, and on a busy or small host spinning OpenMP "
            "threads slow them (a 100-box epoch measured 24x slower with 2 threads on 2 busy "
            "cores) and take CPU from the API."
        ),
    )

    # --- service ----------------------------------------------------------------------------
    admin_token: str | None = Field(
        None, description="Bearer token for job endpoints; unset turns them off."
    )
    log_level: LogLevel = Field("INFO", description="Logging level.")
    max_body_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body accepted; larger ones get 413.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        # Checked here, once, so every command refuses a bad URL in one line before it starts,
        # instead of each parser of the URL failing its own way halfway through. The message
        # never repeats the value: a URL may carry a password.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        example = "e.g. sqlite:///data/atlas.db or postgresql+psycopg://user:pass@host:5432/db"
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(f"is not a database URL ({example})") from None
        try:
            url.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"names an unknown database dialect or driver {url.drivername!r} ({example})"
            ) from None
        return value

    @field_validator("map_dims")
    @classmethod
    def _check_map_dims(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= d <= 16 for d in value):
            raise ValueError(f"map_dims must be a non-empty list of dims in 1..16, got {value}")
        return sorted(set(value))

    @field_validator("admin_token")
    @classmethod
    def _refuse_placeholder_token(cls, value: str | None) -> str | None:
        # A token copied verbatim from .env.example would leave the admin API open to anyone
        # who has read our docs.
        if value is not None and value.strip() in {"", "changethis", "change-me"}:
            raise ValueError("T2B_ADMIN_TOKEN is a placeholder; set a real secret or unset it")
        return value

    @property
    def cache_dir(self) -> Path:
        """Where derived files (embeddings, bench downloads) are cached."""
        return self.data_dir / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and `.env`."""
    return Settings()

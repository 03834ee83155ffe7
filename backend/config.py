"""The one settings object: every knob is a `T2B_` environment variable (or `.env` line).

No other module reads `os.environ`; code asks `get_settings()` (or `SettingsDep` in routes),
so tests override settings by building a `Settings(...)` and passing it in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
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
    sample_images: bool = Field(
        True,
        description=(
            "Show a few images of the selected dataset in the side panel, loaded by the "
            "browser from the dataset viewer's host (the page's CSP allows that host for "
            "images). Off: the page loads nothing from any host but this server."
        ),
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

    # --- image features (transfer estimates) ----------------------------------------------
    transfer_images_per_class: int = Field(
        10,
        ge=2,
        le=1000,
        description=(
            "Images sampled per class for a dataset's image features (read from the dataset "
            "viewer's rows, spread over the train split)."
        ),
    )
    transfer_images_per_dataset: int = Field(
        300,
        ge=4,
        le=100_000,
        description="Most images sampled per dataset for its image features.",
    )
    transfer_rows_pages: int = Field(
        20,
        ge=1,
        le=1000,
        description=(
            "Most pages of 100 rows read from the viewer per dataset, spread evenly over its "
            "train split (reading stops once the per-class quotas are filled)."
        ),
    )
    transfer_streaming_fallback: bool = Field(
        True,
        description=(
            "When the viewer has no rows for a dataset, sample its images by `datasets` "
            "streaming instead."
        ),
    )
    image_features_batch_size: int = Field(
        64, ge=1, le=4096, description="Images per CLIP forward pass for image features."
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
    transfer_on_start: bool = Field(
        False,
        description=(
            "After `task2box up`'s first crawl, also sample a few images of each crawled "
            "dataset, estimate transfer between every pair and fit a transfer map to it "
            "(downloads the CLIP weights and the images)."
        ),
    )
    transfer_estimator: Literal["leep", "nce", "logme"] | None = Field(
        "leep",
        description=(
            "Which estimates (`task2box estimate-transfer`) a transfer map is also fitted to, "
            "for the pairs no imported score measures; empty: measured scores only."
        ),
    )
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
    job_heartbeat_s: float = Field(
        5.0,
        gt=0,
        le=600,
        description=(
            "How often a process renews the lease of each job it runs (one small UPDATE). "
            "Every submitter and reader of jobs fails a job whose lease ran out, so a killed "
            "`task2box train` or server never blocks the next run."
        ),
    )
    job_lease_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description=(
            "How long a job's lease lasts after its last heartbeat; at least twice "
            "T2B_JOB_HEARTBEAT_S, so one late heartbeat (a busy disk) does not fail a live "
            "job. A dead owner on the same host is noticed at once, without waiting for it."
        ),
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
    def _check_admin_token(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # The sent token is stripped (`backend.deps.require_admin`), and an HTTP header cannot
        # carry surrounding whitespace anyway: a configured " tok\n" (a quoted .env value, a
        # pasted secret) would otherwise never match any request.
        token = value.strip()
        # A token copied verbatim from .env.example would leave the admin API open to anyone
        # who has read our docs.
        if token in {"", "changethis", "change-me"}:
            raise ValueError("T2B_ADMIN_TOKEN is a placeholder; set a real secret or unset it")
        # Header values arrive as Latin-1 text and may not hold control characters, so a token
        # with either could never be sent; say so now instead of answering 401 forever.
        # The message names positions only: the token is a secret, even in a log.
        bad = [i for i, ch in enumerate(token) if not " " <= ch <= "~"]
        if bad:
            raise ValueError(
                "T2B_ADMIN_TOKEN may hold only printable ASCII characters; "
                f"{len(bad)} other(s), the first at position {bad[0]}"
            )
        return token

    @model_validator(mode="after")
    def _check_job_lease(self) -> Settings:
        if self.job_lease_s < 2 * self.job_heartbeat_s:
            raise ValueError(
                f"job_lease_s must be at least twice job_heartbeat_s, got {self.job_lease_s} "
                f"with job_heartbeat_s={self.job_heartbeat_s}"
            )
        return self

    @property
    def cache_dir(self) -> Path:
        """Where derived files (embeddings, bench downloads) are cached."""
        return self.data_dir / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and `.env`."""
    return Settings()

"""From one listed dataset to its record: card labels, else the viewer, else the builder.

Outcomes:
- skipped before any request: disabled, gated, loading script;
- `ok` (or `too_many_labels`) as soon as one source yields a ClassLabel column;
- `no_labels` when the sources that answered say there is none: a card that declares its
  features without a ClassLabel, a complete viewer answer without one, or the viewer having
  nothing and the builder finding none;
- `failed` when a source kept erroring and no other found labels: we do not call a dataset
  label-less when we could not tell, and a failed record is retried by the next crawl.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.crawler._retry import RetryPolicy, TransientError, call_with_retries
from backend.crawler.builder import BuilderError, builder_configs
from backend.crawler.features import card_configs, choose_labels
from backend.crawler.parse import (
    build_record,
    card_label_choice,
    failed_record,
    listed_sha,
    listing_skip_reason,
)
from backend.crawler.viewer import ViewerError, fetch_info
from backend.records import DatasetRecord


@dataclass(frozen=True)
class ResolverConfig:
    """What a resolver needs from the settings."""

    hub_endpoint: str
    viewer_endpoint: str
    token: str | None
    timeout_s: float
    max_labels: int
    cache_dir: Path
    builder_fallback: bool
    policy: RetryPolicy


class ResolveCounters:
    """Thread-safe counts of per-dataset lookups."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.viewer_calls = 0
        self.builder_calls = 0
        self.retries = 0
        self.retry_wait_s = 0.0

    def add(self, field: str, amount: float = 1) -> None:
        with self._lock:
            setattr(self, field, getattr(self, field) + amount)


def needs_lookup(raw: Mapping[str, Any], max_labels: int) -> bool:
    """True when the listing item alone cannot settle the record (a request is needed)."""
    if listing_skip_reason(raw) is not None or card_label_choice(raw, max_labels) is not None:
        return False
    return not _card_declares_no_labels(raw, max_labels)


def _card_declares_no_labels(raw: Mapping[str, Any], max_labels: int) -> bool:
    # `push_to_hub` writes `dataset_info.features` from the same Features the viewer reports,
    # so a card that lists every config's columns, none of them a ClassLabel, has no labels:
    # asking the viewer would cost a request to learn the same thing.
    card = raw.get("cardData")
    info = card.get("dataset_info") if isinstance(card, Mapping) else None
    if info is None:
        return False
    entries = info if isinstance(info, list) else [info]
    declared = all(isinstance(e, Mapping) and bool(e.get("features")) for e in entries)
    return bool(entries) and declared and choose_labels(card_configs(card, max_labels)) is None


class Resolver:
    """Turns listing items into records; safe to call from several threads."""

    def __init__(
        self,
        config: ResolverConfig,
        *,
        rng: random.Random,
        sleep: Callable[[float], None],
    ) -> None:
        self.config = config
        self.counters = ResolveCounters()
        self._rng = rng
        self._sleep = sleep

    def resolve(self, raw: Mapping[str, Any]) -> DatasetRecord:
        """The record for one listed dataset; per-dataset errors become a `failed` record."""
        cap = self.config.max_labels
        skip = listing_skip_reason(raw)
        if skip is not None:
            return build_record(raw, labels=None, max_labels=cap, skip_reason=skip)
        choice = card_label_choice(raw, cap)
        if choice is not None or _card_declares_no_labels(raw, cap):
            return build_record(raw, labels=choice, max_labels=cap)
        try:
            return self._lookup(raw)
        except Exception as err:  # one bad dataset must not end the crawl
            return failed_record(raw, f"unexpected {type(err).__name__}: {err}")

    def _lookup(self, raw: Mapping[str, Any]) -> DatasetRecord:
        cfg, dataset_id = self.config, str(raw["id"])
        errors: list[str] = []
        try:
            self.counters.add("viewer_calls")
            answer = self._retrying(
                lambda: fetch_info(
                    cfg.viewer_endpoint,
                    dataset_id,
                    token=cfg.token,
                    timeout_s=cfg.timeout_s,
                    max_labels=cfg.max_labels,
                ),
                f"viewer /info {dataset_id}",
            )
            choice = choose_labels(answer.configs)
            if choice is not None or (answer.kind == "found" and answer.complete):
                return build_record(raw, labels=choice, max_labels=cfg.max_labels)
        except (TransientError, ViewerError) as err:
            errors.append(f"viewer: {err}")
        if cfg.builder_fallback:
            try:
                self.counters.add("builder_calls")
                configs = self._retrying(
                    lambda: builder_configs(
                        dataset_id,
                        endpoint=cfg.hub_endpoint,
                        token=cfg.token,
                        revision=listed_sha(raw),
                        cache_dir=cfg.cache_dir,
                        max_labels=cfg.max_labels,
                    ),
                    f"builder {dataset_id}",
                    # huggingface_hub already retries each of the builder's requests with
                    # backoff; retrying the whole builder on top would multiply the waits.
                    policy=RetryPolicy(0),
                )
                choice = choose_labels(configs)
                if choice is not None or not errors:
                    return build_record(raw, labels=choice, max_labels=cfg.max_labels)
            except (TransientError, BuilderError) as err:
                errors.append(f"builder: {err}")
        if not errors:
            return build_record(raw, labels=None, max_labels=cfg.max_labels)
        return failed_record(raw, "; ".join(errors))

    def _retrying(self, fn: Callable[[], Any], what: str, policy: RetryPolicy | None = None) -> Any:
        def on_retry(delay: float) -> None:
            self.counters.add("retries")
            self.counters.add("retry_wait_s", delay)

        # One Random shared by the workers: its core step is atomic under the GIL, and the
        # order threads draw in is not reproducible anyway.
        return call_with_retries(
            fn,
            policy=policy or self.config.policy,
            rng=self._rng,
            sleep=self._sleep,
            what=what,
            on_retry=on_retry,
        )

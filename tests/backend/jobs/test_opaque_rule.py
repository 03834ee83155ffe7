"""The opaque-label rule on the real Hub examples of `../shared/data/hf` (skipped without
them): numbered sets give no counted containment unless their descriptions corroborate it,
while real overlaps still do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.catalog.loader import load_catalog
from backend.representations.label_text import LabelTextEmbedder
from models.opaque import (
    corroborated_pairs,
    description_document,
    has_opaque_labels,
    opaque_keys,
)
from models.targets import containment_targets, normalize_label

SHARED_HF = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "hf"
COFFEE, MNIST, MNIST_COPY, SVHN = (
    "rasyidf/coffee-beans",
    "ylecun/mnist",
    "severo/mnist",
    "ufldl-stanford/svhn",
)


@pytest.fixture(scope="module")
def real_targets() -> tuple[list[str], dict[tuple[str, str], float], list[list[str]]]:
    path = SHARED_HF / "datasets.jsonl"
    if not path.is_file():
        pytest.skip("../shared/data/hf is absent")
    texts: dict[str, str] = {}
    sets: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        dataset = entry["hub_id_current"] or entry["id"]
        sets[dataset] = list(entry["labels"])
        texts[dataset] = description_document(
            dataset, entry.get("pretty_name"), entry.get("description")
        )
    for record in load_catalog():  # CIFAR-10 and STL-10 come from the catalog
        if record.labels and record.id not in sets:
            sets[record.id] = list(record.labels)
            texts[record.id] = description_document(
                record.id, record.pretty_name, record.description
            )
    ids = sorted(sets)
    label_sets = [sets[i] for i in ids]
    hidden = opaque_keys(label_sets)
    rows = [
        r
        for r, labels in enumerate(label_sets)
        if any(normalize_label(x) in hidden for x in labels)
    ]
    embedder = LabelTextEmbedder()
    pairs = corroborated_pairs(rows, embedder.embed_texts([texts[ids[r]] for r in rows]))
    targets = containment_targets(label_sets, opaque=hidden, corroborated=pairs)
    values = {
        (ids[a], ids[b]): float(y)
        for a, b, y in zip(
            targets.rows.tolist(), targets.cols.tolist(), targets.values.tolist(), strict=True
        )
    }
    return ids, values, label_sets


def test_numbered_sets_contain_nothing_on_numbers_alone(
    real_targets: tuple[list[str], dict[tuple[str, str], float], list[list[str]]],
) -> None:
    _, y, _ = real_targets
    assert (COFFEE, MNIST) not in y  # coffee-bean grades 0-3 are not digits
    assert (MNIST, SVHN) not in y and (SVHN, MNIST) not in y  # not corroborated
    assert not any(a == COFFEE for a, _ in y)


def test_copies_of_one_dataset_still_match(
    real_targets: tuple[list[str], dict[tuple[str, str], float], list[list[str]]],
) -> None:
    _, y, _ = real_targets
    assert y[(MNIST, MNIST_COPY)] == 1.0 and y[(MNIST_COPY, MNIST)] == 1.0


def test_real_overlaps_still_count(
    real_targets: tuple[list[str], dict[tuple[str, str], float], list[list[str]]],
) -> None:
    _, y, _ = real_targets
    assert y[("uoft-cs/cifar10", "tanganke/stl10")] >= 0.8


def test_the_numbered_sets_are_flagged(
    real_targets: tuple[list[str], dict[tuple[str, str], float], list[list[str]]],
) -> None:
    ids, _, label_sets = real_targets
    flagged = {d for d, labels in zip(ids, label_sets, strict=True) if has_opaque_labels(labels)}
    assert {COFFEE, MNIST, MNIST_COPY, SVHN, "svnfs/depth-of-field"} <= flagged
    assert "uoft-cs/cifar10" not in flagged and "ethz/food101" not in flagged

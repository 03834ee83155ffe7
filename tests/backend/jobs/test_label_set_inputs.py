"""What the label-set model is trained on: meaningful labels, or a description."""

from __future__ import annotations

import numpy as np

from backend.jobs.train_inputs import label_set_inputs
from backend.representations.label_text import LabelTextEmbedder
from models.opaque import opaque_keys


def test_opaque_names_give_way_to_labels_or_descriptions() -> None:
    sets = [["0", "1", "2"], ["0", "1", "2", "3"], ["cat", "dog", "7"], ["cat"]]
    asked: list[list[int]] = []

    def documents(rows: list[int]) -> list[str]:
        asked.append(rows)
        return [
            f"dataset {i}: grades of coffee beans" if i == 0 else "handwritten digits" for i in rows
        ]

    embedder = LabelTextEmbedder()
    emb, points = label_set_inputs(
        sets, embedder, 512, opaque=opaque_keys(sets), documents=documents
    )
    assert asked == [[0, 1]]  # only the sets with nothing but opaque names
    rows = [points.index[i][points.mask[i]].tolist() for i in range(len(sets))]
    # Two digit sets: one point each, their descriptions, so their boxes differ.
    assert len(rows[0]) == len(rows[1]) == 1 and rows[0] != rows[1]
    np.testing.assert_allclose(
        emb[rows[1][0]], embedder.embed_texts(["handwritten digits"])[0], rtol=1e-6
    )
    # A mixed set keeps its named classes; "7" is not a point.
    assert len(rows[2]) == 2 and rows[3][0] in rows[2]
    np.testing.assert_allclose(emb[rows[3][0]], embedder.embed_labels(["cat"])[0], rtol=1e-6)


def test_without_descriptions_opaque_sets_keep_their_names() -> None:
    sets = [["0", "1"], ["cat"]]
    _, points = label_set_inputs(sets, LabelTextEmbedder(), 512, opaque=opaque_keys(sets))
    assert int(points.mask[0].sum()) == 2

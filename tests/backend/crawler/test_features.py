from __future__ import annotations

from typing import Any

import pytest

from backend.crawler.features import (
    ConfigFeatures,
    LabelColumn,
    card_configs,
    choose_labels,
    class_label_names,
    clean_text,
    features_dict_columns,
    folder_labels,
    viewer_configs,
)
from backend.records import MAX_LABEL_CHARS


class TestClassLabelNames:
    def test_list_form_keeps_order(self) -> None:
        assert class_label_names({"names": ["3", "0", "1", "2"]}, 10) == (("3", "0", "1", "2"), 4)

    def test_dict_form_is_ordered_by_label_id(self) -> None:
        spec = {"names": {"1": "dog", "0": "cat", "10": "yak", "2": "emu"}}
        names, count = class_label_names(spec, 100) or ((), 0)
        assert names == ("cat", "dog", "emu", "yak")
        assert count == 4

    def test_dict_with_non_integer_keys_keeps_card_order(self) -> None:
        assert class_label_names({"names": {"b": "dog", "a": "cat"}}, 10) == (("dog", "cat"), 2)

    def test_num_classes_only_gives_digit_names(self) -> None:
        assert class_label_names({"num_classes": 3}, 10) == (("0", "1", "2"), 3)

    def test_reads_at_most_cap_plus_one_names_but_counts_all(self) -> None:
        names, count = class_label_names({"names": [f"c{i}" for i in range(10_000)]}, 5) or ((), 0)
        assert names == ("c0", "c1", "c2", "c3", "c4", "c5")
        assert count == 10_000

    @pytest.mark.parametrize(
        "spec",
        [None, "names", {"names": []}, {"names": {}}, {"names": [{"x": 1}]}, {"num_classes": 0}],
    )
    def test_rejects_what_is_not_a_class_label(self, spec: Any) -> None:
        assert class_label_names(spec, 10) is None

    def test_numbers_become_text(self) -> None:
        assert class_label_names({"names": [0, 1.5]}, 10) == (("0", "1.5"), 2)


def test_clean_text_drops_control_characters_and_bounds_length() -> None:
    assert clean_text("  cat\x00\n dog\u200b ", 100) == "cat   dog"
    assert len(clean_text("x" * 10_000, MAX_LABEL_CHARS)) == MAX_LABEL_CHARS


class TestCardConfigs:
    def test_single_config_dict(self) -> None:
        card = {
            "dataset_info": {
                "config_name": "plain_text",
                "features": [
                    {"name": "img", "dtype": "image"},
                    {"name": "label", "dtype": {"class_label": {"names": {"0": "a", "1": "b"}}}},
                ],
                "splits": [
                    {"name": "train", "num_examples": 5},
                    {"name": "test", "num_examples": 2.0},
                ],
            }
        }
        [config] = card_configs(card, 10)
        assert config.config == "plain_text"
        assert config.columns == (LabelColumn("label", ("a", "b"), 2),)
        assert config.splits == {"train": 5, "test": 2}

    def test_multi_config_list_and_sequence_columns(self) -> None:
        card = {
            "dataset_info": [
                {"config_name": "a", "features": [{"name": "text", "dtype": "string"}]},
                {
                    "config_name": "b",
                    "features": [
                        {"name": "tags", "sequence": {"class_label": {"names": ["x", "y"]}}},
                        {"name": "kind", "list": {"class_label": {"names": ["p"]}}},
                    ],
                },
            ]
        }
        a, b = card_configs(card, 10)
        assert a.columns == ()
        assert [(c.name, c.multi_label) for c in b.columns] == [("tags", True), ("kind", True)]

    def test_dict_form_features(self) -> None:
        card = {
            "dataset_info": {"features": {"label": {"dtype": {"class_label": {"names": ["a"]}}}}}
        }
        assert card_configs(card, 10)[0].columns[0].names == ("a",)

    @pytest.mark.parametrize(
        "card",
        [
            None,
            [],
            "x",
            {"dataset_info": "x"},
            {"dataset_info": [1, None]},
            {"dataset_info": {"features": 3}},
        ],
    )
    def test_tolerates_junk(self, card: Any) -> None:
        assert all(c.columns == () for c in card_configs(card, 10))

    def test_bad_split_counts_are_dropped(self) -> None:
        card = {
            "dataset_info": {
                "splits": [
                    {"name": "a", "num_examples": -1},
                    {"name": "b", "num_examples": True},
                    {"name": "c", "num_examples": "9"},
                    {"name": "d", "num_examples": 10**13},
                    {"name": "e", "num_examples": 3},
                ]
            }
        }
        assert card_configs(card, 10)[0].splits == {"e": 3}


class TestViewerConfigs:
    def test_config_map(self) -> None:
        info = {
            "mnist": {
                "features": {
                    "image": {"_type": "Image"},
                    "label": {"names": ["0", "1"], "_type": "ClassLabel"},
                },
                "splits": {"train": {"name": "train", "num_examples": 60000}},
            }
        }
        [config] = viewer_configs(info, 10)
        assert config.config == "mnist"
        assert config.columns[0].names == ("0", "1")
        assert config.splits == {"train": 60000}

    def test_single_config_object(self) -> None:
        info = {"config_name": "ax", "features": {"l": {"names": ["x"], "_type": "ClassLabel"}}}
        assert viewer_configs(info, 10)[0].config == "ax"

    @pytest.mark.parametrize(
        "spec",
        [
            {"_type": "Sequence", "feature": {"names": ["a"], "_type": "ClassLabel"}},
            {"_type": "List", "feature": {"names": ["a"], "_type": "ClassLabel"}},
            [{"names": ["a"], "_type": "ClassLabel"}],
        ],
    )
    def test_multi_label_forms(self, spec: Any) -> None:
        [column] = features_dict_columns({"labels": spec}, 10)
        assert column == LabelColumn("labels", ("a",), 1, multi_label=True)


class TestChooseLabels:
    def col(self, name: str, n: int) -> LabelColumn:
        return LabelColumn(name, tuple(str(i) for i in range(n)), n)

    def test_prefers_label_then_labels_then_most_classes(self) -> None:
        cfg = ConfigFeatures("c", (self.col("coarse_label", 20), self.col("fine_label", 100)))
        assert choose_labels([cfg]).column.name == "fine_label"  # type: ignore[union-attr]
        cfg = ConfigFeatures("c", (self.col("fine_label", 100), self.col("labels", 3)))
        assert choose_labels([cfg]).column.name == "labels"  # type: ignore[union-attr]
        cfg = ConfigFeatures("c", (self.col("labels", 100), self.col("label", 3)))
        assert choose_labels([cfg]).column.name == "label"  # type: ignore[union-attr]

    def test_prefers_default_config_else_first_with_labels(self) -> None:
        empty = ConfigFeatures("full", ())
        first = ConfigFeatures("a", (self.col("label", 2),))
        default = ConfigFeatures("default", (self.col("label", 3),))
        assert choose_labels([empty, first, default]).config == "default"  # type: ignore[union-attr]
        assert choose_labels([empty, first]).config == "a"  # type: ignore[union-attr]
        assert choose_labels([empty]) is None


class TestFolderLabels:
    exts = (".jpg", ".png")

    def test_directory_names_are_the_classes(self) -> None:
        paths = ["hf://d@x/train/dog/1.jpg", "hf://d@x/train/cat/2.PNG", "hf://d@x/train/cat/3.jpg"]
        assert folder_labels(paths, self.exts, 100) == ("cat", "dog")

    @pytest.mark.parametrize(
        "paths",
        [
            ["r/train/cat/1.jpg", "r/train/cat/2.jpg"],  # one class only
            ["r/train/cat/1.jpg", "r/train/dog/x/2.jpg"],  # images at different depths
            ["r/train/cat/1.jpg", "r/train/dog/2.jpg", "r/train/metadata.jsonl"],  # metadata
        ],
    )
    def test_no_labels_where_datasets_would_infer_none(self, paths: list[str]) -> None:
        assert folder_labels(paths, self.exts, 100) == ()


def test_blank_names_become_their_label_id() -> None:
    assert class_label_names({"names": ["cat", " \n", ""]}, 10) == (("cat", "1", "2"), 3)

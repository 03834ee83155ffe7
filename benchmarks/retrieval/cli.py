"""`task2box bench retrieval`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
_QUICK_VECTOR_EPOCHS = 300
_QUICK_SET_EPOCHS = 150


def _fmt(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def bench_retrieval(
    quick: Annotated[
        bool, typer.Option(help="Shorter fits (vector 300, set 150 epochs) for a smoke run.")
    ] = False,
    models: Annotated[str, typer.Option(help="Map models, comma-separated.")] = "vector,set",
    dims: Annotated[str, typer.Option(help="Map dimensions, comma-separated.")] = "2,5",
    per_size: Annotated[
        int, typer.Option(min=1, max=20, help="Random subsets per dataset and size.")
    ] = 2,
    seed: Annotated[int, typer.Option(help="Seeds the queries and the held-out datasets.")] = 0,
    shared: Annotated[
        bool, typer.Option(help="Add ../shared/data/hf's datasets (skipped when absent).")
    ] = True,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the atlases here (default: a temp dir).")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write JSON here.")] = None,
) -> None:
    """Related-dataset lists against counted coverage: class subsets, unseen datasets, and
    the drawn boxes' fidelity, for each map model, its boxes alone, and coverage alone."""
    from backend.config import get_settings
    from backend.representations.label_text import LabelTextEmbedder
    from benchmarks.retrieval.data import DEFAULT_SHARED_HF
    from benchmarks.retrieval.runner import RetrievalConfig, run_retrieval_bench

    model_names = tuple(m.strip() for m in models.split(",") if m.strip())
    if not model_names or any(m not in ("vector", "set") for m in model_names):
        raise typer.BadParameter("models must be vector and/or set")
    try:
        dim_values = tuple(int(d) for d in dims.split(","))
    except ValueError as e:
        raise typer.BadParameter(f"dims must be integers, got {dims!r}") from e
    config = RetrievalConfig(
        dims=dim_values,
        models=model_names,
        per_size=per_size,
        seed=seed,
        vector_epochs=_QUICK_VECTOR_EPOCHS if quick else None,
        set_epochs=_QUICK_SET_EPOCHS if quick else None,
        shared_hf=DEFAULT_SHARED_HF if shared else None,
    )
    settings = get_settings()
    embedder = LabelTextEmbedder.from_cache_dir(settings.cache_dir)
    with tempfile.TemporaryDirectory(prefix="t2b-bench-retrieval-") as tmp:
        report = run_retrieval_bench(
            workdir or Path(tmp), config, embedder, tau=settings.label_match_cosine
        )
    table = Table(
        title=f"retrieval: {report['datasets']} datasets "
        f"({'with' if report['shared_fixtures'] else 'without'} ../shared/data/hf), "
        f"{report['queries']} class-subset queries, {report['held_out']} held out"
    )
    columns = (
        "system", "R@1 2+", "R@3 2+", "R@1 1", "sharer>holder", "unseen nDCG in",
        "unseen nDCG contains", "val F1", "fidelity F1", "fidelity ρ", "train s",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "system" else "right")
    for row in report["rows"]:
        table.add_row(
            row["system"],
            _fmt(row["recall@1_2plus"]),
            _fmt(row["recall@3_2plus"]),
            _fmt(row["recall@1"].get("1")),
            _fmt(row["sharer_above_holder"], 3),
            _fmt(row["unseen_ndcg_contained_in"]),
            _fmt(row["unseen_ndcg_contains"]),
            _fmt(row.get("val_f1")),
            _fmt(row.get("fidelity_f1")),
            _fmt(row.get("fidelity_spearman")),
            _fmt(row.get("fit_s"), 0),
        )
    console.print(table)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

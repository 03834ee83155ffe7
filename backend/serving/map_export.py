"""A map as one self-contained interactive HTML file (`task2box export-map`).

The file is made with the `plotly` Python package and carries plotly.js inline, so it opens
offline and needs no server: something a user can attach to a paper or an issue. It draws
what the page draws: each box as an outlined rectangle coloured by licence, size or number of
classes (the page's colour-by, with the page's palettes), the dataset's name on the most
downloaded boxes, and a hover card (name, classes, size, downloads, licence) anywhere on a
box's centre marker.

Dataset ids and licences are Hub text: Plotly reads `<b>`, `<a>` and `<br>` in text and hover
labels as markup, so every such string is HTML-escaped before it reaches the figure.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from sqlalchemy.orm import Session

from backend.db import repository
from backend.errors import InvalidInputError, NotFoundError

COLOR_MODES = ("license", "size", "classes")
# The page's palettes (frontend/js/colors.js), so an export looks like the page.
_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D31"]
_OTHER_COLOR = "#8a8f98"
_UNKNOWN_COLOR = "#b9bec7"
_SIZE_COLORS = ["#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b"]
_CLASS_COLORS = ["#fec44f", "#fe9929", "#ec7014", "#cc4c02"]
_SIZE_BINS = [
    (1_000, "< 1k examples"),
    (10_000, "1k–10k examples"),
    (100_000, "10k–100k examples"),
    (1_000_000, "100k–1M examples"),
    (float("inf"), "≥ 1M examples"),
]
_CLASS_BINS = [
    (10, "≤ 10 classes"),
    (100, "11–100 classes"),
    (1_000, "101–1,000 classes"),
    (float("inf"), "> 1,000 classes"),
]
# Names are drawn on this many boxes at most (the most downloaded): more would overprint.
MAX_NAMES = 60
_MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class _Group:
    label: str
    color: str
    rows: list[int]


def load_boxes(session: Session, *, map_id: int | None, top: int | None) -> repository.MapBoxes:
    """The boxes to export: a map by id, else the published 2-D containment map.

    Args:
        session: A database session.
        map_id: The map; None picks the published containment map of the lowest dimension.
        top: Keep only the `top` most downloaded boxes (None: all).

    Raises:
        InvalidInputError: When `top` < 1.
        NotFoundError: When the map does not exist, none is published, or it has no boxes.
    """
    if top is not None and top < 1:
        raise InvalidInputError(f"top must be >= 1, got {top}")
    if map_id is None:
        record = repository.get_published_map(session, relation="containment")
        if record is None:
            raise NotFoundError("no containment map is published; train one or pass --map")
        map_id = record.id
    boxes = repository.get_map_boxes(session, map_id=map_id, limit=top)
    if boxes is None:
        raise NotFoundError(f"no map with id {map_id}")
    if not boxes.dataset_ids:
        raise NotFoundError(f"map {map_id} has no boxes")
    return boxes


def _groups(boxes: repository.MapBoxes, color: str) -> list[_Group]:
    n = len(boxes.dataset_ids)
    if color == "license":
        counts: dict[str, int] = {}
        for lic in boxes.licenses:
            if lic is not None:
                counts[lic] = counts.get(lic, 0) + 1
        top = sorted(counts, key=lambda name: (-counts[name], name))[: len(_PALETTE)]
        position = {name: k for k, name in enumerate(top)}
        groups = [_Group(name, _PALETTE[k], []) for k, name in enumerate(top)]
        other = _Group("Other licenses", _OTHER_COLOR, [])
        unknown = _Group("No license given", _UNKNOWN_COLOR, [])
        for i, lic in enumerate(boxes.licenses):
            target = unknown if lic is None else other
            if lic is not None and lic in position:
                target = groups[position[lic]]
            target.rows.append(i)
        groups += [other, unknown]
    else:
        values = boxes.num_examples if color == "size" else boxes.num_labels
        bins, colors = (
            (_SIZE_BINS, _SIZE_COLORS) if color == "size" else (_CLASS_BINS, _CLASS_COLORS)
        )
        groups = [_Group(label, colors[k], []) for k, (_, label) in enumerate(bins)]
        unknown = _Group(
            "Size unknown" if color == "size" else "Classes unknown", _UNKNOWN_COLOR, []
        )
        for i in range(n):
            value = int(values[i])
            if value < 0:
                unknown.rows.append(i)
                continue
            k = next(
                k for k, (bound, _) in enumerate(bins) if value < bound or bound == float("inf")
            )
            groups[k].rows.append(i)
        groups.append(unknown)
    return [g for g in groups if g.rows]


def _rectangles(lo: np.ndarray, hi: np.ndarray, rows: list[int]) -> tuple[list[float | None], ...]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i in rows:
        x0, y0, x1, y1 = float(lo[i, 0]), float(lo[i, 1]), float(hi[i, 0]), float(hi[i, 1])
        xs += [x0, x1, x1, x0, x0, None]
        ys += [y0, y0, y1, y1, y0, None]
    return xs, ys


def _count(value: int) -> str:
    return "unknown" if value < 0 else f"{value:,}"


def map_figure(boxes: repository.MapBoxes, *, color: str = "license") -> go.Figure:
    """The map as a Plotly figure (SVG traces: an export is read, not zoomed through 10k boxes).

    Args:
        boxes: From `load_boxes`.
        color: One of `COLOR_MODES`.

    Raises:
        InvalidInputError: For an unknown colour mode.
    """
    if color not in COLOR_MODES:
        raise InvalidInputError(f"color must be one of {', '.join(COLOR_MODES)}, got {color!r}")
    lo, hi = boxes.lo, boxes.hi
    if lo.shape[1] < 2:  # a 1-D map: draw it as flat bars
        lo = np.column_stack([lo[:, 0], np.zeros(len(lo))])
        hi = np.column_stack([hi[:, 0], np.full(len(hi), 0.1)])
    names = [html.escape(i) for i in boxes.dataset_ids]
    licenses = [html.escape(lic) if lic else "none given" for lic in boxes.licenses]
    fig = go.Figure()
    for group in _groups(boxes, color):
        xs, ys = _rectangles(lo, hi, group.rows)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=_with_alpha(group.color, 0.12),
                line={"color": group.color, "width": 1},
                name=html.escape(group.label),
                hoverinfo="skip",
            )
        )
    cx = (lo[:, 0] + hi[:, 0]) / 2
    cy = (lo[:, 1] + hi[:, 1]) / 2
    cards = [
        f"<b>{names[i]}</b><br>{_count(int(boxes.num_labels[i]))} classes · "
        f"{_count(int(boxes.num_examples[i]))} examples<br>"
        f"{_count(int(boxes.downloads[i]))} downloads · license {licenses[i]}"
        for i in range(len(names))
    ]
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="markers",
            marker={"size": 6, "color": "#374151", "opacity": 0.6},
            hovertext=cards,
            hoverinfo="text",
            name="Datasets",
            showlegend=False,
        )
    )
    # Rows come most downloaded first (repository.get_map_boxes): name those boxes.
    shown = min(MAX_NAMES, len(names))
    fig.add_trace(
        go.Scatter(
            x=cx[:shown],
            y=hi[:shown, 1],
            mode="text",
            text=[_short(boxes.dataset_ids[i]) for i in range(shown)],
            textposition="top center",
            textfont={"size": 11, "color": "#111827"},
            hoverinfo="skip",
            name="Names",
            showlegend=False,
        )
    )
    record = boxes.map
    fig.update_layout(
        title=f"Task2Box Atlas · map {record.id} ({record.relation}, {record.dim}-D, "
        f"{len(names):,} datasets)",
        xaxis={"title": "Box dimension 1", "zeroline": False},
        yaxis={"title": "Box dimension 2", "zeroline": False, "scaleanchor": "x"},
        legend={"title": {"text": f"Colour: {color}"}, "orientation": "h", "y": -0.12},
        hovermode="closest",
        plot_bgcolor="#fbfcfd",
        margin={"l": 60, "r": 20, "t": 60, "b": 80},
    )
    return fig


def _short(dataset_id: str) -> str:
    name = dataset_id.rsplit("/", 1)[-1]
    name = name if len(name) <= _MAX_NAME_CHARS else name[: _MAX_NAME_CHARS - 1] + "…"
    return html.escape(name)


def _with_alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def map_html(boxes: repository.MapBoxes, *, color: str = "license") -> str:
    """The figure as one HTML document with plotly.js inlined (no network at view time)."""
    document: str = pio.to_html(
        map_figure(boxes, color=color),
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False, "showSendToCloud": False, "responsive": True},
    )
    return document

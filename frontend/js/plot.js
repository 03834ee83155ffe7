// @ts-check
/**
 * Pure data → Plotly traces and layout. No DOM and no Plotly calls: app.js hands the result
 * to Plotly.react, and the node tests check it directly.
 *
 * Boxes are drawn as `scattergl` fill traces whose rectangles are separated by nulls (one
 * trace per colour group or selection role, so the legend names each), plus one `scattergl`
 * marker trace at the box centres that carries the hover text and the ids (`customdata`) for
 * hover, click and lasso. Layout shapes would have no hover and slow down past ~500 boxes.
 *
 * A box's outline is not a WebGL line: Plotly's line renderer draws every segment as its own
 * instanced quad, which costs ~30 µs per segment on a CPU rasterizer (Chromium without a GPU),
 * so 500 outlined boxes took ~100 ms a frame. Each outlined layer gets a second fill trace
 * instead, its "edges": four thin rectangles per box, `width` screen pixels thick at the
 * current zoom, drawn with the fills' cheap triangles. Zooming scales them until the page
 * redraws after the zoom settles (mapview.js), which restores the set width.
 */

import { escapeHtml, formatCount } from './text.js';
import { GREY, MAX_GROUPS, ROLE_ORDER, ROLE_STYLES, withAlpha } from './colors.js';

export const PLACED_COLOR = '#E11D48';
export const BOX_FILL_ALPHA = 0.13;
export const BOX_LINE_ALPHA = 0.7;
// Hover cards depend on the box only, so each model's are built once (10k toLocaleString
// calls per redraw would otherwise dominate building the traces).
const HOVER_CACHE = new WeakMap();
const TRACE_UID = 'atlas';

/**
 * A trace uid. Plotly builds CSS selectors from uids (`.cb${uid}`), so only [A-Za-z0-9_-].
 * @param {string} key - A layer key such as 'role:selected'.
 * @returns {string} e.g. 'atlas-role-selected'.
 */
export function traceUid(key) {
  return `${TRACE_UID}-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * @typedef {object} Scene
 * @property {number[]} shown - Box indices drawn in full.
 * @property {number[]} fading - Box indices drawn faintly (next in rank, fading in).
 * @property {{groups: import('./colors.js').ColorGroup[], groupOf: Int32Array}} colors
 * @property {(i: number) => boolean} passes - Filter test per box.
 * @property {Map<string, string>} roles - Dataset id → selection role (see ROLE_ORDER).
 * @property {{lo: number[], hi: number[]}|null} placed - A predicted box to draw dashed.
 * @property {{x: number, y: number}} pixel - Data units per screen pixel along each axis.
 * @property {{labels: string[], points: number[][]}|null} [labelPoints] - A dataset's
 *   classes as points (label-set maps).
 * @property {boolean} [onlyRelated] - With a selection, fade the unrelated boxes to near
 *   invisible ("show only related").
 * @property {boolean} [dense] - A large map seen from afar (density shading under it): boxes
 *   that are not highlighted lose their outlines and their centre dots shrink, so thousands
 *   of them read as texture over the shading, not as a solid mass of lines.
 */

/** Centre dot sizes: a highlighted box's, an ordinary box's, and one in a dense view. */
export const MARKER_SIZE = { role: 7, box: 6, dense: 3 };
/** Alphas of the unrelated boxes while "show only related" is on. */
export const ONLY_RELATED_ALPHA = { fill: 0.006, line: 0.03, marker: 0.06 };

/**
 * Rectangle outlines of the given boxes, closed and separated by nulls.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number[]} indices - Which boxes.
 * @returns {{x: (number|null)[], y: (number|null)[]}} Coordinates for one scattergl trace.
 */
export function rectangles(model, indices) {
  const x = new Array(indices.length * 6);
  const y = new Array(indices.length * 6);
  let k = 0;
  for (const i of indices) {
    const a = model.x0[i];
    const b = model.x1[i];
    const c = model.y0[i];
    const d = model.y1[i];
    x[k] = a;
    y[k] = c;
    k += 1;
    x[k] = b;
    y[k] = c;
    k += 1;
    x[k] = b;
    y[k] = d;
    k += 1;
    x[k] = a;
    y[k] = d;
    k += 1;
    x[k] = a;
    y[k] = c;
    k += 1;
    x[k] = null;
    y[k] = null;
    k += 1;
  }
  return { x, y };
}

/**
 * Box outlines as thin filled rectangles: for each box, its bottom, top, left and right edge
 * strips, each closed and followed by a null (see the module comment for why).
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number[]} indices - Which boxes.
 * @param {number} tx - Strip thickness along x (data units), >= 0.
 * @param {number} ty - Strip thickness along y (data units), >= 0.
 * @returns {{x: (number|null)[], y: (number|null)[]}} Coordinates for one scattergl fill trace.
 */
export function edgeRectangles(model, indices, tx, ty) {
  /** @type {(number|null)[]} */
  const x = [];
  /** @type {(number|null)[]} */
  const y = [];
  /** @type {(a: number, b: number, c: number, d: number) => void} */
  const strip = (a, b, c, d) => {
    x.push(a, b, b, a, a, null);
    y.push(c, c, d, d, c, null);
  };
  for (const i of indices) {
    const a = model.x0[i];
    const b = model.x1[i];
    const c = model.y0[i];
    const d = model.y1[i];
    // A box thinner than two strips is one solid strip; no strip overlaps another.
    const sx = Math.min(tx, (b - a) / 2);
    const sy = Math.min(ty, (d - c) / 2);
    strip(a, b, c, c + sy);
    strip(a, b, d - sy, d);
    if (d - sy > c + sy) {
      strip(a, a + sx, c + sy, d - sy);
      strip(b - sx, b, c + sy, d - sy);
    }
  }
  return { x, y };
}

/**
 * The hover card of box i. Plotly parses hover text as (a subset of) HTML, so every
 * data value is escaped; only our own <b> and <br> tags remain.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number} i - A box index.
 * @returns {string} The hover text.
 */
export function hoverText(model, i) {
  let cache = HOVER_CACHE.get(model);
  if (!cache) {
    cache = new Array(model.n);
    HOVER_CACHE.set(model, cache);
  }
  if (cache[i] === undefined) cache[i] = formatHover(model, i);
  return cache[i];
}

/**
 * Build the hover card text of box i (see hoverText, which caches it).
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number} i - A box index.
 * @returns {string} The hover text.
 */
function formatHover(model, i) {
  const classes = model.numLabels[i];
  const size = model.numExamples[i];
  const lines = [
    `<b>${escapeHtml(model.ids[i])}</b>`,
    `${typeof classes === 'number' && Number.isFinite(classes) ? classes.toLocaleString('en-US') : '—'} classes · ${Number.isFinite(size) ? `${formatCount(size)} examples` : 'size unknown'}`,
    `License: ${escapeHtml(model.license[i] ?? 'none given')}`,
    `Downloads: ${formatCount(model.downloads[i])}${model.measured[i] ? '' : ' · placed from features'}`,
  ];
  return lines.join('<br>');
}

/**
 * One layer of boxes: a null-separated fill trace, and when the layer is outlined
 * (`width` > 0) its edges trace (see edgeRectangles); the legend entry is the edges' when
 * there are edges (a stronger swatch), else the fill's, and one click toggles both.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number[]} indices - Its boxes.
 * @param {{key: string, name: string, color: string, fill: number, line: number,
 *   width?: number, legend?: boolean, hideEdges?: boolean}} style - Look and legend (`width`
 *   in screen pixels, 1 by default, 0 for no outline; `hideEdges` keeps the edges trace but
 *   empty, so the trace list does not change when outlines come and go).
 * @param {{x: number, y: number}} pixel - Data units per screen pixel.
 * @returns {object[]} The fill trace, then its edges trace when outlined.
 */
export function layerTraces(model, indices, style, pixel) {
  const width = style.width ?? 1;
  const legend = indices.length > 0 && (style.legend ?? true);
  const { x, y } = rectangles(model, indices);
  const base = {
    type: 'scattergl',
    mode: 'lines',
    fill: 'toself',
    line: { width: 0 },
    hoverinfo: 'skip',
    legendgroup: traceUid(style.key),
  };
  const fill = {
    ...base,
    uid: traceUid(style.key),
    name: escapeHtml(style.name),
    x,
    y,
    fillcolor: withAlpha(style.color, style.fill),
    showlegend: legend && (width <= 0 || Boolean(style.hideEdges)),
    meta: { kind: 'boxes', key: style.key, count: indices.length },
  };
  if (width <= 0) return [fill];
  const edges = style.hideEdges
    ? { x: [], y: [] }
    : edgeRectangles(model, indices, width * pixel.x, width * pixel.y);
  return [
    fill,
    {
      ...base,
      uid: traceUid(`edges:${style.key}`),
      name: escapeHtml(style.name),
      x: edges.x,
      y: edges.y,
      fillcolor: withAlpha(style.color, style.line),
      showlegend: legend && !style.hideEdges,
      meta: { kind: 'edges', key: `edges:${style.key}`, count: indices.length },
    },
  ];
}

/**
 * Assign each drawn box to the layer it is drawn in.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {Scene} scene - What to draw.
 * @returns {{layers: Map<string, number[]>, drawn: number[]}} Layer key → box indices,
 *   and every drawn box (full or faint) once.
 */
export function assignLayers(model, scene) {
  /** @type {Map<string, number[]>} */
  const layers = new Map();
  /** @type {(key: string, i: number) => void} */
  const push = (key, i) => {
    const layer = layers.get(key);
    if (layer) layer.push(i);
    else layers.set(key, [i]);
  };
  /** @type {number[]} */
  const drawn = [];
  const seen = new Set();
  const hasSelection = scene.roles.size > 0;
  /** @type {(i: number, faint: boolean) => void} */
  const place = (i, faint) => {
    if (seen.has(i)) return;
    seen.add(i);
    drawn.push(i);
    const role = scene.roles.get(model.ids[i]);
    if (role) push(`role:${role}`, i);
    else if (!scene.passes(i)) push('filtered', i);
    else if (faint) push('fading', i);
    else if (hasSelection) push('greyed', i);
    else push(`group:${scene.colors.groupOf[i]}`, i);
  };
  // Related boxes are drawn whatever their rank: a highlight must never be invisible.
  for (const id of scene.roles.keys()) {
    const i = model.indexById.get(id);
    if (i !== undefined) place(i, false);
  }
  for (const i of scene.shown) place(i, false);
  for (const i of scene.fading) place(i, true);
  return { layers, drawn };
}

/**
 * All traces for the map, bottom to top: faint layers, colour groups (or the greyed rest),
 * selection roles, the placed box, then the hover/click markers.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {Scene} scene - What to draw.
 * @returns {{traces: object[], drawn: number[], layers: Map<string, number[]>}} The traces,
 *   the drawn box indices and the layer each box is drawn in.
 */
export function buildTraces(model, scene) {
  const { layers, drawn } = assignLayers(model, scene);
  // Always the same traces in the same order, empty ones included: Plotly.react then updates
  // them in place. A changed trace count makes it rebuild the whole plot, which is slower and
  // fires mouseout on the removed hover layer while the mouse is over the map.
  /** @type {object[]} */
  const traces = [];
  /**
   * @param {string} key - Layer key.
   * @param {{name: string, color: string, fill: number, line: number, width?: number,
   *   hideEdges?: boolean}} style - Look.
   */
  const add = (key, style) => traces.push(...layerTraces(model, layers.get(key) || [], { key, ...style }, scene.pixel));
  // The faint layers have no outline: WebGL lines cost far more than fills (each segment is
  // an instanced quad, ~30 µs apiece on a CPU rasterizer), and a faint box reads as well from
  // a slightly stronger fill. Only boxes drawn in full (and highlights) keep their edges.
  add('filtered', { name: 'Filtered out', color: GREY, fill: 0.04, line: 0, width: 0 });
  add('fading', { name: 'Less downloaded (zoom in)', color: GREY, fill: 0.06, line: 0, width: 0 });
  add(
    'greyed',
    scene.onlyRelated
      ? { name: 'Other datasets (faded)', color: GREY, fill: ONLY_RELATED_ALPHA.fill, line: ONLY_RELATED_ALPHA.line }
      : { name: 'Other datasets', color: GREY, fill: 0.05, line: 0.32, hideEdges: Boolean(scene.dense) },
  );
  if (scene.colors.groups.length > MAX_GROUPS) {
    throw new Error(`at most ${MAX_GROUPS} colour groups, got ${scene.colors.groups.length}`);
  }
  for (let g = 0; g < MAX_GROUPS; g += 1) {
    const group = scene.colors.groups[g] || { label: '', color: GREY };
    add(`group:${g}`, {
      name: group.label,
      color: group.color,
      fill: BOX_FILL_ALPHA,
      line: BOX_LINE_ALPHA,
      hideEdges: Boolean(scene.dense),
    });
  }
  for (const role of [...ROLE_ORDER].reverse()) {
    const style = ROLE_STYLES[role];
    add(`role:${role}`, {
      name: style.label,
      color: style.color,
      fill: style.fill,
      line: 0.95,
      width: style.width,
    });
  }
  traces.push(placedTrace(scene.placed));
  traces.push(labelPointsTrace(scene.labelPoints || null));
  traces.push(markerTrace(model, drawn, layers, scene));
  return { traces, drawn, layers };
}

/**
 * The predicted box of a pasted label set, dashed (an empty trace when there is none).
 * @param {{lo: number[], hi: number[]}|null} box - Its corners (first two dimensions drawn).
 * @returns {object} A Plotly trace.
 */
export function placedTrace(box) {
  const [a, c] = box ? box.lo : [];
  const [b, d] = box ? box.hi : [];
  return {
    type: 'scattergl',
    mode: 'lines',
    uid: traceUid('placed'),
    name: 'Your dataset (predicted)',
    x: box ? [a, b, b, a, a] : [],
    y: box ? [c, c, d, d, c] : [],
    fill: 'toself',
    fillcolor: withAlpha(PLACED_COLOR, 0.08),
    line: { color: PLACED_COLOR, width: 2.5, dash: 'dash' },
    hoverinfo: 'skip',
    showlegend: Boolean(box),
    meta: { kind: 'placed', count: box ? 1 : 0 },
  };
}

/**
 * The selected dataset's classes as points of a label-set map (its box bounds them), each
 * named on hover; an empty trace when there are none. Class names come from the Hub, so
 * they are escaped for Plotly's hover HTML.
 * @param {{labels: string[], points: number[][]}|null} points - LabelPointsPublic.
 * @returns {object} A Plotly trace.
 */
export function labelPointsTrace(points) {
  const rows = points ? points.points : [];
  const labels = points ? points.labels : [];
  return {
    type: 'scattergl',
    mode: 'markers',
    uid: traceUid('label-points'),
    name: 'Its classes',
    x: rows.map((p) => p[0]),
    y: rows.map((p) => p[1]),
    text: labels.map((label) => escapeHtml(label)),
    hovertemplate: '%{text}<extra>class</extra>',
    marker: { size: 5, color: PLACED_COLOR, symbol: 'diamond', line: { width: 0 } },
    showlegend: rows.length > 0,
    meta: { kind: 'label-points', count: rows.length },
  };
}

/**
 * One marker per drawn box at its centre, coloured like its box; carries hover and ids.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number[]} drawn - Drawn box indices.
 * @param {Map<string, number[]>} layers - Layer of each box (from assignLayers).
 * @param {Scene} scene - What to draw.
 * @returns {object} A Plotly trace.
 */
export function markerTrace(model, drawn, layers, scene) {
  const colorOf = new Map();
  const sizeOf = new Map();
  const plain = scene.dense ? MARKER_SIZE.dense : MARKER_SIZE.box;
  for (const [key, indices] of layers) {
    const color = layerMarkerColor(key, scene);
    const size = key.startsWith('role:') ? MARKER_SIZE.role : plain;
    for (const i of indices) {
      colorOf.set(i, color);
      sizeOf.set(i, size);
    }
  }
  return {
    type: 'scattergl',
    mode: 'markers',
    uid: traceUid('centres'),
    name: 'Box centres',
    x: drawn.map((i) => (model.x0[i] + model.x1[i]) / 2),
    y: drawn.map((i) => (model.y0[i] + model.y1[i]) / 2),
    customdata: drawn.map((i) => model.ids[i]),
    text: drawn.map((i) => hoverText(model, i)),
    hovertemplate: '%{text}<extra></extra>',
    marker: { size: drawn.map((i) => sizeOf.get(i)), color: drawn.map((i) => colorOf.get(i)), line: { width: 0 } },
    showlegend: false,
    meta: { kind: 'centres', count: drawn.length },
  };
}

/**
 * Marker colour for a layer: faint layers get faint markers.
 * @param {string} key - The layer key.
 * @param {Scene} scene - What is drawn.
 * @returns {string} A CSS colour.
 */
function layerMarkerColor(key, scene) {
  if (key === 'filtered') return withAlpha(GREY, 0.25);
  if (key === 'fading') return withAlpha(GREY, 0.35);
  if (key === 'greyed') return withAlpha(GREY, scene.onlyRelated ? ONLY_RELATED_ALPHA.marker : 0.6);
  if (key.startsWith('role:')) return ROLE_STYLES[key.slice(5)].color;
  return withAlpha(scene.colors.groups[Number(key.slice(6))].color, 0.9);
}

/**
 * Count the rectangles a fill trace draws (its null separators).
 * @param {{x: (number|null)[]}} trace - A fill trace.
 * @returns {number} The number of rectangles.
 */
export function countRectangles(trace) {
  let count = 0;
  for (const v of trace.x) if (v === null) count += 1;
  return count;
}

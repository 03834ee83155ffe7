// @ts-check
/**
 * Names on the map: which boxes to name, and where each name goes so that none overlaps
 * another. Pure; no DOM (the caller measures text, see `Measure`).
 *
 * The placement is the greedy screen-space one that datamapplot and Embedding Atlas use for
 * point labels: candidates in priority order (the selected dataset and its highlighted
 * relatives first, then the most downloaded boxes in view), each tried at a few positions
 * around its anchor, kept at the first position that is inside the plot and free. A uniform
 * grid of screen cells holds the placed rectangles, so a collision test looks only at the
 * labels in the cells a rectangle covers. Zoomed in, the same boxes spread apart and more
 * names fit.
 *
 * Work is bounded whatever the map's size: choosing candidates is one pass over the boxes in
 * rank order that stops after `maxCandidates` in view; placing tries at most
 * `positions × maxCandidates` rectangles.
 */

import { escapeHtml } from './text.js';

/** Candidates considered per placement, however many boxes are in view. */
export const MAX_CANDIDATES = 400;
/** Names drawn at most: beyond this a map is text, not a picture. */
export const MAX_LABELS = 60;
/** Screen pixels per name the plot area affords (a ceiling on the names drawn). */
export const PIXELS_PER_LABEL = 14000;
/** Gap between a box's centre dot and its name, in pixels. */
export const LABEL_GAP = 5;
/** Characters of a dataset's name drawn; the hover card and the panel show it whole. */
export const MAX_LABEL_CHARS = 36;
const GRID_CELL = 64;

/**
 * @typedef {object} LabelCandidate
 * @property {string} id - The dataset.
 * @property {string} text - What to draw (raw Hub text: the caller escapes it for Plotly).
 * @property {number} x - The anchor (the box centre) in screen pixels from the plot's left.
 * @property {number} y - The anchor in screen pixels from the plot's top (y grows down).
 * @property {number} width - The name's box in pixels, padding included.
 * @property {number} height - Its height in pixels, padding included.
 * @property {boolean} [forced] - Always named when any free position exists (the
 *   selection and its relatives); tried at more positions, and not counted in the cap.
 */

/**
 * @typedef {object} PlacedLabel
 * @property {string} id @property {string} text
 * @property {number} x0 @property {number} y0 @property {number} x1 @property {number} y1
 *   Its rectangle in screen pixels (y down).
 * @property {boolean} forced
 * @property {{x: number, y: number}|null} leader - The anchor, when the name sits away from
 *   it (a forced name pushed out of the first ring): a line then joins the two.
 */

/** Rings a forced name tries, as multiples of the gap; past the first, a line leads back. */
export const FORCED_RINGS = [1, 4, 8, 14];

/**
 * @typedef {{x0: number, y0: number, x1: number, y1: number}} Rect
 */

/**
 * Where a name may go around its anchor, best first: right of the dot, left, above, below,
 * then the four corners; forced names also try the same ring farther out (FORCED_RINGS),
 * so that the selection's relatives are named even where boxes crowd or coincide.
 * @param {LabelCandidate} c - The candidate.
 * @param {number} gap - Pixels between the anchor and the name.
 * @returns {Array<Rect & {ring: number}>} Candidate rectangles and the ring of each.
 */
export function positions(c, gap) {
  const { x, y, width: w, height: h } = c;
  /** @type {(g: number) => Rect[]} */
  /** @type {(g: number, ring: number) => Array<Rect & {ring: number}>} */
  const around = (g, ring) => [
    { x0: x + g, y0: y - h / 2, x1: x + g + w, y1: y + h / 2, ring },
    { x0: x - g - w, y0: y - h / 2, x1: x - g, y1: y + h / 2, ring },
    { x0: x - w / 2, y0: y - g - h, x1: x + w / 2, y1: y - g, ring },
    { x0: x - w / 2, y0: y + g, x1: x + w / 2, y1: y + g + h, ring },
    { x0: x + g, y0: y - g - h, x1: x + g + w, y1: y - g, ring },
    { x0: x - g - w, y0: y - g - h, x1: x - g, y1: y - g, ring },
    { x0: x + g, y0: y + g, x1: x + g + w, y1: y + g + h, ring },
    { x0: x - g - w, y0: y + g, x1: x - g, y1: y + g + h, ring },
  ];
  if (!c.forced) return around(gap, 0);
  return FORCED_RINGS.flatMap((m, ring) => around(gap * m, ring));
}

/**
 * Whether two rectangles overlap (touching edges do not).
 * @param {Rect} a - One.
 * @param {Rect} b - The other.
 * @returns {boolean} True when they share area.
 */
export function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/**
 * Place names greedily, in the candidates' order, without overlaps.
 * @param {LabelCandidate[]} candidates - In priority order (forced ones first).
 * @param {{width: number, height: number}} area - The plot area in pixels; names stay inside.
 * @param {{maxLabels?: number, maxCandidates?: number, gap?: number}} [opts] - Caps: names
 *   placed (forced ones not counted) and candidates looked at; the dot-to-name gap.
 * @returns {{labels: PlacedLabel[], tests: number}} The placed names in placement order, and
 *   how many rectangle-vs-rectangle tests it made (its work, which the tests bound).
 */
export function placeLabels(candidates, area, opts = {}) {
  const maxLabels = opts.maxLabels ?? MAX_LABELS;
  const maxCandidates = opts.maxCandidates ?? MAX_CANDIDATES;
  const gap = opts.gap ?? LABEL_GAP;
  const cols = Math.max(1, Math.ceil(area.width / GRID_CELL));
  const rows = Math.max(1, Math.ceil(area.height / GRID_CELL));
  /** @type {PlacedLabel[][]} */
  const grid = Array.from({ length: cols * rows }, () => []);
  /** @type {(v: number, n: number) => number} */
  const cell = (v, n) => Math.min(n - 1, Math.max(0, Math.floor(v / GRID_CELL)));
  /** @type {PlacedLabel[]} */
  const labels = [];
  let tests = 0;
  let optional = 0;
  /** @type {(r: Rect) => boolean} */
  const free = (r) => {
    for (let gy = cell(r.y0, rows); gy <= cell(r.y1, rows); gy += 1) {
      for (let gx = cell(r.x0, cols); gx <= cell(r.x1, cols); gx += 1) {
        for (const other of grid[gy * cols + gx]) {
          tests += 1;
          if (overlaps(r, other)) return false;
        }
      }
    }
    return true;
  };
  /** @type {(label: PlacedLabel) => void} */
  const keep = (label) => {
    labels.push(label);
    for (let gy = cell(label.y0, rows); gy <= cell(label.y1, rows); gy += 1) {
      for (let gx = cell(label.x0, cols); gx <= cell(label.x1, cols); gx += 1) grid[gy * cols + gx].push(label);
    }
  };
  const seen = new Set();
  let looked = 0;
  for (const c of candidates) {
    const forced = Boolean(c.forced);
    if (!forced && (optional >= maxLabels || looked >= maxCandidates)) break;
    if (!forced) looked += 1;
    if (seen.has(c.id) || !(c.width > 0 && c.height > 0)) continue;
    if (!Number.isFinite(c.x) || !Number.isFinite(c.y)) continue;
    seen.add(c.id);
    for (const { ring, ...r } of positions(c, gap)) {
      if (r.x0 < 0 || r.y0 < 0 || r.x1 > area.width || r.y1 > area.height) continue;
      if (!free(r)) continue;
      keep({ id: c.id, text: c.text, ...r, forced, leader: ring > 0 ? { x: c.x, y: c.y } : null });
      if (!forced) optional += 1;
      break;
    }
  }
  return { labels, tests };
}

/**
 * A dataset's name as drawn: the part after the owner, shortened.
 * @param {string} id - `owner/name` (or a bare name).
 * @returns {string} e.g. 'cifar10' for 'uoft-cs/cifar10'.
 */
export function shortName(id) {
  const slash = id.indexOf('/');
  const name = slash >= 0 ? id.slice(slash + 1) : id;
  return name.length <= MAX_LABEL_CHARS ? name : `${name.slice(0, MAX_LABEL_CHARS - 1)}…`;
}

/** Boxes in rank order (most downloaded first), per model: ranks do not change. */
const BY_RANK = new WeakMap();

/**
 * Box indices in rank order.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @returns {Int32Array} byRank[r] = the box of rank r.
 */
export function boxesByRank(model) {
  let order = BY_RANK.get(model);
  if (!order) {
    order = new Int32Array(model.n);
    for (let i = 0; i < model.n; i += 1) order[model.rank[i]] = i;
    BY_RANK.set(model, order);
  }
  return order;
}

/**
 * @typedef {object} LabelScene
 * @property {import('./boxes.js').Bounds} view - The axis ranges shown.
 * @property {{width: number, height: number}} area - The plot area in pixels.
 * @property {string[]} forced - Ids always named, in priority order (the selection first).
 * @property {Map<string, number>} ranks - Rank badges of highlighted relatives.
 * @property {(i: number) => boolean} eligible - Whether box i may be named beyond the forced
 *   ones (drawn, passing the filters).
 * @property {(text: string) => number} measure - A name's width in pixels.
 * @property {number} lineHeight - A name's height in pixels, padding included.
 * @property {number} padding - Horizontal padding on each side, in pixels.
 * @property {number} [maxCandidates] - See MAX_CANDIDATES.
 */

/**
 * The candidates of one view in priority order: the forced ids (with their rank badge as a
 * prefix), then eligible boxes whose centre is in view, most downloaded first, up to the cap.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {LabelScene} scene - The view and what to name.
 * @returns {LabelCandidate[]} Candidates for placeLabels.
 */
export function labelCandidates(model, scene) {
  const { view, area } = scene;
  const sx = area.width / (view.x1 - view.x0);
  const sy = area.height / (view.y1 - view.y0);
  if (!Number.isFinite(sx) || !Number.isFinite(sy) || sx <= 0 || sy <= 0) return [];
  /** @type {LabelCandidate[]} */
  const out = [];
  /** @type {(i: number, forced: boolean) => void} */
  const push = (i, forced) => {
    const x = ((model.x0[i] + model.x1[i]) / 2 - view.x0) * sx;
    const y = (view.y1 - (model.y0[i] + model.y1[i]) / 2) * sy;
    if (x < 0 || x > area.width || y < 0 || y > area.height) return;
    const id = model.ids[i];
    const rank = scene.ranks.get(id);
    const text = rank === undefined ? shortName(id) : `${rank}. ${shortName(id)}`;
    out.push({
      id,
      text,
      x,
      y,
      width: scene.measure(text) + 2 * scene.padding,
      height: scene.lineHeight,
      forced,
    });
  };
  const forcedSet = new Set();
  for (const id of scene.forced) {
    const i = model.indexById.get(id);
    if (i === undefined || forcedSet.has(id)) continue;
    forcedSet.add(id);
    push(i, true);
  }
  const cap = scene.maxCandidates ?? MAX_CANDIDATES;
  const order = boxesByRank(model);
  let taken = 0;
  for (let r = 0; r < order.length && taken < cap; r += 1) {
    const i = order[r];
    if (forcedSet.has(model.ids[i]) || !scene.eligible(i)) continue;
    const before = out.length;
    push(i, false);
    if (out.length > before) taken += 1;
  }
  return out;
}

/**
 * How many optional names a plot area affords.
 * @param {{width: number, height: number}} area - The plot area in pixels.
 * @returns {number} Between 0 and MAX_LABELS.
 */
export function labelBudget(area) {
  return Math.max(0, Math.min(MAX_LABELS, Math.floor((area.width * area.height) / PIXELS_PER_LABEL)));
}

/**
 * @typedef {object} LabelStyle
 * @property {string} color - Text and border colour.
 * @property {string} bgcolor - Background (mostly opaque, so the boxes behind stay readable).
 * @property {number} [borderwidth] - Border width in pixels (0: none).
 */

/**
 * Placed names as Plotly annotations: each pinned by its rectangle's top-left corner in data
 * coordinates, so it moves with the map until the next placement; a name pushed away from
 * its dot is pinned at the dot instead, its box offset in pixels with a thin line back (a
 * Plotly arrow without a head). Plotly parses annotation text as (a subset of) HTML, so the
 * name is escaped: a hostile id or label stays text.
 * @param {PlacedLabel[]} labels - From placeLabels.
 * @param {import('./boxes.js').Bounds} view - The axis ranges they were placed in.
 * @param {{width: number, height: number}} area - The plot area in pixels.
 * @param {(label: PlacedLabel) => LabelStyle} styleOf - Look of each name.
 * @param {{family: string, size: number, padding: number}} font - Family and size the names
 *   were measured with, and the padding they were given.
 * @returns {object[]} Plotly `layout.annotations`.
 */
export function labelAnnotations(labels, view, area, styleOf, font) {
  const ux = (view.x1 - view.x0) / area.width;
  const uy = (view.y1 - view.y0) / area.height;
  return labels.map((label) => {
    const style = styleOf(label);
    const border = style.borderwidth ?? 0;
    const { leader } = label;
    const pin = leader
      ? {
          x: view.x0 + leader.x * ux,
          y: view.y1 - leader.y * uy,
          xanchor: 'center',
          yanchor: 'middle',
          showarrow: true,
          arrowhead: 0,
          arrowwidth: 1,
          arrowcolor: style.color,
          axref: 'pixel',
          ayref: 'pixel',
          ax: (label.x0 + label.x1) / 2 - leader.x,
          ay: (label.y0 + label.y1) / 2 - leader.y,
          standoff: 2,
        }
      : {
          x: view.x0 + label.x0 * ux,
          y: view.y1 - label.y0 * uy,
          xanchor: 'left',
          yanchor: 'top',
          showarrow: false,
        };
    return {
      name: label.id,
      text: escapeHtml(label.text),
      xref: 'x',
      yref: 'y',
      ...pin,
      align: 'left',
      font: { family: font.family, size: font.size, color: style.color },
      bgcolor: style.bgcolor,
      bordercolor: style.color,
      borderwidth: border,
      // Plotly pads inside the border; the measured width already holds both.
      borderpad: Math.max(0, font.padding - border),
      captureevents: false,
    };
  });
}

// @ts-check
/**
 * The map's boxes as typed columns, plus the "which boxes to draw" rules. Pure; no DOM.
 *
 * Input is the API's compact column form (MapBoxesPublic): index-aligned arrays of ids,
 * lo/hi corners, sizes, classes, downloads and license indices. The page draws the first two
 * box dimensions.
 */

/** Fraction of the data extent added around it so edge boxes are not glued to the axes. */
export const VIEW_PADDING = 0.04;
/** Boxes ranked just past the zoom limit, up to this multiple of it, are drawn faintly. */
export const FADE_BAND = 1.6;
/** The license filter value that matches boxes with no license. */
export const UNKNOWN_LICENSE = '(none)';
/**
 * Zoomed in, only boxes that meet the view widened by this fraction of its size on each side
 * are drawn: the GPU's cost grows with every rectangle, on screen or not, and zooming in admits
 * more of them (see selectVisible). The margin keeps a short pan from showing empty edges;
 * the page redraws once the view leaves the drawn region.
 */
export const CULL_MARGIN = 0.25;
/** Never ask the GPU for more rectangles than this, however far the user zooms. */
export const MAX_DRAWN = 50000;

/**
 * @typedef {object} Bounds
 * @property {number} x0 @property {number} x1 @property {number} y0 @property {number} y1
 */

/**
 * @typedef {object} BoxModel
 * @property {import('./schemas.js').MapPublic} map - The map's metadata.
 * @property {number} n - Number of boxes.
 * @property {string[]} ids
 * @property {Float64Array} x0 @property {Float64Array} x1
 * @property {Float64Array} y0 @property {Float64Array} y1
 * @property {(number|null)[]} numLabels @property {(number|null)[]} numExamples
 * @property {number[]} downloads
 * @property {(string|null)[]} license - License name per box, or null.
 * @property {string[]} licenses - Distinct license names, most frequent first.
 * @property {boolean[]} measured
 * @property {Int32Array} rank - 0 for the most downloaded box.
 * @property {Map<string, number>} indexById
 * @property {Bounds} bounds - The padded extent of all boxes.
 */

/**
 * Turn the API's column payload into a model the plot can index quickly.
 * @param {import('./schemas.js').MapBoxesPublic} payload - The API's boxes of one map.
 * @returns {BoxModel} The model.
 * @throws {Error} When columns are missing, misaligned or not at least 2-D.
 */
export function buildModel(payload) {
  if (!payload || typeof payload !== 'object' || !Array.isArray(payload.ids)) {
    throw new Error('map boxes payload has no ids column');
  }
  const n = payload.ids.length;
  const columns = ['lo', 'hi', 'num_labels', 'num_examples', 'downloads', 'license', 'measured'];
  for (const name of columns) {
    const column = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (payload))[name];
    if (!Array.isArray(column) || column.length !== n) {
      throw new Error(`map boxes column '${name}' must hold ${n} entries`);
    }
  }
  const x0 = new Float64Array(n);
  const x1 = new Float64Array(n);
  const y0 = new Float64Array(n);
  const y1 = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const lo = payload.lo[i];
    const hi = payload.hi[i];
    if (!Array.isArray(lo) || !Array.isArray(hi) || lo.length < 2 || hi.length < 2) {
      throw new Error(`box ${i} (${payload.ids[i]}) has fewer than 2 dimensions`);
    }
    // Corners are ordered defensively: a swapped pair would draw an inside-out rectangle.
    x0[i] = Math.min(lo[0], hi[0]);
    x1[i] = Math.max(lo[0], hi[0]);
    y0[i] = Math.min(lo[1], hi[1]);
    y1[i] = Math.max(lo[1], hi[1]);
  }
  const names = Array.isArray(payload.licenses) ? payload.licenses : [];
  const license = payload.license.map((k) =>
    typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < names.length ? String(names[k]) : null,
  );
  const downloads = payload.downloads.map((d) => (Number.isFinite(d) ? d : 0));
  const ids = payload.ids.map(String);
  return {
    map: payload.map || /** @type {import('./schemas.js').MapPublic} */ ({}),
    n,
    ids,
    x0,
    x1,
    y0,
    y1,
    numLabels: payload.num_labels,
    numExamples: payload.num_examples,
    downloads,
    license,
    licenses: licensesByFrequency(license),
    measured: payload.measured.map(Boolean),
    rank: rankByDownloads(downloads, ids, payload.num_examples),
    indexById: new Map(ids.map((id, i) => [id, i])),
    bounds: extent(x0, x1, y0, y1),
  };
}

/**
 * Rank boxes by downloads, most first; ties broken by size, then by id so the order is
 * stable. Offline the built-in catalog has no counts (all 0), and "most downloaded first"
 * then means the largest datasets first rather than an alphabetical accident.
 * @param {number[]} downloads - Downloads per box.
 * @param {string[]} ids - Ids per box.
 * @param {Array<number|null>} [examples] - Examples per box (null: unknown, ranked last).
 * @returns {Int32Array} rank[i] = position of box i in that order.
 */
export function rankByDownloads(downloads, ids, examples = []) {
  const size = (/** @type {number} */ i) => {
    const value = examples[i];
    return typeof value === 'number' && Number.isFinite(value) ? value : -1;
  };
  const order = downloads.map((_, i) => i);
  order.sort(
    (a, b) =>
      downloads[b] - downloads[a] || size(b) - size(a) || (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0),
  );
  const rank = new Int32Array(downloads.length);
  order.forEach((boxIndex, position) => {
    rank[boxIndex] = position;
  });
  return rank;
}

/**
 * Distinct non-null license names, most frequent first (ties alphabetical).
 * @param {(string|null)[]} license - License per box.
 * @returns {string[]} The names.
 */
export function licensesByFrequency(license) {
  const counts = new Map();
  for (const name of license) {
    if (name !== null) counts.set(name, (counts.get(name) || 0) + 1);
  }
  return [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
}

/**
 * The padded extent of a set of boxes; a unit square around the origin when empty.
 * @param {Float64Array} x0 @param {Float64Array} x1 @param {Float64Array} y0 @param {Float64Array} y1
 * @returns {Bounds} The extent.
 */
export function extent(x0, x1, y0, y1) {
  if (x0.length === 0) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < x0.length; i += 1) {
    minX = Math.min(minX, x0[i]);
    maxX = Math.max(maxX, x1[i]);
    minY = Math.min(minY, y0[i]);
    maxY = Math.max(maxY, y1[i]);
  }
  const padX = Math.max(maxX - minX, 1e-9) * VIEW_PADDING;
  const padY = Math.max(maxY - minY, 1e-9) * VIEW_PADDING;
  return { x0: minX - padX, x1: maxX + padX, y0: minY - padY, y1: maxY + padY };
}

/**
 * How far the view is zoomed in: the full extent's area over the view's area (>= 1).
 * @param {Bounds} bounds - The full extent.
 * @param {Bounds|null} view - The current axis ranges, or null for the full extent.
 * @returns {number} The zoom factor.
 */
export function zoomFactor(bounds, view) {
  if (!view) return 1;
  const full = Math.abs((bounds.x1 - bounds.x0) * (bounds.y1 - bounds.y0));
  const seen = Math.abs((view.x1 - view.x0) * (view.y1 - view.y0));
  if (!(seen > 0) || !(full > 0)) return 1;
  return Math.max(1, full / seen);
}

/**
 * Which boxes to draw. The `topN` most downloaded are drawn at full view; zooming in by a
 * factor z admits the top `topN·z`, which keeps the number of boxes *on screen* near `topN`
 * when datasets are spread evenly. The next band of ranks is returned separately so the
 * plot can draw it faintly: boxes fade in before they fully appear.
 * @param {Int32Array} rank - Rank per box (0 = most downloaded).
 * @param {number} topN - Boxes to show at full view (>= 1).
 * @param {number} zoom - The zoom factor (>= 1).
 * @returns {{shown: number[], fading: number[], limit: number}} Box indices, in rank order.
 */
export function selectVisible(rank, topN, zoom) {
  const n = rank.length;
  const limit = Math.min(n, MAX_DRAWN, Math.ceil(Math.max(1, topN) * Math.max(1, zoom)));
  const fadeLimit = Math.min(n, MAX_DRAWN, Math.ceil(limit * FADE_BAND));
  const byRank = new Int32Array(n);
  for (let i = 0; i < n; i += 1) byRank[rank[i]] = i;
  return {
    shown: Array.from(byRank.subarray(0, limit)),
    fading: Array.from(byRank.subarray(limit, fadeLimit)),
    limit,
  };
}

/**
 * The view widened by a fraction of its width and height on each side (corners ordered).
 * @param {Bounds} view - Axis ranges.
 * @param {number} margin - Fraction of the view's size added on each side (>= 0).
 * @returns {Bounds} The widened region.
 */
export function expandView(view, margin) {
  const x0 = Math.min(view.x0, view.x1);
  const x1 = Math.max(view.x0, view.x1);
  const y0 = Math.min(view.y0, view.y1);
  const y1 = Math.max(view.y0, view.y1);
  const dx = (x1 - x0) * margin;
  const dy = (y1 - y0) * margin;
  return { x0: x0 - dx, x1: x1 + dx, y0: y0 - dy, y1: y1 + dy };
}

/**
 * Whether a view lies inside a region (both as axis ranges; corners may be in either order).
 * @param {Bounds} region - The outer ranges.
 * @param {Bounds} view - The inner ranges.
 * @returns {boolean} True when every edge of the view is within the region.
 */
export function regionContains(region, view) {
  const r = expandView(region, 0);
  const v = expandView(view, 0);
  return v.x0 >= r.x0 && v.x1 <= r.x1 && v.y0 >= r.y0 && v.y1 <= r.y1;
}

/**
 * The boxes that meet a region (touching counts), in their given order.
 * @param {BoxModel} model - The boxes.
 * @param {number[]} indices - Candidate box indices.
 * @param {Bounds} region - Ordered ranges (see expandView).
 * @returns {number[]} The indices whose box overlaps the region.
 */
export function boxesInRegion(model, indices, region) {
  const { x0, x1, y0, y1 } = model;
  return indices.filter(
    (i) => x1[i] >= region.x0 && x0[i] <= region.x1 && y1[i] >= region.y0 && y0[i] <= region.y1,
  );
}

/**
 * Whether box i passes the filters. Unknown values fail a bound that is set.
 * @param {BoxModel} model - The boxes.
 * @param {number} i - A box index.
 * @param {{license: string|null, minClasses: number|null, maxClasses: number|null,
 *   minExamples: number|null}} filters - The active filters; null means "any".
 * @returns {boolean} True when the box passes every set filter.
 */
export function passesFilters(model, i, filters) {
  if (filters.license !== null && filters.license !== undefined) {
    const want = filters.license === UNKNOWN_LICENSE ? null : filters.license;
    if (model.license[i] !== want) return false;
  }
  // The comparisons are JavaScript's own on a possible null, as they always were.
  const classes = /** @type {number} */ (model.numLabels[i]);
  if (filters.minClasses !== null && filters.minClasses !== undefined && !(classes >= filters.minClasses))
    return false;
  if (filters.maxClasses !== null && filters.maxClasses !== undefined && !(classes <= filters.maxClasses))
    return false;
  const size = /** @type {number} */ (model.numExamples[i]);
  if (filters.minExamples !== null && filters.minExamples !== undefined && !(size >= filters.minExamples))
    return false;
  return true;
}

/**
 * The axis ranges that frame one box with room around it (for "zoom to this dataset").
 * @param {BoxModel} model - The boxes.
 * @param {number} i - A box index.
 * @param {number} [margin=1.5] - How many box-sizes of room to leave on each side.
 * @returns {Bounds} The ranges.
 */
export function frameBox(model, i, margin = 1.5) {
  return frameCorners(model, { lo: [model.x0[i], model.y0[i]], hi: [model.x1[i], model.y1[i]] }, margin);
}

/**
 * The axis ranges that frame a box given by its corners (a placed box, say).
 * @param {BoxModel} model - The map (its extent bounds the minimum frame).
 * @param {{lo: number[], hi: number[]}} box - Corners; the first two dimensions are used.
 * @param {number} [margin=1.5] - How many box-sizes of room to leave on each side.
 * @returns {Bounds} The ranges.
 */
export function frameCorners(model, box, margin = 1.5) {
  const [x0, y0] = box.lo;
  const [x1, y1] = box.hi;
  const w = Math.abs(x1 - x0);
  const h = Math.abs(y1 - y0);
  // A box far smaller than the map would zoom in absurdly: floor the frame at 2% of the map.
  const minW = (model.bounds.x1 - model.bounds.x0) * 0.02;
  const minH = (model.bounds.y1 - model.bounds.y0) * 0.02;
  const padX = Math.max(w * margin, minW);
  const padY = Math.max(h * margin, minH);
  return {
    x0: Math.min(x0, x1) - padX,
    x1: Math.max(x0, x1) + padX,
    y0: Math.min(y0, y1) - padY,
    y1: Math.max(y0, y1) + padY,
  };
}

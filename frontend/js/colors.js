// @ts-check
/**
 * Colour groups for the boxes (by license, size or number of classes) and the colours of
 * the selection roles. Pure; no DOM.
 *
 * Each group becomes one Plotly fill trace, so its legend entry names the group.
 */

/** Okabe–Ito based palette: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#8C6D31',
  '#7F3C8D',
];
export const OTHER_COLOR = '#8a8f98';
export const UNKNOWN_COLOR = '#b9bec7';
export const GREY = '#a3a8b0';
/** Sequential blues (light → dark) for the size bins. */
export const SEQUENTIAL = ['#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c', '#08306b'];
/**
 * Yellow-orange-browns (light → dark) for the class-count bins: warm where size is cool, so
 * switching the colouring between the two visibly changes the map, and still ordered by
 * lightness for colour-vision deficiencies.
 */
export const SEQUENTIAL_CLASSES = ['#fee391', '#fec44f', '#fe9929', '#ec7014', '#cc4c02', '#8c2d04'];
export const MAX_LICENSE_GROUPS = 7;
/** Upper bound on groups in any mode (licenses + other + none); plot.js keeps this many traces. */
export const MAX_GROUPS = 10;
export const COLOR_MODES = ['license', 'size', 'classes'];

/**
 * Selection roles, drawn above everything else, in this priority order. Containers are
 * large and nest, so their fill is light: ten stacked would otherwise hide what is inside.
 */
/** @type {Record<string, {label: string, color: string, fill: number, width: number}>} */
export const ROLE_STYLES = {
  selected: { label: 'Selected dataset', color: '#111827', fill: 0.06, width: 2.5 },
  container: { label: 'Contains the selected', color: '#D55E00', fill: 0.07, width: 1.6 },
  contained: { label: 'Inside the selected', color: '#009E73', fill: 0.3, width: 1.6 },
  source: { label: 'Top transfer sources', color: '#7F3C8D', fill: 0.14, width: 1.6 },
};
export const ROLE_ORDER = ['selected', 'container', 'contained', 'source'];

/** @type {Bins} */
const SIZE_BINS = [
  [1_000, '< 1k examples'],
  [10_000, '1k–10k examples'],
  [100_000, '10k–100k examples'],
  [1_000_000, '100k–1M examples'],
  [Infinity, '≥ 1M examples'],
];
/** @type {Bins} */
const CLASS_BINS = [
  [10, '≤ 10 classes'],
  [100, '11–100 classes'],
  [1_000, '101–1,000 classes'],
  [Infinity, '> 1,000 classes'],
];

/**
 * @typedef {object} ColorGroup
 * @property {string} key - Stable key.
 * @property {string} label - Legend text (may hold Hub text: escape before Plotly).
 * @property {string} color - CSS hex colour.
 */

/** @typedef {Array<[number, string]>} Bins - Upper bounds and their labels. */

/**
 * Split boxes into colour groups.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {string} mode - One of COLOR_MODES.
 * @returns {{groups: ColorGroup[], groupOf: Int32Array}} groupOf[i] indexes `groups`.
 * @throws {Error} For an unknown mode.
 */
export function colorGroups(model, mode) {
  if (mode === 'license') return licenseGroups(model);
  if (mode === 'size') return binnedGroups(model.numExamples, SIZE_BINS, 'Size unknown', SEQUENTIAL);
  if (mode === 'classes')
    return binnedGroups(model.numLabels, CLASS_BINS, 'Classes unknown', SEQUENTIAL_CLASSES);
  throw new Error(`unknown colour mode '${mode}'; expected one of ${COLOR_MODES.join(', ')}`);
}

/**
 * One group per frequent license, then "other" and "no license".
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @returns {{groups: ColorGroup[], groupOf: Int32Array}} The groups.
 */
function licenseGroups(model) {
  const top = model.licenses.slice(0, MAX_LICENSE_GROUPS);
  const groups = top.map((name, k) => ({
    key: `license:${name}`,
    label: name,
    color: PALETTE[k % PALETTE.length],
  }));
  const other = groups.length;
  groups.push({ key: 'license:other', label: 'Other licenses', color: OTHER_COLOR });
  const unknown = groups.length;
  groups.push({ key: 'license:none', label: 'No license given', color: UNKNOWN_COLOR });
  const position = new Map(top.map((name, k) => [name, k]));
  const groupOf = new Int32Array(model.n);
  for (let i = 0; i < model.n; i += 1) {
    const name = model.license[i];
    groupOf[i] = name === null ? unknown : (position.get(name) ?? other);
  }
  return { groups, groupOf };
}

/**
 * Ordered bins of a numeric column, coloured light to dark, plus an "unknown" group.
 * @param {(number|null)[]} values - The column.
 * @param {Array<[number, string]>} bins - Upper bounds (exclusive, except the last) and labels.
 * @param {string} unknownLabel - Legend text for missing values.
 * @param {string[]} palette - Light to dark; the lightest step is skipped (too pale on white).
 * @returns {{groups: ColorGroup[], groupOf: Int32Array}} The groups.
 */
function binnedGroups(values, bins, unknownLabel, palette) {
  const groups = bins.map(([, label], k) => ({
    key: label,
    label,
    color: palette[Math.min(palette.length - 1, k + 1)],
  }));
  const unknown = groups.length;
  groups.push({ key: 'unknown', label: unknownLabel, color: UNKNOWN_COLOR });
  const groupOf = new Int32Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i];
    groupOf[i] = typeof v === 'number' && Number.isFinite(v) ? binIndex(v, bins) : unknown;
  }
  return { groups, groupOf };
}

/**
 * The bin a value falls in. Class bins use inclusive upper bounds ("≤ 10 classes").
 * @param {number} v - The value.
 * @param {Array<[number, string]>} bins - The bins.
 * @returns {number} The bin index.
 */
function binIndex(v, bins) {
  const inclusive = bins === CLASS_BINS;
  for (let k = 0; k < bins.length; k += 1) {
    if (inclusive ? v <= bins[k][0] : v < bins[k][0]) return k;
  }
  return bins.length - 1;
}

/**
 * An `rgba()` string from a hex colour and an opacity.
 * @param {string} hex - `#rrggbb`.
 * @param {number} alpha - Opacity in [0, 1].
 * @returns {string} The CSS colour.
 */
export function withAlpha(hex, alpha) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`expected #rrggbb, got ${hex}`);
  const v = parseInt(m[1], 16);
  return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${alpha})`;
}

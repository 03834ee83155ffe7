// @ts-check
/**
 * The page's shareable state and its URL query-string form. encode/decode are pure; the two
 * small functions at the end touch `window.location`/`history`.
 *
 * `?dataset=owner/name` opens the page with that dataset selected. Anything malformed in a
 * URL (someone else's link is untrusted input) falls back to the default, never throws.
 */

import { isDatasetId } from './ids.js';
import { COLOR_MODES } from './colors.js';

export const RELATIONS = ['containment', 'transfer'];
export const DEFAULT_TOP = 500;
export const MIN_TOP = 10;
export const MAX_TOP = 20000;
export const MAX_LICENSE_CHARS = 100;
/** Map ids are positive integers in the API; the URL carries them as text. */
export const MAP_ID_PATTERN = /^[1-9][0-9]{0,17}$/;
const MAX_COUNT = 1e12;
const VIEW_DIGITS = 6;

/**
 * @typedef {object} PageState
 * @property {string|null} dataset - Selected dataset id.
 * @property {string} relation - 'containment' or 'transfer'.
 * @property {string|null} map - Drawn map id (as text); null = the relation's published map.
 * @property {import('./boxes.js').Bounds|null} view - Axis ranges; null = whole map.
 * @property {string|null} license @property {number|null} minClasses
 * @property {number|null} maxClasses @property {number|null} minExamples
 * @property {number} top - Boxes shown at full view.
 * @property {string} color - Colour mode (see COLOR_MODES).
 */

/**
 * The state of a fresh page.
 * @returns {PageState} Defaults.
 */
export function defaultState() {
  return {
    dataset: null,
    relation: 'containment',
    map: null,
    view: null,
    license: null,
    minClasses: null,
    maxClasses: null,
    minExamples: null,
    top: DEFAULT_TOP,
    color: 'license',
  };
}

/**
 * A non-negative integer from text, or null when absent or malformed.
 * @param {string|null} text - The raw parameter.
 * @returns {number|null} The value.
 */
function parseCount(text) {
  if (text === null || !/^\d{1,13}$/.test(text)) return null;
  const n = Number(text);
  return n <= MAX_COUNT ? n : null;
}

/**
 * Axis ranges from `x0,x1,y0,y1`, or null when malformed or empty.
 * @param {string|null} text - The raw parameter.
 * @returns {import('./boxes.js').Bounds|null} The view.
 */
function parseView(text) {
  if (text === null) return null;
  const parts = text.split(',');
  if (parts.length !== 4) return null;
  const v = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (!v.every(Number.isFinite) || !(v[1] > v[0]) || !(v[3] > v[2])) return null;
  return { x0: v[0], x1: v[1], y0: v[2], y1: v[3] };
}

/**
 * Read page state from a query string.
 * @param {string} search - `location.search`, with or without the leading '?'.
 * @returns {PageState} The state; invalid parameters fall back to defaults.
 */
export function decodeState(search) {
  const params = new URLSearchParams(search);
  const state = defaultState();
  const dataset = params.get('dataset');
  if (dataset !== null && isDatasetId(dataset)) state.dataset = dataset;
  const relation = params.get('relation');
  if (relation !== null && RELATIONS.includes(relation)) state.relation = relation;
  const map = params.get('map');
  if (map !== null && MAP_ID_PATTERN.test(map)) state.map = map;
  state.view = parseView(params.get('view'));
  const license = params.get('license');
  if (license !== null && license.length > 0 && license.length <= MAX_LICENSE_CHARS) state.license = license;
  state.minClasses = parseCount(params.get('min_classes'));
  state.maxClasses = parseCount(params.get('max_classes'));
  state.minExamples = parseCount(params.get('min_examples'));
  const top = parseCount(params.get('top'));
  if (top !== null) state.top = Math.min(MAX_TOP, Math.max(MIN_TOP, top));
  const color = params.get('color');
  if (color !== null && COLOR_MODES.includes(color)) state.color = color;
  return state;
}

/**
 * Format a view coordinate compactly without losing what the eye can see.
 * @param {number} v - A coordinate.
 * @returns {string} Its text.
 */
function formatCoord(v) {
  return String(Number(v.toPrecision(VIEW_DIGITS)));
}

/**
 * Write page state as a query string; defaults are left out so links stay short.
 * @param {PageState} state - The state.
 * @returns {string} The query string without '?', parameters in a fixed order.
 */
export function encodeState(state) {
  const base = defaultState();
  const params = new URLSearchParams();
  if (state.dataset) params.set('dataset', state.dataset);
  if (state.relation !== base.relation) params.set('relation', state.relation);
  if (state.map) params.set('map', state.map);
  if (state.view) {
    const { x0, x1, y0, y1 } = state.view;
    params.set('view', [x0, x1, y0, y1].map(formatCoord).join(','));
  }
  if (state.license) params.set('license', state.license);
  if (state.minClasses !== null) params.set('min_classes', String(state.minClasses));
  if (state.maxClasses !== null) params.set('max_classes', String(state.maxClasses));
  if (state.minExamples !== null) params.set('min_examples', String(state.minExamples));
  if (state.top !== base.top) params.set('top', String(state.top));
  if (state.color !== base.color) params.set('color', state.color);
  // Slashes and commas read better unescaped and are legal in a query string.
  return params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',');
}

/**
 * The state in the browser's current URL.
 * @returns {PageState} The decoded state.
 */
export function readLocation() {
  return decodeState(window.location.search);
}

/**
 * Put the state in the URL without reloading.
 * @param {PageState} state - The state.
 * @param {boolean} push - True to add a history entry (a new selection), false to replace.
 */
export function writeLocation(state, push) {
  const query = encodeState(state);
  const url = `${window.location.pathname}${query ? `?${query}` : ''}${window.location.hash}`;
  if (url === `${window.location.pathname}${window.location.search}${window.location.hash}`) return;
  if (push) window.history.pushState(null, '', url);
  else window.history.replaceState(null, '', url);
}

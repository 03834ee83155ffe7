// @ts-check
/**
 * The page's state and its one writer, the store; and the URL query-string form of the
 * shareable part. encode/decode are pure.
 *
 * Every change goes through `store.set`, which also writes the URL (location and history),
 * so no other module touches either: they read `store.get()` and subscribe to changes.
 *
 * `?dataset=owner/name` opens the page with that dataset selected; `?place=` a pasted label
 * list (one label a line), placed again on load; `?lasso=a/b,c/d` a lasso's datasets. Anything
 * malformed in a URL (someone else's link is untrusted input) falls back to the default,
 * never throws.
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
// A link must stay usable (browsers and servers cap URLs near 8 KB): a longer label list or
// lasso is shown but not written to the URL.
export const MAX_URL_PLACE_LABELS = 100;
export const MAX_URL_PLACE_CHARS = 2000;
export const MAX_URL_LASSO = 200;
const MAX_LABEL_CHARS = 200; // the API's bound on one label
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
 * @property {boolean} onlyRelated - While a dataset is selected, fade every unrelated box
 *   to near invisible (`only=related`).
 * @property {string[]|null} place - A placed label list (null: none, or too long to link).
 * @property {string[]|null} lasso - Dataset ids caught by a lasso (null: none, or too many).
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
    onlyRelated: false,
    place: null,
    lasso: null,
  };
}

/**
 * A label list a URL may carry, or null when it is empty or over the URL's bounds.
 * @param {string[]|null} labels - Labels, in the order pasted.
 * @returns {string[]|null} The same labels, or null.
 */
export function linkablePlace(labels) {
  if (!labels || labels.length === 0 || labels.length > MAX_URL_PLACE_LABELS) return null;
  if (labels.some((l) => !l || l !== l.trim() || l.length > MAX_LABEL_CHARS || /[\r\n]/.test(l))) return null;
  return labels.join('\n').length <= MAX_URL_PLACE_CHARS ? [...labels] : null;
}

/**
 * Lasso ids a URL may carry, or null when empty, malformed or too many.
 * @param {string[]|null} ids - Dataset ids.
 * @returns {string[]|null} The same ids, or null.
 */
export function linkableLasso(ids) {
  if (!ids || ids.length === 0 || ids.length > MAX_URL_LASSO) return null;
  return ids.every((id) => isDatasetId(id)) ? [...ids] : null;
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
  state.onlyRelated = params.get('only') === 'related';
  const place = params.get('place');
  if (place !== null) state.place = linkablePlace(place.split('\n').filter((l) => l.trim() !== ''));
  const lasso = params.get('lasso');
  if (lasso !== null) state.lasso = linkableLasso(lasso.split(','));
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
  if (state.onlyRelated) params.set('only', 'related');
  const place = linkablePlace(state.place);
  if (place) params.set('place', place.join('\n'));
  const lasso = linkableLasso(state.lasso);
  if (lasso) params.set('lasso', lasso.join(','));
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
 * Where the store keeps the URL: the browser's location and history, or a stand-in in tests.
 * @typedef {object} UrlSink
 * @property {() => string} read - The current query string (`location.search`).
 * @property {(query: string, push: boolean) => void} write - Show this query string (without
 *   '?'), adding a history entry when `push`.
 */

/**
 * The browser's URL, written without reloading; the path and hash are kept.
 * @returns {UrlSink} The sink.
 */
export function browserUrl() {
  return {
    read: () => window.location.search,
    write: (query, push) => {
      const { pathname, hash } = window.location;
      const url = `${pathname}${query ? `?${query}` : ''}${hash}`;
      if (push) window.history.pushState(null, '', url);
      else window.history.replaceState(null, '', url);
    },
  };
}

/**
 * What the page holds: the shareable state (in the URL) and what it loaded for it.
 * @typedef {object} Page
 * @property {Readonly<PageState>} state - What a link carries.
 * @property {import('./schemas.js').MapPublic[]} maps - The API's maps.
 * @property {import('./boxes.js').BoxModel|null} model - The drawn map's boxes.
 * @property {(import('./selection.js').Selection & {id: string})|null} selection - The
 *   loaded selection (it may lag `state.dataset` while the next one loads).
 * @property {Placed|null} placed - A pasted label set's predicted box and its related lists.
 * @property {LabelPoints|null} labelPoints - The selected dataset's classes on a label-set map.
 */

/**
 * @typedef {object} Placed
 * @property {import('./schemas.js').PlacePublic} result - The API's answer.
 * @property {string[]} labels - The labels sent.
 * @property {Map<string, string>} roles - Dataset id → map highlight.
 * @property {Map<string, number>} ranks - Highlighted dataset id → its rank badge.
 * @property {{lo: number[], hi: number[]}|null} box - Its box in the drawn map, if predicted there.
 * @property {number|null} mapId - The map drawn when it was placed.
 */

/**
 * @typedef {object} LabelPoints
 * @property {number} mapId - The label-set map.
 * @property {string} id - The dataset.
 * @property {string[]} labels - Class names (Hub text).
 * @property {number[][]} points - One point per class.
 */

/**
 * A change: the page fields to replace, and `state` fields to merge.
 * @typedef {Partial<Omit<Page, 'state'>> & {state?: Partial<PageState>}} PagePatch
 */

/**
 * @typedef {(page: Readonly<Page>, previous: Readonly<Page>) => void} Listener
 */

/**
 * @typedef {object} Store
 * @property {() => Readonly<Page>} get - The current page (frozen: change it with `set`).
 * @property {(patch: PagePatch, opts?: {push?: boolean}) => void} set - Apply a change,
 *   write the URL when its query string changed (a new history entry when `push`), then
 *   notify the subscribers once.
 * @property {(listener: Listener) => () => void} subscribe - Call `listener` after every
 *   change; returns the unsubscribe function.
 */

/**
 * A fresh page for a state: nothing loaded yet.
 * @param {PageState} state - The shareable state.
 * @returns {Page} The page.
 */
export function initialPage(state) {
  return { state, maps: [], model: null, selection: null, placed: null, labelPoints: null };
}

/**
 * The page's store: the only writer of the page and of the URL.
 * @param {Page} page - The starting page (its state is taken as already in the URL).
 * @param {UrlSink} [url] - Where the state's query string goes; the browser's by default.
 * @returns {Store} The store.
 */
export function createStore(page, url = browserUrl()) {
  /** @type {Readonly<Page>} */
  let current = Object.freeze({ ...page, state: Object.freeze({ ...page.state }) });
  /** @type {Set<Listener>} */
  const listeners = new Set();
  return {
    get: () => current,
    set: (patch, opts = {}) => {
      const previous = current;
      const state = patch.state ? Object.freeze({ ...previous.state, ...patch.state }) : previous.state;
      current = Object.freeze({ ...previous, ...patch, state });
      const query = encodeState(state);
      // Compared with the URL itself, not the previous state: a link's non-canonical query
      // is rewritten once, and writing an unchanged query would add a dead history entry.
      if (query !== url.read().replace(/^\?/, '')) url.write(query, Boolean(opts.push));
      for (const listener of [...listeners]) listener(current, previous);
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

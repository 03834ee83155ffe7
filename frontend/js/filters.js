// @ts-check
/**
 * Filter and display controls: license, number of classes, size, how many boxes, colour.
 *
 * Expected DOM: select#filter-license, input#filter-min-classes, input#filter-max-classes,
 * select#filter-min-examples, input#top-n (range) with output#top-n-value, select#color-by,
 * button#filters-reset. Filtering happens in the page (boxes.passesFilters), so filtered-out
 * boxes can stay faintly visible.
 */

import { byId, clear, el } from './dom.js';
import { UNKNOWN_LICENSE } from './boxes.js';
import { DEFAULT_TOP, MAX_TOP, MIN_TOP } from './state.js';

export const INPUT_DEBOUNCE_MS = 250;

/**
 * A non-negative integer from an input's text, or null when empty or malformed.
 * @param {string} text - The input value.
 * @returns {number|null} The bound.
 */
export function parseBound(text) {
  const trimmed = String(text).trim();
  if (!/^\d{1,12}$/.test(trimmed)) return null;
  return Number(trimmed);
}

/**
 * The slider's step for a map of n boxes: fine on a small atlas, where every dataset counts.
 * @param {number} n - Number of boxes.
 * @returns {number} 1, 10, 100 or 1000.
 */
export function sliderStep(n) {
  return n <= 100 ? 1 : n <= 1000 ? 10 : n <= 10000 ? 100 : 1000;
}

/**
 * The slider's upper end for a map of n boxes: the atlas size, rounded up to a step.
 * @param {number} n - Number of boxes.
 * @returns {number} The slider max, within [MIN_TOP, MAX_TOP].
 */
export function sliderMax(n) {
  const step = sliderStep(n);
  return Math.min(MAX_TOP, Math.max(MIN_TOP, Math.ceil(n / step) * step));
}

/**
 * Wire the controls; `onChange` receives a partial state whenever one changes.
 * @param {(patch: Partial<import('./state.js').PageState>) => void} onChange - Listener.
 */
export function bindFilters(onChange) {
  const license = /** @type {HTMLSelectElement} */ (byId('filter-license'));
  const minClasses = /** @type {HTMLInputElement} */ (byId('filter-min-classes'));
  const maxClasses = /** @type {HTMLInputElement} */ (byId('filter-max-classes'));
  const minExamples = /** @type {HTMLSelectElement} */ (byId('filter-min-examples'));
  const top = /** @type {HTMLInputElement} */ (byId('top-n'));
  const color = /** @type {HTMLSelectElement} */ (byId('color-by'));
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  /** @param {() => void} fn - Runs once the input has been still. */
  const later = (fn) => {
    clearTimeout(timer);
    timer = setTimeout(fn, INPUT_DEBOUNCE_MS);
  };
  license.addEventListener('change', () => onChange({ license: license.value || null }));
  const classes = () =>
    onChange({ minClasses: parseBound(minClasses.value), maxClasses: parseBound(maxClasses.value) });
  minClasses.addEventListener('input', () => later(classes));
  maxClasses.addEventListener('input', () => later(classes));
  minExamples.addEventListener('change', () => onChange({ minExamples: parseBound(minExamples.value) }));
  top.addEventListener('input', () => {
    byId('top-n-value').textContent = Number(top.value).toLocaleString('en-US');
    later(() => onChange({ top: Number(top.value) }));
  });
  color.addEventListener('change', () => onChange({ color: color.value }));
  byId('filters-reset').addEventListener('click', () =>
    onChange({ license: null, minClasses: null, maxClasses: null, minExamples: null, top: DEFAULT_TOP }),
  );
}

/**
 * Show the state in the controls and offer the map's licenses.
 * @param {import('./state.js').PageState} state - Current state.
 * @param {import('./boxes.js').BoxModel|null} model - The drawn map, if any.
 */
export function syncFilters(state, model) {
  const license = /** @type {HTMLSelectElement} */ (byId('filter-license'));
  const names = model ? model.licenses : [];
  clear(license);
  license.append(el('option', { text: 'Any license', attrs: { value: '' } }));
  for (const name of names) license.append(el('option', { text: name, attrs: { value: name } }));
  license.append(el('option', { text: 'No license given', attrs: { value: UNKNOWN_LICENSE } }));
  if (state.license && state.license !== UNKNOWN_LICENSE && !names.includes(state.license)) {
    license.append(el('option', { text: state.license, attrs: { value: state.license } }));
  }
  license.value = state.license || '';
  /** @type {HTMLInputElement} */ (byId('filter-min-classes')).value =
    state.minClasses === null ? '' : String(state.minClasses);
  /** @type {HTMLInputElement} */ (byId('filter-max-classes')).value =
    state.maxClasses === null ? '' : String(state.maxClasses);
  const minExamples = /** @type {HTMLSelectElement} */ (byId('filter-min-examples'));
  minExamples.value = state.minExamples === null ? '' : String(state.minExamples);
  if (state.minExamples !== null && minExamples.value !== String(state.minExamples)) {
    minExamples.append(
      el('option', {
        text: `≥ ${state.minExamples.toLocaleString('en-US')}`,
        attrs: { value: String(state.minExamples) },
      }),
    );
    minExamples.value = String(state.minExamples);
  }
  const top = /** @type {HTMLInputElement} */ (byId('top-n'));
  // The slider spans the atlas (41 datasets: 10–41, not 10–5000); before a map loads, the
  // URL's value.
  const span = model ? model.n : state.top;
  top.step = String(sliderStep(span));
  top.max = String(sliderMax(span));
  top.value = String(Math.min(state.top, Number(top.max)));
  const n = model ? model.n : Infinity;
  byId('top-n-value').textContent =
    state.top >= n ? `all ${n.toLocaleString('en-US')}` : state.top.toLocaleString('en-US');
  /** @type {HTMLSelectElement} */ (byId('color-by')).value = state.color;
}

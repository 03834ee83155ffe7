// @ts-check
/**
 * Search with suggestions as you type: an ARIA combobox over `GET /api/datasets`, by name
 * (`q=`) and by class name (`label=`) at once. Name hits come first; a class hit says which
 * of its classes matched.
 *
 * Expected DOM: input#search-input and ul#search-list (role=listbox). Arrow keys move
 * through suggestions, Enter chooses, Escape closes. Superseded requests are cancelled.
 */

import { isAborted, latestOnly, searchDatasets } from './api.js';
import { byId, clear, el } from './dom.js';
import { formatCount } from './text.js';

export const DEBOUNCE_MS = 180;
export const MIN_QUERY_CHARS = 1;
export const MAX_QUERY_CHARS = 100;
export const SEARCH_SHOWN = 16;

/**
 * Delay calls to `fn` until `ms` have passed without another call.
 * @param {(...args: any[]) => void} fn - The function.
 * @param {number} ms - Quiet period.
 * @returns {((...args: any[]) => void) & {cancel: () => void}} The debounced function.
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  /** @param {...any} args - Passed on to `fn`. */
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * One suggestion list from the two searches: datasets found by name, then those found only
 * by a class name (each with its matching classes). A dataset found both ways is listed
 * once, as a name hit that also shows its matching classes.
 * @template {{id: string, matched_labels?: string[]}} T
 * @param {{total: number, items: T[]}} byName - DatasetsPublic of `q=`.
 * @param {{total: number, items: T[]}} byClass - DatasetsPublic of `label=`.
 * @param {number} limit - Most suggestions shown.
 * @returns {{total: number, items: Array<T & {matched_labels: string[]}>}} Suggestions and how many exist in all
 *   (an upper bound when a dataset matched both ways beyond the listed ones).
 */
export function mergeSearchResults(byName, byClass, limit) {
  const matched = new Map(byClass.items.map((item) => [item.id, item.matched_labels || []]));
  const seen = new Set();
  /** @type {Array<T & {matched_labels: string[]}>} */
  const items = [];
  for (const item of [...byName.items, ...byClass.items]) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    items.push({ ...item, matched_labels: matched.get(item.id) || [] });
  }
  const overlap = byName.items.filter((item) => matched.has(item.id)).length;
  return { total: byName.total + byClass.total - overlap, items: items.slice(0, limit) };
}

/**
 * Wire the search box.
 * @param {(id: string) => void} onChoose - Called with the chosen dataset id.
 * @returns {{clear: () => void}} Control for the caller.
 */
export function bindSearch(onChoose) {
  const input = /** @type {HTMLInputElement} */ (byId('search-input'));
  const list = byId('search-list');
  /** @typedef {import('./schemas.js').DatasetSummary & {matched_labels: string[]}} Suggestion */
  /** @type {Suggestion[]} */
  let items = [];
  let active = -1;
  const searches = latestOnly();

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  /** @param {number} k - The option to mark active, or -1 for none. */
  const highlight = (k) => {
    active = k;
    list
      .querySelectorAll('[role="option"]')
      .forEach((node, j) => node.setAttribute('aria-selected', String(j === k)));
    if (k >= 0) {
      input.setAttribute('aria-activedescendant', `search-option-${k}`);
      list.children[k].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  /** @param {number} k - The option chosen. */
  const choose = (k) => {
    const item = items[k];
    if (!item) return;
    input.value = item.id;
    close();
    onChoose(item.id);
  };
  /**
   * @param {{total: number, items: Suggestion[]}} result - Merged suggestions.
   * @param {string} query - What was typed.
   */
  const show = (result, query) => {
    items = result.items;
    clear(list);
    if (items.length === 0) {
      list.append(
        el('li', {
          className: 'search-empty',
          text: `No dataset matches “${query}”.`,
          attrs: { role: 'presentation' },
        }),
      );
    }
    items.forEach((item, k) => {
      const option = el(
        'li',
        { attrs: { role: 'option', id: `search-option-${k}`, 'aria-selected': 'false' } },
        [
          el('span', { className: 'opt-id', text: item.id }),
          el('span', {
            className: 'opt-meta',
            text: `${item.num_labels} classes · ${formatCount(item.downloads)} downloads`,
          }),
          item.matched_labels && item.matched_labels.length
            ? el('span', {
                className: 'opt-match',
                text: `Class: ${item.matched_labels.join(', ')}`,
              })
            : null,
        ],
      );
      // mousedown, not click: it fires before the input's blur closes the list.
      option.addEventListener('mousedown', (event) => {
        event.preventDefault();
        choose(k);
      });
      list.append(option);
    });
    if (result.total > items.length) {
      list.append(
        el('li', {
          className: 'search-more',
          text: `${result.total - items.length} more; keep typing to narrow.`,
          attrs: { role: 'presentation' },
        }),
      );
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(items.length ? 0 : -1);
  };
  const run = debounce(async () => {
    const query = input.value.trim().slice(0, MAX_QUERY_CHARS);
    if (query.length < MIN_QUERY_CHARS) {
      searches.cancel();
      close();
      return;
    }
    const signal = searches.next();
    try {
      // A class search needs a word: punctuation alone would be refused by the API.
      const byClass = /[\p{L}\p{N}]/u.test(query)
        ? searchDatasets({ label: query }, signal)
        : Promise.resolve({ total: 0, items: [] });
      const [byName, classes] = await Promise.all([searchDatasets({ q: query }, signal), byClass]);
      show(mergeSearchResults(byName, classes, SEARCH_SHOWN), query);
    } catch (err) {
      if (isAborted(err)) return;
      items = [];
      clear(list);
      list.append(
        el('li', {
          className: 'search-empty',
          text: `Search failed: ${err instanceof Error ? err.message : err}`,
          attrs: { role: 'presentation' },
        }),
      );
      list.hidden = false;
    }
  }, DEBOUNCE_MS);

  input.addEventListener('input', run);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && items.length) {
      event.preventDefault();
      if (list.hidden) list.hidden = false;
      highlight((active + 1) % items.length);
    } else if (event.key === 'ArrowUp' && items.length) {
      event.preventDefault();
      highlight((active - 1 + items.length) % items.length);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (!list.hidden && active >= 0) choose(active);
    } else if (event.key === 'Escape') {
      close();
    }
  });
  input.addEventListener('blur', close);
  return {
    clear: () => {
      input.value = '';
      close();
    },
  };
}

// @ts-check
/**
 * The datasets a lasso caught, as a ranked list with their numbers and a CSV export.
 *
 * Each row holds what the drawn map knows of the dataset (classes, size, downloads, licence)
 * and, when a dataset is selected, its scores against it from the selection's related lists
 * (P(in), P(contains)); rows with a score come first, highest first, then by downloads.
 * `lassoRows` and `lassoToCsv` are pure; `renderLasso` fills the panel.
 */

import { toCsv } from './csv.js';
import { el } from './dom.js';
import { formatCount, formatPercent } from './text.js';

export const MAX_LASSO_SHOWN = 100;
export const LASSO_COLUMNS = [
  'id',
  'num_labels',
  'num_examples',
  'downloads',
  'license',
  'reference',
  'score',
  'p_in',
  'p_contains',
];

/**
 * @typedef {object} LassoRow
 * @property {string} id - The dataset.
 * @property {number|null} numLabels @property {number|null} numExamples
 * @property {number} downloads @property {string|null} license
 * @property {number|null} score - Its score in the selection's lists (null: not listed).
 * @property {number|null} pIn - P(selected ⊆ it). @property {number|null} pContains - P(it ⊆ selected).
 */

/**
 * The lasso's rows.
 * @param {import('./boxes.js').BoxModel} model - The drawn map.
 * @param {string[]} ids - The caught datasets (ids not on the map are dropped).
 * @param {{id: string, lists: import('./selection.js').ListResult[]}|null} selection - The
 *   selected dataset and its loaded lists, if any: the reference of the scores.
 * @returns {LassoRow[]} Scored rows first (score, high first), then by downloads.
 */
export function lassoRows(model, ids, selection) {
  /** @type {Map<string, import('./schemas.js').RelatedItem>} */
  const scored = new Map();
  for (const list of selection ? selection.lists : [])
    for (const item of list.data ? list.data.items : [])
      if (!scored.has(item.id)) scored.set(item.id, item);
  /** @type {LassoRow[]} */
  const rows = [];
  for (const id of new Set(ids)) {
    const i = model.indexById.get(id);
    if (i === undefined) continue;
    const item = scored.get(id);
    rows.push({
      id,
      numLabels: model.numLabels[i] ?? null,
      numExamples: model.numExamples[i] ?? null,
      downloads: model.downloads[i],
      license: model.license[i],
      score: item ? item.score : null,
      pIn: item && typeof item.p_in === 'number' ? item.p_in : null,
      pContains: item && typeof item.p_contains === 'number' ? item.p_contains : null,
    });
  }
  const key = (/** @type {LassoRow} */ r) => (r.score === null ? -1 : r.score);
  rows.sort((a, b) => key(b) - key(a) || b.downloads - a.downloads || (a.id < b.id ? -1 : 1));
  return rows;
}

/**
 * The rows as CSV (cells guarded against spreadsheet formulas, see csv.js).
 * @param {LassoRow[]} rows - From lassoRows.
 * @param {string|null} reference - The selected dataset the scores are against.
 * @returns {string} The CSV document.
 */
export function lassoToCsv(rows, reference) {
  return toCsv(
    LASSO_COLUMNS,
    rows.map((r) => [
      r.id,
      r.numLabels,
      r.numExamples,
      r.downloads,
      r.license,
      r.score === null ? null : reference,
      r.score,
      r.pIn,
      r.pContains,
    ]),
  );
}

/**
 * Fill the panel with the lasso's rows: each a button that selects the dataset.
 * @param {HTMLElement} body - The panel body.
 * @param {LassoRow[]} rows - From lassoRows.
 * @param {string|null} reference - The selected dataset, when scores are shown.
 * @param {{select: (id: string) => void, exportCsv: () => void}} actions - Callbacks.
 */
export function renderLasso(body, rows, reference, actions) {
  const exportButton = el('button', {
    className: 'btn btn-quiet',
    text: 'Export CSV',
    attrs: { type: 'button', 'data-action': 'export-lasso' },
  });
  exportButton.addEventListener('click', actions.exportCsv);
  body.append(
    el('p', {
      className: 'hint',
      text: reference
        ? `Scores against ${reference}: P(in) is the share of it inside each box, P(contains) the reverse.`
        : 'Select a dataset first to score these against it.',
    }),
    el('div', { className: 'panel-actions' }, [exportButton]),
  );
  const ol = el('ol', { className: 'related lasso' });
  for (const row of rows.slice(0, MAX_LASSO_SHOWN)) {
    const facts = [
      `${row.numLabels === null ? '?' : row.numLabels} classes`,
      `${formatCount(row.numExamples)} examples`,
      `${formatCount(row.downloads)} downloads`,
    ];
    const button = el('button', { className: 'related-entry', attrs: { type: 'button' } }, [
      el('span', { className: 'related-id', text: row.id }),
      row.score === null
        ? null
        : el('span', {
            className: 'related-score',
            text: `${formatPercent(row.score)} · P(in) ${formatPercent(row.pIn)} · P(contains) ${formatPercent(row.pContains)}`,
          }),
      el('span', { className: 'related-meta', text: facts.join(' · ') }),
    ]);
    button.addEventListener('click', () => actions.select(row.id));
    ol.append(el('li', {}, [button]));
  }
  body.append(ol);
  if (rows.length > MAX_LASSO_SHOWN)
    body.append(
      el('p', { className: 'muted', text: `…and ${rows.length - MAX_LASSO_SHOWN} more (all in the CSV).` }),
    );
}

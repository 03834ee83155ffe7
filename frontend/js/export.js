// @ts-check
/**
 * Downloads made in the page: the CSV of the selection's related lists and of a lasso's
 * datasets. (PNG export is
 * Plotly's own modebar button.)
 */

import { csvFileName, relatedToCsv } from './csv.js';
import { lassoToCsv } from './lasso.js';

/**
 * Offer text as a file download.
 * @param {string} filename - Suggested name.
 * @param {string} text - Contents.
 * @param {string} type - MIME type.
 */
export function downloadText(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoke on the next task: the click has started the download by then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * Download the related lists of the selected dataset as CSV.
 * @param {string} selected - The selected dataset id.
 * @param {import('./selection.js').ListResult[]} lists - Loaded lists (missing ones skipped).
 */
export function exportRelatedCsv(selected, lists) {
  const loaded = lists.flatMap((l) => (l.data ? [l.data] : []));
  downloadText(csvFileName(selected), relatedToCsv(selected, loaded), 'text/csv;charset=utf-8');
}

/**
 * Download a lasso's datasets (and their scores against the selected one) as CSV.
 * @param {import('./lasso.js').LassoRow[]} rows - The lasso's rows.
 * @param {string|null} reference - The selected dataset the scores are against.
 */
export function exportLassoCsv(rows, reference) {
  downloadText('lasso-datasets.csv', lassoToCsv(rows, reference), 'text/csv;charset=utf-8');
}

// @ts-check
/**
 * CSV for the related-datasets export. Pure; no DOM.
 *
 * Cells are quoted per RFC 4180, and text that a spreadsheet would run as a formula
 * (starting with = + - or an at sign, tab or carriage return: FORMULA_PREFIXES) is prefixed with a single quote, as OWASP
 * advises against CSV injection: ids and labels come from strangers on the Hub.
 */

export const FORMULA_PREFIXES = ['=', '+', '-', '@', '\t', '\r'];
export const RELATED_COLUMNS = [
  'selected',
  'relation',
  'direction',
  'map',
  'rank',
  'id',
  'score',
  'p_in',
  'p_contains',
  'measured',
  'shared_labels',
];

/**
 * One CSV cell. Numbers and booleans are written as they are; text is guarded and quoted.
 * @param {unknown} value - The cell value; null/undefined become empty.
 * @returns {string} The cell.
 */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = String(value);
  if (text.length > 0 && FORMULA_PREFIXES.includes(text[0])) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

/**
 * Rows to CSV text with CRLF line ends.
 * @param {string[]} header - Column names.
 * @param {unknown[][]} rows - Cell values.
 * @returns {string} The CSV document.
 */
export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * The rows of the selection's related lists, one per (direction, item).
 * @param {string} selected - The selected dataset id.
 * @param {import('./schemas.js').RelatedPublic[]} lists - The loaded lists.
 * @returns {string} The CSV document.
 */
export function relatedToCsv(selected, lists) {
  /** @type {unknown[][]} */
  const rows = [];
  for (const list of lists) {
    list.items.forEach((item, k) => {
      rows.push([
        selected,
        list.relation,
        list.direction,
        list.map ? list.map.id : null,
        k + 1,
        item.id,
        item.score,
        item.p_in,
        item.p_contains,
        item.measured,
        (item.shared_labels || []).join('; '),
      ]);
    });
  }
  return toCsv(RELATED_COLUMNS, rows);
}

/**
 * A safe file name for the export of one dataset's related list.
 * @param {string} id - The dataset id.
 * @returns {string} e.g. `related-owner__name.csv`.
 */
export function csvFileName(id) {
  return `related-${String(id)
    .replace(/\//g, '__')
    .replace(/[^A-Za-z0-9._-]/g, '_')}.csv`;
}

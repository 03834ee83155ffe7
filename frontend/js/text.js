// @ts-check
/**
 * Text helpers shared by the plot and the panel. Pure; no DOM.
 */

/** @type {Record<string, string>} */
const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** @type {Array<[number, string]>} */
const COMPACT_UNITS = [
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/**
 * Escape text for the few places that parse HTML: Plotly's hover labels and legend names
 * interpret tags such as <b>, <a> and <br>, so data must never reach them raw.
 * @param {unknown} value - Anything; null and undefined become ''.
 * @returns {string} The text with & < > " ' replaced by entities.
 */
export function escapeHtml(value) {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/**
 * A short human count: 950, 1.2k, 34k, 5.6M.
 * @param {number|null|undefined} n - The count.
 * @returns {string} The compact form, or '—' when unknown.
 */
export function formatCount(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  for (const [size, unit] of COMPACT_UNITS) {
    if (abs >= size) {
      const value = n / size;
      const digits = Math.abs(value) < 10 ? 1 : 0;
      return `${value.toFixed(digits).replace(/\.0$/, '')}${unit}`;
    }
  }
  return String(Math.round(n));
}

/**
 * A probability or score as a percentage with one decimal: 0.4567 → "45.7%".
 * @param {number|null|undefined} p - A number in [0, 1] (clamped).
 * @returns {string} The percentage, or '—' when unknown.
 */
export function formatPercent(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return `${(Math.min(1, Math.max(0, p)) * 100).toFixed(1)}%`;
}

/**
 * Shorten text to at most `max` characters, ending with an ellipsis when cut.
 * @param {unknown} value - The text.
 * @param {number} max - The largest length returned (>= 1).
 * @returns {string} The possibly shortened text.
 */
export function truncate(value, max) {
  const text = value === null || value === undefined ? '' : String(value);
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

// @ts-check
/**
 * A one-line legend under the map for phone-sized plots, where Plotly's own legend is left
 * out (layout.js, COMPACT_WIDTH_PX) and the highlight colours would go unexplained.
 *
 * Expected DOM: p#map-legend in the map's footer. `legendEntries` is pure.
 */

import { ROLE_ORDER, ROLE_STYLES } from './colors.js';
import { clear, el } from './dom.js';

/**
 * @typedef {{label: string, color: string}} LegendEntry
 */

/**
 * What the legend names: the highlight roles on the map when something is selected or
 * placed, else the colour groups.
 * @param {Map<string, string>} roles - Dataset id → role.
 * @param {Array<{label: string, color: string}>} groups - The colour groups (colors.js).
 * @returns {LegendEntry[]} The entries, in drawing priority.
 */
export function legendEntries(roles, groups) {
  if (roles.size === 0) return groups.map(({ label, color }) => ({ label, color }));
  const present = new Set(roles.values());
  return ROLE_ORDER.filter((role) => present.has(role)).map((role) => ({
    label: ROLE_STYLES[role].label,
    color: ROLE_STYLES[role].color,
  }));
}

/**
 * Fill the legend (labels may be Hub text: licence names, so text only).
 * @param {HTMLElement} node - p#map-legend.
 * @param {LegendEntry[]} entries - From legendEntries.
 * @param {boolean} shown - Whether the plot is compact (no Plotly legend).
 */
export function renderLegend(node, entries, shown) {
  clear(node);
  node.hidden = !shown || entries.length === 0;
  if (node.hidden) return;
  for (const entry of entries) {
    const swatch = el('span', { className: 'legend-swatch', attrs: { 'aria-hidden': 'true' } });
    swatch.style.background = entry.color;
    node.append(el('span', { className: 'legend-item' }, [swatch, entry.label]));
  }
}

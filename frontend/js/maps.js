// @ts-check
/**
 * Which map to draw, and how to name it. Pure; no DOM.
 */

/** @typedef {import('./schemas.js').MapPublic} MapPublic */

/** Maps whose boxes can be drawn and browsed. */
export const DRAWABLE_STATUSES = ['published', 'ready', 'retired'];

/**
 * The maps offered in the map menu for a relation: drawable, at least 2-D, the published
 * one first, then newest first.
 * @param {MapPublic[]} maps - The API's maps.
 * @param {string} relation - 'containment' or 'transfer'.
 * @returns {MapPublic[]} The choices.
 */
export function mapChoices(maps, relation) {
  /** @param {MapPublic} m - A map. @returns {number} 0 for the published one. */
  const rank = (m) => (m.status === 'published' ? 0 : 1);
  return maps
    .filter((m) => m.relation === relation && DRAWABLE_STATUSES.includes(m.status) && m.dim >= 2)
    .sort(
      (a, b) =>
        rank(a) - rank(b) || a.dim - b.dim || String(b.created_at).localeCompare(String(a.created_at)),
    );
}

/**
 * The map to draw: the one asked for (URL) when it exists for the relation, else the
 * relation's published 2-D map, else its first choice.
 * @param {MapPublic[]} maps - The API's maps.
 * @param {string} relation - The page's relation.
 * @param {string|number|null} requested - A map id from the URL or the menu (ids are
 *   integers in the API and strings in URLs and menus, so they are compared as text).
 * @returns {MapPublic|null} The map, or null when the relation has none.
 */
export function pickMap(maps, relation, requested) {
  const choices = mapChoices(maps, relation);
  if (requested) {
    const wanted = choices.find((m) => String(m.id) === String(requested));
    if (wanted) return wanted;
  }
  return (
    choices.find((m) => m.status === 'published' && m.dim === 2) ||
    choices.find((m) => m.status === 'published') ||
    choices[0] ||
    null
  );
}

/**
 * A short human name for a map.
 * @param {MapPublic} map - The map.
 * @returns {string} e.g. "containment · 2-D · label-text · published".
 */
export function mapLabel(map) {
  const parts = [map.relation, `${map.dim}-D`, map.representation, map.status];
  const estimator = map.params && map.params.estimator;
  // A transfer map fitted to estimates says which estimator made them.
  if (map.relation === 'transfer' && typeof estimator === 'string' && estimator) {
    parts.push(`${estimator.toUpperCase()} estimates`);
  }
  return parts.join(' · ');
}

/**
 * How far to trust the picture: the map's fidelity, i.e. how well its boxes agree with the
 * containment counted from class names (F1 at 0.5 and Spearman ρ over dataset pairs), and
 * which network drew it. Empty for maps without the figure (transfer maps, older maps).
 * @param {{params?: Record<string, unknown>, metrics?: Record<string, number>}} map - MapPublic.
 * @returns {string} e.g. "label-set boxes agree with the counted classes: F1 0.91, ρ 0.78".
 */
export function mapTrust(map) {
  const metrics = map.metrics || {};
  const f1 = metrics.fidelity_f1;
  if (typeof f1 !== 'number' || !Number.isFinite(f1)) return '';
  const rho = metrics.fidelity_spearman;
  const model = map.params && map.params.model === 'set' ? 'label-set boxes' : 'boxes';
  const rhoText = typeof rho === 'number' && Number.isFinite(rho) ? `, ρ ${rho.toFixed(2)}` : '';
  return `${model} agree with the counted classes: F1 ${f1.toFixed(2)}${rhoText}`;
}

/**
 * The drawn map's measured fidelity in a few words, for beside the map menu: how far its
 * boxes, as drawn, agree with the containment counted from class names.
 * @param {{dim?: number, metrics?: Record<string, number>}} map - MapPublic.
 * @returns {string} e.g. "2-D fidelity F1 0.91" (short: it sits in the top bar; the rank
 *   correlation is in mapTrust, on the status line); empty when not measured.
 */
export function mapFidelity(map) {
  const metrics = map.metrics || {};
  const f1 = metrics.fidelity_f1;
  if (typeof f1 !== 'number' || !Number.isFinite(f1)) return '';
  const dim = Number.isInteger(map.dim) ? `${map.dim}-D ` : '';
  return `${dim}fidelity F1 ${f1.toFixed(2)}`;
}

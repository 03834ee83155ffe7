// @ts-check
/**
 * How far the drawn 2-D map agrees with a related list's scores. Pure; no DOM.
 *
 * The lists are scored on the highest-dimensional map (or counted from class names), while
 * the page draws the first two dimensions of the map on screen. Two boxes can overlap in 8-D
 * and sit apart in the picture, or the other way round; a reader who trusts the picture over
 * the list needs to be told where they differ.
 */

/** A drawn share this far (or farther) from the listed score counts as a disagreement. */
export const DISAGREE_GAP = 0.5;

/**
 * The share of box a's drawn rectangle inside box b's: area(a ∩ b) / area(a), hard edges.
 * @param {import('./boxes.js').BoxModel} model - The drawn boxes.
 * @param {number} a - A box index.
 * @param {number} b - Another box index.
 * @returns {number} In [0, 1]; 1 for a degenerate (zero-area) a lying on b.
 */
export function drawnShare(model, a, b) {
  const w = Math.max(0, Math.min(model.x1[a], model.x1[b]) - Math.max(model.x0[a], model.x0[b]));
  const h = Math.max(0, Math.min(model.y1[a], model.y1[b]) - Math.max(model.y0[a], model.y0[b]));
  const area = (model.x1[a] - model.x0[a]) * (model.y1[a] - model.y0[a]);
  if (!(area > 0)) return w > 0 || h > 0 ? 1 : 0;
  return Math.min(1, (w * h) / area);
}

/**
 * The drawn map's share for one row of a containment list: for `contained_in` (and a placed
 * set's "contained in") the selected box inside the other, for `contains` the other inside
 * the selected one. Null when either box is not on the drawn map or the list is not about
 * containment.
 * @param {import('./boxes.js').BoxModel|null} model - The drawn boxes.
 * @param {string} selected - The selected dataset.
 * @param {string} other - The listed dataset.
 * @param {string} direction - 'contained_in' or 'contains' (anything else gives null).
 * @returns {number|null} The drawn share.
 */
export function drawnScore(model, selected, other, direction) {
  if (!model || (direction !== 'contained_in' && direction !== 'contains')) return null;
  const a = model.indexById.get(selected);
  const b = model.indexById.get(other);
  if (a === undefined || b === undefined) return null;
  return direction === 'contained_in' ? drawnShare(model, a, b) : drawnShare(model, b, a);
}

/**
 * Whether a drawn share and a listed score disagree (see DISAGREE_GAP).
 * @param {number|null} drawn - The drawn share, or null when unknown.
 * @param {number} score - The listed score in [0, 1].
 * @returns {boolean} True when both are known and far apart.
 */
export function disagrees(drawn, score) {
  return drawn !== null && Number.isFinite(score) && Math.abs(drawn - score) >= DISAGREE_GAP;
}

// @ts-check
/**
 * What "select a dataset" loads: its record and its ranked related lists, and which boxes
 * to highlight in which role. `rolesFromLists` is pure; `fetchSelection` calls the API.
 */

import { ApiError, getDataset, getRelated } from './api.js';

/** Items shown per related list. */
export const LIST_K = 20;
/** Items per list that are highlighted on the map. */
export const HIGHLIGHT_K = 10;
/** Below this score a related box is listed but not highlighted: it is barely related. */
export const HIGHLIGHT_MIN_SCORE = 0.05;

/**
 * @typedef {object} ListSpec
 * @property {string} key - Stable key (the list's `data-list`).
 * @property {string} relation - 'containment' or 'transfer'.
 * @property {string} [direction] - The API's direction.
 * @property {string|null} role - The map highlight of its top items (see colors.ROLE_STYLES).
 * @property {string} title - Heading.
 * @property {string} hint - What the list means.
 */

/**
 * The related lists the panel shows, by relation; `role` names the map highlight.
 * Containment: `contained_in` lists datasets that contain the selected one.
 * Transfer: `from` lists its best transfer sources.
 */
/** @type {ListSpec[]} */
export const LIST_SPECS = [
  {
    key: 'containers',
    relation: 'containment',
    direction: 'contained_in',
    role: 'container',
    title: 'Contained in',
    hint: 'Datasets whose classes cover this one’s. Score: P(this ⊆ other).',
  },
  {
    key: 'contained',
    relation: 'containment',
    direction: 'contains',
    role: 'contained',
    title: 'Contains',
    hint: 'Datasets whose classes this one covers. Score: P(other ⊆ this).',
  },
  {
    key: 'sources',
    relation: 'transfer',
    direction: 'from',
    role: 'source',
    title: 'Best transfer sources',
    hint: 'Datasets predicted to transfer best to this one.',
  },
  {
    key: 'targets',
    relation: 'transfer',
    direction: 'to',
    role: null,
    title: 'Transfers to',
    hint: 'Datasets this one is predicted to transfer best to.',
  },
];

/**
 * @typedef {object} ListResult
 * @property {ListSpec} spec - One of LIST_SPECS.
 * @property {import('./schemas.js').RelatedPublic|null} data - The response, or null on error.
 * @property {import('./api.js').ApiError|null} [error] - Why it is missing.
 */

/**
 * @typedef {object} Selection
 * @property {import('./schemas.js').DatasetPublic} dataset - The dataset.
 * @property {ListResult[]} lists - Its related lists (see specsFor).
 * @property {Map<string, string>} roles - Dataset id → map highlight.
 */

/**
 * Which lists to load for the current relation: both of its directions, plus the transfer
 * sources when looking at containment (the map highlights them too).
 * @param {string} relation - 'containment' or 'transfer'.
 * @returns {ListSpec[]} Specs, the relation's own first.
 */
export function specsFor(relation) {
  const own = LIST_SPECS.filter((s) => s.relation === relation);
  const extra = relation === 'containment' ? LIST_SPECS.filter((s) => s.key === 'sources') : [];
  return [...own, ...extra];
}

/**
 * Map roles for the selection: the selected box, and the top items of each list.
 * When a dataset appears in several lists, the first role in list order wins.
 * @param {string} selectedId - The selected dataset.
 * @param {ListResult[]} lists - Loaded lists.
 * @returns {Map<string, string>} Dataset id → role.
 */
export function rolesFromLists(selectedId, lists) {
  const roles = new Map([[selectedId, 'selected']]);
  for (const { spec, data } of lists) {
    if (!spec.role || !data) continue;
    for (const item of data.items.slice(0, HIGHLIGHT_K)) {
      if (item.score >= HIGHLIGHT_MIN_SCORE && !roles.has(item.id)) roles.set(item.id, spec.role);
    }
  }
  return roles;
}

/**
 * Load a dataset and its related lists in parallel. A missing list (say no transfer map)
 * is reported in its slot, not thrown: the rest of the panel still works. Relations with no
 * map are not asked at all (the answer is known, and a 404 would litter the console).
 * @param {string} id - The dataset.
 * @param {string} relation - The page's relation.
 * @param {Set<string>} mapped - Relations that have a map.
 * @param {AbortSignal} [signal] - Cancels every request when another dataset is selected.
 * @returns {Promise<Selection>} What the panel and the map show.
 * @throws {import('./api.js').ApiError} When the dataset itself cannot be loaded, or with the
 *   code 'aborted' when the signal cancelled it.
 */
export async function fetchSelection(id, relation, mapped, signal) {
  const specs = specsFor(relation);
  /** @param {ListSpec} spec - A list whose relation has no map. @returns {Promise<never>} */
  const noMap = (spec) => Promise.reject(new ApiError(404, 'no_map', `no ${spec.relation} map is published`));
  const [dataset, ...settled] = await Promise.allSettled([
    getDataset(id, signal),
    ...specs.map((spec) =>
      mapped.has(spec.relation)
        ? getRelated(id, { relation: spec.relation, direction: spec.direction || '', k: LIST_K }, signal)
        : noMap(spec),
    ),
  ]);
  if (dataset.status === 'rejected') throw dataset.reason;
  const lists = specs.map((spec, k) => ({
    spec,
    data: settled[k].status === 'fulfilled' ? settled[k].value : null,
    error: settled[k].status === 'rejected' ? settled[k].reason : null,
  }));
  return { dataset: dataset.value, lists, roles: rolesFromLists(id, lists) };
}

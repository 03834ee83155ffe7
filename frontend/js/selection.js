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
 * @property {Map<string, number>} ranks - Highlighted dataset id → its rank badge.
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

/** Rows scoring below this are folded into "N weak matches": listed, but not ranked. */
export const WEAK_SCORE = 0.01;

/**
 * One related list as the panel shows it and the map highlights it.
 * @typedef {object} ArrangedList
 * @property {import('./schemas.js').RelatedItem[]} ranked - Rows scoring at least WEAK_SCORE,
 *   in the server's order; row k carries the rank badge k + 1, on the map as in the panel.
 * @property {import('./schemas.js').RelatedItem[]} weak - Rows below WEAK_SCORE (folded).
 * @property {string[]} moved - Ids left out here because another list of the same relation
 *   scores them higher (they are listed, and drawn, there).
 */

/**
 * @typedef {object} Arranged
 * @property {Map<string, ArrangedList>} lists - By list key (ListSpec.key).
 * @property {Map<string, string>} roles - Dataset id → map highlight.
 * @property {Map<string, number>} ranks - Highlighted dataset id → its rank badge (1-based).
 */

/**
 * Put each related dataset under one list, and derive the map's highlights from those lists.
 *
 * A dataset that shares classes with the selected one is counted in both directions, so it
 * comes back in both containment lists: Cat_and_Dog is 100% inside CIFAR-10 ("contains")
 * and covers 20% of it ("contained in"). Highlighting it by whichever list came first drew it
 * as a container while the panel's strong row said the opposite. Here a dataset is listed,
 * and drawn, under the direction of the relation where it scores higher (ties: the earlier
 * list); lists of another relation (transfer sources beside containment) keep their rows,
 * and a box already highlighted keeps its first role.
 * @param {string|null} selectedId - The selected dataset (never listed), or null for a
 *   placed label set.
 * @param {ListResult[]} lists - Loaded lists, in display order.
 * @returns {Arranged} The arranged lists, the highlights and their rank badges.
 */
export function arrangeLists(selectedId, lists) {
  /** @type {Map<string, {key: string, score: number}>} relation + id → best list */
  const best = new Map();
  for (const { spec, data } of lists) {
    if (!data) continue;
    for (const item of data.items) {
      const key = `${spec.relation}\u0000${item.id}`;
      const score = Number(item.score) || 0;
      const held = best.get(key);
      if (!held || score > held.score) best.set(key, { key: spec.key, score });
    }
  }
  /** @type {Map<string, ArrangedList>} */
  const arranged = new Map();
  /** @type {Map<string, string>} */
  const roles = new Map();
  if (selectedId !== null) roles.set(selectedId, 'selected');
  /** @type {Map<string, number>} */
  const ranks = new Map();
  for (const { spec, data } of lists) {
    /** @type {ArrangedList} */
    const list = { ranked: [], weak: [], moved: [] };
    arranged.set(spec.key, list);
    if (!data) continue;
    for (const item of data.items) {
      if (item.id === selectedId) continue;
      const owner = best.get(`${spec.relation}\u0000${item.id}`);
      if (owner && owner.key !== spec.key) list.moved.push(item.id);
      else if ((Number(item.score) || 0) >= WEAK_SCORE) list.ranked.push(item);
      else list.weak.push(item);
    }
    if (!spec.role) continue;
    list.ranked.slice(0, HIGHLIGHT_K).forEach((item, k) => {
      if (item.score >= HIGHLIGHT_MIN_SCORE && !roles.has(item.id)) {
        roles.set(item.id, /** @type {string} */ (spec.role));
        ranks.set(item.id, k + 1);
      }
    });
  }
  return { lists: arranged, roles, ranks };
}

/**
 * Map roles for the selection: the selected box, and the top items of each list (see
 * arrangeLists, which also gives their rank badges).
 * @param {string} selectedId - The selected dataset.
 * @param {ListResult[]} lists - Loaded lists.
 * @returns {Map<string, string>} Dataset id → role.
 */
export function rolesFromLists(selectedId, lists) {
  return arrangeLists(selectedId, lists).roles;
}

/**
 * The two lists of a placed label set, in the shape of a selection's.
 * @param {import('./schemas.js').PlacePublic} result - The API's answer.
 * @returns {ListResult[]} "Contained in", then "Contains".
 */
export function placedLists(result) {
  const data = (/** @type {import('./schemas.js').RelatedItem[]} */ items) => ({
    relation: result.map.relation,
    map: result.map,
    items,
  });
  return [
    {
      spec: {
        key: 'placed-in',
        relation: result.map.relation,
        role: 'container',
        title: 'Contained in',
        hint: 'Datasets whose classes would cover yours.',
      },
      data: data(result.contained_in),
      error: null,
    },
    {
      spec: {
        key: 'placed-contains',
        relation: result.map.relation,
        role: 'contained',
        title: 'Contains',
        hint: 'Datasets whose classes yours would cover.',
      },
      data: data(result.contains),
      error: null,
    },
  ];
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
  const { roles, ranks } = arrangeLists(id, lists);
  return { dataset: dataset.value, lists, roles, ranks };
}

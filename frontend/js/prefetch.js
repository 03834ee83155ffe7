// @ts-check
/**
 * Starts loading the map's data the moment the page opens, while plotly.js is still
 * downloading: index.html loads this small module async from <head>, ahead of app.js, whose
 * first showMap() takes the result when it wants the same map. Touches no DOM.
 */

import { getMapBoxes, listMaps } from './api.js';
import { buildModel } from './boxes.js';
import { pickMap } from './maps.js';
import { readLocation } from './state.js';

/** User Timing mark set when the boxes are modelled; benchmarks/page.py reads it. */
export const BOXES_LOADED_MARK = 'atlas:boxes-loaded';

/**
 * What the prefetch yields: the maps list and the model of the map the URL asks for.
 * @typedef {{maps: import('./schemas.js').MapsPublic, model: import('./boxes.js').BoxModel|null}} Prefetched
 */

/**
 * The maps list and the model of the map the URL asks for (null when there is none).
 * @returns {Promise<Prefetched>} What the first draw needs.
 */
async function load() {
  const state = readLocation();
  const maps = await listMaps();
  const map = pickMap(maps.items, state.relation, state.map);
  if (!map) return { maps, model: null };
  const model = buildModel(await getMapBoxes(map.id));
  performance.mark(BOXES_LOADED_MARK);
  return { maps, model };
}

const started = load();
// A failure is app.js's to report: it fetches again when this yields null.
started.catch(() => undefined);
let taken = false;

/**
 * The prefetched data, once: later calls, and a failed prefetch, give null so that the
 * caller fetches fresh data itself.
 * @returns {Promise<Prefetched|null>} The data or null.
 */
export async function takePrefetched() {
  if (taken) return null;
  taken = true;
  try {
    return await started;
  } catch {
    return null;
  }
}

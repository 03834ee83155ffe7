// @ts-check
/**
 * Wiring: events → state → API → map view and panel.
 *
 * Plotly is the global `window.Plotly` from plotly.js's partial gl2d bundle (vendored in
 * frontend/vendor/, served under a content-hashed URL). That script is deferred and this module async (index.html), so this module usually
 * starts first: it fetches the map while plotly.js downloads and runs, and the map view waits
 * for `plotlyReady` before its first draw. The page lives in one store (state.js), the only
 * writer of its state and of the URL; this module turns events into changes of it.
 */

import {
  ApiError,
  getLabelPoints,
  getMapBoxes,
  getSamples,
  latestOnly,
  listMaps,
  placeDataset,
  searchDatasets,
} from './api.js';
import { buildModel, frameBox, frameCorners } from './boxes.js';
import { drawnScore } from './agreement.js';
import { byId, clear, el } from './dom.js';
import { exportLassoCsv, exportRelatedCsv } from './export.js';
import { bindFilters, syncFilters } from './filters.js';
import { watchJobs } from './jobs.js';
import { createMapView } from './mapview.js';
import { mapChoices, mapFidelity, mapLabel, pickMap } from './maps.js';
import { emptyMapText, hideNotice, showNotice } from './notice.js';
import * as panel from './panel.js';
import { plotly } from './plotly.js';
import { lassoRows, renderLasso } from './lasso.js';
import { COMPACT_WIDTH_PX } from './layout.js';
import { legendEntries, renderLegend } from './legend.js';
import { colorGroups } from './colors.js';
import { renderPlaced } from './related.js';
import { bindPlace } from './place.js';
import { BOXES_LOADED_MARK, takePrefetched } from './prefetch.js';
import { sampleItems, renderSamples } from './samples.js';
import { bindSearch } from './search.js';
import { arrangeLists, fetchSelection, placedLists } from './selection.js';
import { RELATIONS, createStore, initialPage, readLocation } from './state.js';

const NARROW_QUERY = '(max-width: 760px)';
const START_MARK = 'atlas:start';

/**
 * Settles once the deferred plotly.js has run (or failed): deferred scripts run before
 * DOMContentLoaded, and this async module may start before or after that event.
 * @type {Promise<void>}
 */
const plotlyReady = new Promise((resolve) => {
  // readyState turns 'interactive' before deferred scripts run, so only 'complete' (or plotly
  // itself) proves they have; `load` covers a plotly.js that failed after DOMContentLoaded.
  if (plotly() || document.readyState === 'complete') resolve();
  else {
    document.addEventListener('DOMContentLoaded', () => resolve(), { once: true });
    window.addEventListener('load', () => resolve(), { once: true });
  }
});

const store = createStore(initialPage(readLocation()));
// Selecting another dataset aborts the requests of the one still loading.
const selections = latestOnly();

const view = createMapView(
  store,
  {
    click: (id) => select(id, { push: true }),
    lasso: (ids) => {
      store.set({ state: { lasso: ids } }, { push: true });
      showLasso(ids);
    },
    roles: () => currentHighlights().roles,
    ranks: () => currentHighlights().ranks,
  },
  plotlyReady,
);

/**
 * List a lasso's datasets in the panel, scored against the selected dataset when there is one.
 * @param {string[]} ids - The caught datasets.
 */
function showLasso(ids) {
  const { model, selection, state } = store.get();
  if (!model) return;
  const reference = selection && selection.id === state.dataset ? selection : null;
  const refId = reference ? reference.id : null;
  const rows = lassoRows(model, ids, reference);
  const body = panel.openPanel(
    `${rows.length.toLocaleString('en-US')} datasets in the lasso`,
    refId ? `Scored against ${refId}` : undefined,
  );
  renderLasso(body, rows, refId, {
    select: (id) => select(id, { push: true, focus: true }),
    exportCsv: () => exportLassoCsv(rows, refId),
  });
}

/**
 * Which boxes to highlight, and their rank badges: the selection's related boxes, else those
 * of a placed label set.
 * @returns {{roles: Map<string, string>, ranks: Map<string, number>}} Dataset id → role and
 *   id → rank in the list it is drawn from.
 */
function currentHighlights() {
  const { selection, placed, state } = store.get();
  if (selection && selection.id === state.dataset) return { roles: selection.roles, ranks: selection.ranks };
  if (placed && !state.dataset) return { roles: placed.roles, ranks: placed.ranks };
  return { roles: new Map(), ranks: new Map() };
}

/**
 * Frame a dataset's box on the drawn map, when it is there.
 * @param {string} id - The dataset.
 */
function zoomTo(id) {
  const { model } = store.get();
  const index = model ? model.indexById.get(id) : undefined;
  if (model && index !== undefined) view.moveView(frameBox(model, index));
}

/**
 * Select a dataset: highlight its related boxes and fill the panel.
 * @param {string} id - The dataset id.
 * @param {{push?: boolean, zoom?: boolean, focus?: boolean, restore?: boolean}} opts - Add a
 *   history entry; zoom the map to it; move keyboard focus to the panel; restoring a URL
 *   (keep its lasso, which is scored against this selection).
 */
async function select(id, opts = {}) {
  const signal = selections.next();
  // The panel is rebuilt, so the row under the pointer (if any) never reports leaving.
  view.outline(null);
  store.set(
    { state: { dataset: id, place: null, ...(opts.restore ? {} : { lasso: null }) } },
    { push: Boolean(opts.push) },
  );
  panel.showLoading(id);
  const { model, maps, state } = store.get();
  const onMap = model ? model.indexById.has(id) : false;
  if (opts.zoom) zoomTo(id);
  try {
    const mapped = new Set(RELATIONS.filter((r) => mapChoices(maps, r).length > 0));
    const loaded = await fetchSelection(id, state.relation, mapped, signal);
    if (signal.aborted) return;
    store.set({ selection: { id, ...loaded } });
    showLabelPoints(id, signal);
    const body = panel.openPanel(loaded.dataset.id, loaded.dataset.pretty_name || undefined);
    const drawnModel = store.get().model;
    panel.renderDataset(
      body,
      loaded.dataset,
      loaded.lists,
      {
        onMap,
        mapLabel: model ? mapLabel(model.map) : 'this map',
        arranged: arrangeLists(id, loaded.lists),
        drawn: (spec, item) => drawnScore(drawnModel, id, item.id, spec.direction || ''),
        onlyRelated: store.get().state.onlyRelated,
      },
      {
        select: (other) => select(other, { push: true, zoom: true, focus: true }),
        zoom: () => zoomTo(id),
        exportCsv: () => exportRelatedCsv(id, loaded.lists),
        hover: (other) => view.outline(other),
        onlyRelated: (only) => store.set({ state: { onlyRelated: only } }, { push: true }),
      },
    );
    if (opts.focus) panel.focusPanel();
    showSamples(id, body, signal);
  } catch (err) {
    // A superseded selection was aborted on purpose: nothing went wrong.
    if (signal.aborted) return;
    const status = err instanceof ApiError ? err.status : 0;
    const message = err instanceof Error ? err.message : String(err);
    panel.showError(
      id,
      status === 404 ? `No dataset “${id}” in the database.` : `Could not load it: ${message}`,
    );
  }
}

/**
 * Fill the panel's sample-image strip (after the lists: they come first). Offline, or on any
 * error, the strip stays hidden.
 * @param {string} id - The selected dataset.
 * @param {HTMLElement} body - Its panel.
 * @param {AbortSignal} signal - The selection's; aborted when another one starts.
 */
async function showSamples(id, body, signal) {
  const slot = body.querySelector('[data-samples]');
  if (!(slot instanceof HTMLElement)) return;
  try {
    const payload = await getSamples(id, signal);
    if (!signal.aborted) renderSamples(slot, sampleItems(payload));
  } catch {
    // No images is the offline answer too; nothing to report.
  }
}

/**
 * On a map drawn by the label-set model, draw the selected dataset's classes as points
 * inside its box (fetched after the panel: the lists come first).
 * @param {string} id - The selected dataset.
 * @param {AbortSignal} signal - The selection's; aborted when another one starts.
 */
async function showLabelPoints(id, signal) {
  const { model } = store.get();
  const map = model && model.map;
  if (!model || !map || !map.params || map.params.model !== 'set' || !model.indexById.has(id)) return;
  try {
    const points = await getLabelPoints(map.id, id, signal);
    if (signal.aborted || store.get().model !== model) return;
    store.set({ labelPoints: { mapId: map.id, id, labels: points.labels, points: points.points } });
  } catch {
    // Optional detail: the box and the lists are already shown.
  }
}

/** Clear the selection (and a placed box) and close the panel. */
function clearSelection() {
  selections.cancel();
  view.outline(null);
  store.set(
    {
      selection: null,
      placed: null,
      labelPoints: null,
      state: { dataset: null, place: null, lasso: null },
    },
    { push: true },
  );
  panel.closePanel();
  // Keyboard users land where they can go on from, not on the page body.
  byId('search-input').focus();
}

/**
 * Show a placed label set: its dashed box, its related boxes highlighted, and their lists.
 * @param {import('./schemas.js').PlacePublic} result - The API's answer.
 * @param {string[]} labels - The labels sent.
 * @param {boolean} [push] - Add a history entry (not when restoring the URL's placement).
 */
function onPlaced(result, labels, push = true) {
  const { roles, ranks } = arrangeLists(null, placedLists(result));
  const { model } = store.get();
  const box = model ? placedBoxIn(result, model.map.id) : null;
  selections.cancel();
  store.set(
    {
      placed: { result, labels, roles, ranks, box, mapId: model ? model.map.id : null },
      selection: null,
      // Kept in the URL when short enough to link (state.linkablePlace).
      state: { dataset: null, place: labels, lasso: null },
    },
    { push },
  );
  const body = panel.openPanel(
    'Your dataset',
    `${labels.length.toLocaleString('en-US')} labels · predicted box`,
  );
  renderPlaced(
    body,
    result,
    { labels: labels.length, drawn: box !== null, mapLabel: model ? mapLabel(model.map) : 'none' },
    {
      select: (id) => select(id, { push: true, zoom: true, focus: true }),
      hover: (id) => view.outline(id),
    },
  );
  if (model && box) view.moveView(frameCorners(model, box));
  panel.focusPanel();
}

/**
 * The predicted box in the map on screen: `boxes` holds it per published map; `box` is the
 * one of the map that gave the scores.
 * @param {import('./schemas.js').PlacePublic} result - The API's answer.
 * @param {number} mapId - The drawn map.
 * @returns {{lo: number[], hi: number[]}|null} The box, or null when not predicted there.
 */
function placedBoxIn(result, mapId) {
  const box = result.boxes && result.boxes[String(mapId)];
  if (box) return box;
  return result.map.id === mapId ? result.box : null;
}

/** Fill the map menu and the relation toggle from the page. */
function syncMapMenu() {
  const { maps, model, state } = store.get();
  const menu = /** @type {HTMLSelectElement} */ (byId('map-select'));
  clear(menu);
  const choices = mapChoices(maps, state.relation);
  for (const m of choices)
    menu.append(
      el('option', {
        text: `${m.dim}-D · ${m.representation}${m.status === 'published' ? '' : ` (${m.status})`}`,
        attrs: { value: m.id },
      }),
    );
  if (!choices.length) menu.append(el('option', { text: 'none trained', attrs: { value: '' } }));
  menu.disabled = choices.length < 2;
  // A faded containment map under the transfer view is no choice of this menu.
  menu.value = model && choices.some((m) => m.id === model.map.id) ? String(model.map.id) : '';
  const fidelity = byId('map-fidelity');
  const measured = model ? mapFidelity(model.map) : '';
  fidelity.textContent = measured;
  fidelity.title = measured
    ? 'How far the boxes of this map agree with the containment counted from class names: F1 of "inside" at 0.5 over dataset pairs, and Spearman ρ of the scores. 1 is perfect.'
    : '';
  fidelity.hidden = !measured;
  for (const input of document.querySelectorAll('input[name="relation"]')) {
    const radio = /** @type {HTMLInputElement} */ (input);
    radio.checked = radio.value === state.relation;
  }
}

/**
 * Show the empty state for a relation with no map. Under the transfer view's card the
 * containment map stays drawn, faded and inert, so the page still shows the atlas.
 * @returns {Promise<void>} Settles when shown.
 */
async function showEmpty() {
  const { maps, state, model: drawn } = store.get();
  const underneath = state.relation === 'containment' ? null : pickMap(maps, 'containment', null);
  /** @type {import('./boxes.js').BoxModel|null} */
  let backdrop = null;
  if (underneath) {
    backdrop = drawn && drawn.map.id === underneath.id ? drawn : null;
    if (!backdrop)
      backdrop = await getMapBoxes(underneath.id).then(buildModel, () => null); // optional
  }
  byId('map').classList.toggle('backdrop', backdrop !== null);
  store.set({ model: backdrop });
  syncMapMenu();
  if (backdrop) view.render();
  else await view.clear();
  const total = await searchDatasets({ limit: 1 }).then(
    (r) => r.total,
    () => null,
  );
  const { title, paragraphs, links } = emptyMapText(state.relation, total);
  showNotice(title, paragraphs, links, { backdrop: backdrop !== null });
  if (!backdrop) byId('map-status').textContent = '';
  // The panel stays useful without a map: refresh its lists for the new relation.
  if (state.dataset) await select(state.dataset, {});
}

/** Load the map list and draw the map the state asks for (or an empty state). */
async function showMap() {
  try {
    const early = await takePrefetched(); // the first call gets what prefetch.js loaded
    store.set({ maps: (early ? early.maps : await listMaps()).items });
    const { maps, state } = store.get();
    const map = pickMap(maps, state.relation, state.map);
    if (!map) {
      await showEmpty();
      return;
    }
    if (state.map && state.map !== String(map.id)) store.set({ state: { map: null } });
    let { model } = store.get();
    if (early && early.model && early.model.map.id === map.id) model = early.model;
    else if (!model || model.map.id !== map.id) {
      showNotice('Loading the map…', []);
      model = buildModel(await getMapBoxes(map.id));
      performance.mark(BOXES_LOADED_MARK);
    }
    hideNotice();
    byId('map').classList.remove('backdrop');
    store.set({ model });
    syncMapMenu();
    syncFilters(store.get().state, model);
    view.render();
    const { selection, placed, state: now } = store.get();
    if (now.dataset && (!selection || selection.id !== now.dataset)) {
      await select(now.dataset, { zoom: !now.view, restore: true });
    } else if (!now.dataset && now.place && !samePlace(placed, now.place)) {
      await placeAgain(now.place);
    }
    if (now.lasso && store.get().state.lasso === now.lasso) showLasso(now.lasso);
  } catch (err) {
    showNotice('The map could not be loaded', [
      err instanceof Error ? err.message : String(err),
      'Check that the server is running (`task2box serve`), then reload.',
    ]);
  }
}

/**
 * Whether a placement shown is of these labels.
 * @param {import('./state.js').Placed|null} placed - The placement on the page.
 * @param {string[]} labels - The URL's labels.
 * @returns {boolean} True when the same list.
 */
function samePlace(placed, labels) {
  return placed !== null && placed.labels.join('\n') === labels.join('\n');
}

/**
 * Place the URL's label list again (a shared or reloaded link).
 * @param {string[]} labels - The labels.
 * @returns {Promise<void>} Settles when shown (or when it failed, said in the panel).
 */
async function placeAgain(labels) {
  try {
    const result = await placeDataset({ labels, relation: store.get().state.relation });
    onPlaced(result, labels, false);
  } catch (err) {
    panel.showError('Your dataset', `Could not place it: ${err instanceof Error ? err.message : err}`);
  }
}

/**
 * Apply a change from the filter and display controls.
 * @param {Partial<import('./state.js').PageState>} patch - Changed fields.
 */
function onFilterChange(patch) {
  store.set({ state: patch });
  const { model, state } = store.get();
  if (model) syncFilters(state, model);
}

/** Wire the relation toggle, the map menu and the browser's back/forward. */
function bindNavigation() {
  for (const input of document.querySelectorAll('input[name="relation"]')) {
    const radio = /** @type {HTMLInputElement} */ (input);
    radio.addEventListener('change', () => {
      store.set({ state: { relation: radio.value, map: null, view: null }, selection: null });
      showMap();
    });
  }
  const menu = /** @type {HTMLSelectElement} */ (byId('map-select'));
  menu.addEventListener('change', () => {
    store.set({ state: { map: menu.value || null, view: null } });
    showMap();
  });
  window.addEventListener('popstate', () => {
    const state = readLocation();
    if (!state.dataset) selections.cancel();
    store.set({
      state,
      ...(state.dataset ? {} : { selection: null }),
      ...(state.place ? {} : { placed: null }),
    });
    view.moveView(state.view);
    if (!state.dataset) panel.closePanel();
    showMap();
  });
}

/**
 * Keep the phone legend in step with the map: shown when the plot is too narrow for Plotly's.
 */
function bindLegend() {
  const node = byId('map-legend');
  const map = byId('map');
  let key = '';
  const update = () => {
    const { model, state } = store.get();
    const shown = model !== null && map.getBoundingClientRect().width < COMPACT_WIDTH_PX;
    const roles = currentHighlights().roles;
    const groups = shown && model && roles.size === 0 ? colorGroups(model, state.color).groups : [];
    const entries = shown ? legendEntries(roles, groups) : [];
    const next = JSON.stringify([shown, entries]);
    if (next !== key) renderLegend(node, entries, shown);
    key = next;
  };
  store.subscribe(update);
  new ResizeObserver(update).observe(map);
}

/** Start the page. */
function init() {
  plotlyReady.then(() => {
    // plotly.js is loaded and has run by now; benchmarks/page.py reads this mark.
    performance.mark(START_MARK);
    if (!plotly())
      showNotice('Plotly did not load', ['The page needs vendor/plotly-gl2d.min.js from the server.']);
  });
  // On a phone the controls start folded so the map gets the screen.
  if (window.matchMedia(NARROW_QUERY).matches)
    /** @type {HTMLDetailsElement} */ (byId('controls')).open = false;
  bindFilters(onFilterChange);
  bindSearch((id) => select(id, { push: true, zoom: true, focus: true }));
  bindPlace(() => store.get().state.relation, onPlaced);
  bindNavigation();
  bindLegend();
  byId('panel-close').addEventListener('click', clearSelection);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !byId('panel').hidden && !document.querySelector('dialog[open]'))
      clearSelection();
  });
  watchJobs((job) => {
    if (job.kind === 'train' && job.status === 'succeeded') {
      store.set({ model: null });
      showMap();
    }
  });
  showMap();
}

init();

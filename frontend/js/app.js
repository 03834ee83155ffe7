// @ts-nocheck
/**
 * Wiring: events → state → API → map view and panel.
 *
 * Plotly is the global `window.Plotly` from vendor/plotly.min.js (served from the plotly
 * wheel). That script is deferred and this module async (index.html), so this module usually
 * starts first: it fetches the map while plotly.js downloads and runs, and the map view waits
 * for `plotlyReady` before its first draw. Everything a link should carry lives in
 * `app.state` and the URL query string.
 */

import { getLabelPoints, getMapBoxes, listMaps, searchDatasets } from './api.js';
import { buildModel, frameBox, frameCorners } from './boxes.js';
import { byId, clear, el } from './dom.js';
import { exportRelatedCsv } from './export.js';
import { bindFilters, syncFilters } from './filters.js';
import { watchJobs } from './jobs.js';
import { createMapView } from './mapview.js';
import { mapChoices, mapLabel, pickMap } from './maps.js';
import { emptyMapText, hideNotice, showNotice } from './notice.js';
import * as panel from './panel.js';
import { renderLasso, renderPlaced } from './related.js';
import { bindPlace } from './place.js';
import { BOXES_LOADED_MARK, takePrefetched } from './prefetch.js';
import { bindSearch } from './search.js';
import { HIGHLIGHT_K, fetchSelection } from './selection.js';
import { RELATIONS, readLocation, writeLocation } from './state.js';

const NARROW_QUERY = '(max-width: 760px)';
const START_MARK = 'atlas:start';

/**
 * Settles once the deferred plotly.min.js has run (or failed): deferred scripts run before
 * DOMContentLoaded, and this async module may start before or after that event.
 */
const plotlyReady = new Promise((resolve) => {
  // readyState turns 'interactive' before deferred scripts run, so only 'complete' (or plotly
  // itself) proves they have; `load` covers a plotly.js that failed after DOMContentLoaded.
  if (window.Plotly || document.readyState === 'complete') resolve();
  else {
    document.addEventListener('DOMContentLoaded', () => resolve(), { once: true });
    window.addEventListener('load', () => resolve(), { once: true });
  }
});

const app = {
  state: readLocation(),
  maps: [],
  model: null,
  selection: null,
  selectionToken: 0,
  placed: null,
  labelPoints: null,
};

const view = createMapView(app, {
  click: (id) => select(id, { push: true }),
  lasso: (ids) =>
    renderLasso(panel.openPanel(`${ids.length} datasets in the lasso`), ids, {
      select: (id) => select(id, { push: true, focus: true }),
    }),
  roles: currentRoles,
}, plotlyReady);

/**
 * Which boxes to highlight: the selection's related boxes, else those of a placed label set.
 * @returns {Map<string, string>} Dataset id → role.
 */
function currentRoles() {
  if (app.selection && app.selection.id === app.state.dataset) return app.selection.roles;
  if (app.placed && !app.state.dataset) return app.placed.roles;
  return new Map();
}

/**
 * Select a dataset: highlight its related boxes and fill the panel.
 * @param {string} id - The dataset id.
 * @param {{push?: boolean, zoom?: boolean, focus?: boolean}} opts - Add a history entry;
 *   zoom the map to it; move keyboard focus to the panel.
 */
async function select(id, opts = {}) {
  const token = ++app.selectionToken;
  app.state.dataset = id;
  writeLocation(app.state, Boolean(opts.push));
  panel.showLoading(id);
  const model = app.model;
  const index = model ? model.indexById.get(id) : undefined;
  if (opts.zoom && index !== undefined) view.moveView(frameBox(model, index));
  try {
    const mapped = new Set(RELATIONS.filter((r) => mapChoices(app.maps, r).length > 0));
    const loaded = await fetchSelection(id, app.state.relation, mapped);
    if (token !== app.selectionToken) return;
    app.selection = { id, ...loaded };
    view.render();
    showLabelPoints(id, token);
    const body = panel.openPanel(loaded.dataset.id, loaded.dataset.pretty_name || undefined);
    panel.renderDataset(
      body,
      loaded.dataset,
      loaded.lists,
      { onMap: index !== undefined, mapLabel: model ? mapLabel(model.map) : 'this map' },
      {
        select: (other) => select(other, { push: true, zoom: true, focus: true }),
        zoom: () => view.moveView(frameBox(app.model, app.model.indexById.get(id))),
        exportCsv: () => exportRelatedCsv(id, loaded.lists),
      },
    );
    if (opts.focus) panel.focusPanel();
  } catch (err) {
    if (token !== app.selectionToken) return;
    panel.showError(
      id,
      err.status === 404 ? `No dataset “${id}” in the database.` : `Could not load it: ${err.message}`,
    );
  }
}

/**
 * On a map drawn by the label-set model, draw the selected dataset's classes as points
 * inside its box (fetched after the panel: the lists come first).
 * @param {string} id - The selected dataset.
 * @param {number} token - The selection it belongs to.
 */
async function showLabelPoints(id, token) {
  const model = app.model;
  const map = model && model.map;
  if (!map || !map.params || map.params.model !== 'set' || !model.indexById.has(id)) return;
  try {
    const points = await getLabelPoints(map.id, id);
    if (token !== app.selectionToken || app.model !== model) return;
    app.labelPoints = { mapId: map.id, id, labels: points.labels, points: points.points };
    view.render();
  } catch {
    // Optional detail: the box and the lists are already shown.
  }
}

/** Clear the selection (and a placed box) and close the panel. */
function clearSelection() {
  app.selectionToken += 1;
  app.selection = null;
  app.placed = null;
  app.labelPoints = null;
  app.state.dataset = null;
  writeLocation(app.state, true);
  panel.closePanel();
  view.render();
}

/**
 * Show a placed label set: its dashed box, its related boxes highlighted, and their lists.
 * @param {object} result - PlacePublic.
 * @param {string[]} labels - The labels sent.
 */
function onPlaced(result, labels) {
  const roles = new Map();
  for (const item of result.contained_in.slice(0, HIGHLIGHT_K)) roles.set(item.id, 'container');
  for (const item of result.contains.slice(0, HIGHLIGHT_K))
    if (!roles.has(item.id)) roles.set(item.id, 'contained');
  const box = app.model ? placedBoxIn(result, app.model.map.id) : null;
  app.placed = { result, labels, roles, box, mapId: app.model ? app.model.map.id : null };
  app.selectionToken += 1;
  app.selection = null;
  app.state.dataset = null;
  writeLocation(app.state, true);
  const drawn = box !== null;
  const body = panel.openPanel(
    'Your dataset',
    `${labels.length.toLocaleString('en-US')} labels · predicted box`,
  );
  renderPlaced(
    body,
    result,
    { labels: labels.length, drawn, mapLabel: app.model ? mapLabel(app.model.map) : 'none' },
    {
      select: (id) => select(id, { push: true, zoom: true, focus: true }),
    },
  );
  if (drawn) view.moveView(frameCorners(app.model, box));
  else view.render();
  panel.focusPanel();
}

/**
 * The predicted box in the map on screen: `boxes` holds it per published map; `box` is the
 * one of the map that gave the scores.
 * @param {object} result - PlacePublic.
 * @param {number} mapId - The drawn map.
 * @returns {{lo: number[], hi: number[]}|null} The box, or null when not predicted there.
 */
function placedBoxIn(result, mapId) {
  const box = result.boxes && result.boxes[String(mapId)];
  if (box) return box;
  return result.map.id === mapId ? result.box : null;
}

/** Fill the map menu and the relation toggle from state. */
function syncMapMenu() {
  const menu = /** @type {HTMLSelectElement} */ (byId('map-select'));
  clear(menu);
  const choices = mapChoices(app.maps, app.state.relation);
  for (const m of choices)
    menu.append(
      el('option', {
        text: `${m.dim}-D · ${m.representation}${m.status === 'published' ? '' : ` (${m.status})`}`,
        attrs: { value: m.id },
      }),
    );
  if (!choices.length) menu.append(el('option', { text: 'none trained', attrs: { value: '' } }));
  menu.disabled = choices.length < 2;
  menu.value = app.model ? app.model.map.id : '';
  for (const input of document.querySelectorAll('input[name="relation"]'))
    input.checked = input.value === app.state.relation;
}

/**
 * Show the empty state for a relation with no map.
 * @returns {Promise<void>} Settles when shown.
 */
async function showEmpty() {
  app.model = null;
  syncMapMenu();
  writeLocation(app.state, false);
  await view.clear();
  const total = await searchDatasets({ limit: 1 }).then(
    (r) => r.total,
    () => null,
  );
  const { title, paragraphs } = emptyMapText(app.state.relation, total);
  showNotice(title, paragraphs);
  byId('map-status').textContent = '';
  // The panel stays useful without a map: refresh its lists for the new relation.
  if (app.state.dataset) await select(app.state.dataset, {});
}

/** Load the map list and draw the map the state asks for (or an empty state). */
async function showMap() {
  try {
    const early = await takePrefetched(); // the first call gets what prefetch.js loaded
    app.maps = (early ? early.maps : await listMaps()).items;
    const map = pickMap(app.maps, app.state.relation, app.state.map);
    if (!map) {
      await showEmpty();
      return;
    }
    if (app.state.map && app.state.map !== String(map.id)) app.state.map = null;
    if (early && early.model && early.model.map.id === map.id) app.model = early.model;
    else if (!app.model || app.model.map.id !== map.id) {
      showNotice('Loading the map…', []);
      app.model = buildModel(await getMapBoxes(map.id));
      performance.mark(BOXES_LOADED_MARK);
    }
    hideNotice();
    syncMapMenu();
    syncFilters(app.state, app.model);
    writeLocation(app.state, false);
    view.render();
    if (app.state.dataset && (!app.selection || app.selection.id !== app.state.dataset)) {
      await select(app.state.dataset, { zoom: !app.state.view });
    }
  } catch (err) {
    showNotice('The map could not be loaded', [
      err.message,
      'Check that the server is running (`task2box serve`), then reload.',
    ]);
  }
}

/**
 * Apply a change from the filter and display controls.
 * @param {Partial<import('./state.js').PageState>} patch - Changed fields.
 */
function onFilterChange(patch) {
  Object.assign(app.state, patch);
  writeLocation(app.state, false);
  if (app.model) syncFilters(app.state, app.model);
  view.render();
}

/** Wire the relation toggle, the map menu and the browser's back/forward. */
function bindNavigation() {
  for (const input of document.querySelectorAll('input[name="relation"]')) {
    input.addEventListener('change', () => {
      Object.assign(app.state, { relation: input.value, map: null, view: null });
      app.selection = null;
      showMap();
    });
  }
  byId('map-select').addEventListener('change', (event) => {
    Object.assign(app.state, { map: event.target.value || null, view: null });
    showMap();
  });
  window.addEventListener('popstate', () => {
    app.state = readLocation();
    view.moveView(app.state.view);
    if (!app.state.dataset) {
      app.selection = null;
      panel.closePanel();
    }
    showMap();
  });
}

/** Start the page. */
function init() {
  plotlyReady.then(() => {
    // plotly.js is loaded and has run by now; benchmarks/page.py reads this mark.
    performance.mark(START_MARK);
    if (!window.Plotly)
      showNotice('Plotly did not load', ['The page needs vendor/plotly.min.js from the server.']);
  });
  // On a phone the controls start folded so the map gets the screen.
  if (window.matchMedia(NARROW_QUERY).matches) byId('controls').open = false;
  bindFilters(onFilterChange);
  bindSearch((id) => select(id, { push: true, zoom: true, focus: true }));
  bindPlace(() => app.state.relation, onPlaced);
  bindNavigation();
  byId('panel-close').addEventListener('click', clearSelection);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !byId('panel').hidden && !document.querySelector('dialog[open]'))
      clearSelection();
  });
  watchJobs((job) => {
    if (job.kind === 'train' && job.status === 'succeeded') {
      app.model = null;
      showMap();
    }
  });
  showMap();
}

init();

/**
 * Wiring: events → state → API → pure trace builders → Plotly.react.
 *
 * Plotly is the global `window.Plotly` from /vendor/plotly.min.js (served from the plotly
 * wheel). All page state that a link should carry lives in `app.state` and the URL.
 */

import { getHealth, getMapBoxes, listMaps, searchDatasets } from './api.js';
import { buildModel, frameBox, frameCorners, passesFilters, selectVisible, zoomFactor } from './boxes.js';
import { colorGroups } from './colors.js';
import { byId, clear, el } from './dom.js';
import { exportRelatedCsv } from './export.js';
import { bindFilters, syncFilters } from './filters.js';
import { watchJobs } from './jobs.js';
import { mapChoices, mapLabel, pickMap } from './maps.js';
import { emptyMapText, hideNotice, showNotice } from './notice.js';
import * as panel from './panel.js';
import { bindPlace } from './place.js';
import { PLOT_CONFIG, buildLayout, buildTraces } from './plot.js';
import { bindSearch } from './search.js';
import { HIGHLIGHT_K, fetchSelection } from './selection.js';
import { readLocation, writeLocation } from './state.js';

const VIEW_SETTLE_MS = 120;
const NARROW_QUERY = '(max-width: 760px)';
const LEGEND_TITLES = { license: 'Colour: license', size: 'Colour: size', classes: 'Colour: classes' };

const app = {
  state: readLocation(),
  maps: [],
  model: null,
  colors: null,
  selection: null,
  selectionToken: 0,
  placed: null,
  viewKey: 0,
  limit: -1,
  listening: false,
  size: null,
};

/** @returns {HTMLElement & {on?: Function, layout?: any}} The Plotly graph div. */
const graph = () => byId('map');

let plotChain = Promise.resolve();
let drawPending = false;

/**
 * Run Plotly calls one at a time: a resize landing in the middle of a react breaks Plotly.
 * @param {() => unknown} fn - The call.
 * @returns {Promise<void>} Settles when it has run.
 */
function queuePlot(fn) {
  plotChain = plotChain.then(fn).then(() => undefined, (err) => {
    showNotice('The map could not be drawn', [String(err && err.message ? err.message : err)]);
  });
  return plotChain;
}

/** Redraw the map from state; calls made while a draw is queued collapse into one. */
function render() {
  if (drawPending) return;
  drawPending = true;
  queuePlot(() => {
    drawPending = false;
    return draw();
  });
}

/**
 * Build traces from the current state and hand them to Plotly.
 * @returns {Promise<unknown>|undefined} Plotly's promise.
 */
function draw() {
  const model = app.model;
  if (!model) return;
  const { state } = app;
  if (!app.colors || app.colors.mode !== state.color) app.colors = { mode: state.color, ...colorGroups(model, state.color) };
  const visible = selectVisible(model.rank, state.top, zoomFactor(model.bounds, state.view));
  app.limit = visible.limit;
  const placedBox = app.placed && app.placed.result.map.id === model.map.id ? app.placed.result.box : null;
  const scene = {
    ...visible,
    colors: app.colors,
    passes: (i) => passesFilters(model, i, state),
    roles: currentRoles(),
    placed: placedBox,
  };
  const { traces, drawn, layers } = buildTraces(model, scene);
  const layout = buildLayout(model, { view: state.view, legendTitle: LEGEND_TITLES[state.color], viewKey: `v${app.viewKey}` });
  const gd = graph();
  // An explicit size (not Plotly's autosize) keeps every resize inside this serialized queue.
  const box = gd.getBoundingClientRect();
  app.size = { width: Math.max(200, Math.floor(box.width)), height: Math.max(200, Math.floor(box.height)) };
  Object.assign(layout, { autosize: false }, app.size);
  gd.dataset.drawn = String(drawn.length);
  gd.dataset.mapSize = String(model.n);
  const fading = (layers.get('fading') || []).length;
  const full = drawn.length - fading;
  const hidden = (layers.get('filtered') || []).length;
  byId('map-status').textContent = [
    `Showing ${full.toLocaleString('en-US')} of ${model.n.toLocaleString('en-US')} datasets${full < model.n ? ', most downloaded first' : ''}`,
    fading ? `${fading.toLocaleString('en-US')} more fading in (zoom in)` : '',
    hidden ? `${hidden.toLocaleString('en-US')} filtered out` : '',
    mapLabel(model.map),
  ].filter(Boolean).join(' · ');
  return window.Plotly.react(gd, traces, layout, PLOT_CONFIG).then(listen);
}

/**
 * Which boxes to highlight: the selection's related boxes, else those of a placed label set.
 * @returns {Map<string, string>} Dataset id → role.
 */
function currentRoles() {
  if (app.selection && app.selection.id === app.state.dataset) return app.selection.roles;
  if (app.placed && !app.state.dataset) return app.placed.roles;
  return new Map();
}

/** Attach Plotly's events once the graph exists. */
function listen() {
  const gd = graph();
  if (app.listening || !gd.on) return;
  app.listening = true;
  gd.on('plotly_click', (event) => {
    const id = event && event.points && event.points[0] && event.points[0].customdata;
    if (typeof id === 'string') select(id, { push: true });
  });
  gd.on('plotly_relayout', onRelayout);
  gd.on('plotly_doubleclick', () => moveView(null));
  gd.on('plotly_selected', (event) => {
    const ids = event && event.points ? event.points.map((p) => p.customdata).filter((id) => typeof id === 'string') : [];
    if (ids.length) panel.renderLasso(panel.openPanel(`${ids.length} datasets in the lasso`), ids, { select: (id) => select(id, { push: true, focus: true }) });
  });
  let resizeTimer = null;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const box = gd.getBoundingClientRect();
      if (app.size && (Math.floor(box.width) !== app.size.width || Math.floor(box.height) !== app.size.height)) render();
    }, 60);
  }).observe(gd);
}

let settle = null;
/**
 * Keep the URL's viewport in step with pan/zoom, and admit more boxes when zoomed in.
 * @param {Record<string, unknown>} event - Plotly's changed layout keys.
 */
function onRelayout(event) {
  // Resizes and legend clicks relayout too; only axis changes move the view.
  if (!event || !Object.keys(event).some((key) => /^[xy]axis\.(range|autorange)/.test(key))) return;
  clearTimeout(settle);
  settle = setTimeout(() => {
    const layout = graph().layout;
    if (!layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.range || !layout.yaxis.range) return;
    const [x0, x1] = layout.xaxis.range.map(Number);
    const [y0, y1] = layout.yaxis.range.map(Number);
    if (![x0, x1, y0, y1].every(Number.isFinite)) return;
    app.state.view = { x0, x1, y0, y1 };
    writeLocation(app.state, false);
    const visible = selectVisible(app.model.rank, app.state.top, zoomFactor(app.model.bounds, app.state.view));
    if (visible.limit !== app.limit) render();
  }, VIEW_SETTLE_MS);
}

/**
 * Move the view from code (search, "zoom to box", reset); null shows the whole map.
 * @param {import('./boxes.js').Bounds|null} view - The new ranges.
 */
function moveView(view) {
  app.state.view = view;
  app.viewKey += 1;
  writeLocation(app.state, false);
  render();
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
  if (opts.zoom && index !== undefined) moveView(frameBox(model, index));
  try {
    const mapped = new Set(['containment', 'transfer'].filter((r) => mapChoices(app.maps, r).length > 0));
    const loaded = await fetchSelection(id, app.state.relation, mapped);
    if (token !== app.selectionToken) return;
    app.selection = { id, ...loaded };
    render();
    const body = panel.openPanel(loaded.dataset.id, loaded.dataset.pretty_name || undefined);
    panel.renderDataset(body, loaded.dataset, loaded.lists, { onMap: index !== undefined, mapLabel: model ? mapLabel(model.map) : 'this map' }, {
      select: (other) => select(other, { push: true, zoom: true, focus: true }),
      zoom: () => moveView(frameBox(app.model, app.model.indexById.get(id))),
      exportCsv: () => exportRelatedCsv(id, loaded.lists),
    });
    if (opts.focus) panel.focusPanel();
  } catch (err) {
    if (token !== app.selectionToken) return;
    panel.showError(id, err.status === 404 ? `No dataset “${id}” in the database.` : `Could not load it: ${err.message}`);
  }
}

/** Clear the selection (and a placed box) and close the panel. */
function clearSelection() {
  app.selectionToken += 1;
  app.selection = null;
  app.placed = null;
  app.state.dataset = null;
  writeLocation(app.state, true);
  panel.closePanel();
  render();
}

/**
 * Show a placed label set: its dashed box and related lists.
 * @param {object} result - PlacePublic.
 * @param {string[]} labels - The labels sent.
 */
function onPlaced(result, labels) {
  const roles = new Map();
  for (const item of result.contained_in.slice(0, HIGHLIGHT_K)) roles.set(item.id, 'container');
  for (const item of result.contains.slice(0, HIGHLIGHT_K)) if (!roles.has(item.id)) roles.set(item.id, 'contained');
  app.placed = { result, labels, roles };
  app.selectionToken += 1;
  app.selection = null;
  app.state.dataset = null;
  writeLocation(app.state, true);
  const drawn = Boolean(app.model) && result.map.id === app.model.map.id;
  const body = panel.openPanel('Your dataset', `${labels.length.toLocaleString('en-US')} labels · predicted box`);
  panel.renderPlaced(body, result, { labels: labels.length, drawn, mapLabel: app.model ? mapLabel(app.model.map) : 'none' }, {
    select: (id) => select(id, { push: true, zoom: true, focus: true }),
  });
  if (drawn) moveView(frameCorners(app.model, result.box));
  else render();
  panel.focusPanel();
}

/** Fill the map menu for the current relation. */
function syncMapMenu() {
  const menu = /** @type {HTMLSelectElement} */ (byId('map-select'));
  clear(menu);
  const choices = mapChoices(app.maps, app.state.relation);
  for (const m of choices) menu.append(el('option', { text: `${m.dim}-D · ${m.representation}${m.status === 'published' ? '' : ` (${m.status})`}`, attrs: { value: m.id } }));
  if (!choices.length) menu.append(el('option', { text: 'none trained', attrs: { value: '' } }));
  menu.disabled = choices.length < 2;
  menu.value = app.model ? app.model.map.id : '';
  for (const input of document.querySelectorAll('input[name="relation"]')) input.checked = input.value === app.state.relation;
}

/** Load the map list and draw the map the state asks for (or an empty state). */
async function showMap() {
  try {
    const [maps] = await Promise.all([listMaps(), getHealth()]);
    app.maps = maps.items;
    const map = pickMap(app.maps, app.state.relation, app.state.map);
    if (!map) {
      app.model = null;
      syncMapMenu();
      await queuePlot(() => window.Plotly.purge(graph()));
      app.listening = false;
      const total = await searchDatasets({ limit: 1 }).then((r) => r.total, () => null);
      const { title, paragraphs } = emptyMapText(app.state.relation, total);
      showNotice(title, paragraphs);
      byId('map-status').textContent = '';
      return;
    }
    if (app.state.map && app.state.map !== map.id) app.state.map = null;
    if (!app.model || app.model.map.id !== map.id) {
      showNotice('Loading the map…', []);
      app.model = buildModel(await getMapBoxes(map.id));
      app.colors = null;
    }
    hideNotice();
    syncMapMenu();
    syncFilters(app.state, app.model);
    writeLocation(app.state, false);
    render();
    if (app.state.dataset && (!app.selection || app.selection.id !== app.state.dataset)) {
      await select(app.state.dataset, { zoom: !app.state.view });
    }
  } catch (err) {
    showNotice('The map could not be loaded', [err.message, 'Check that the server is running (`task2box serve`), then reload.']);
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
  render();
}

/** Start the page. */
function init() {
  if (!window.Plotly) {
    showNotice('Plotly did not load', ['The page needs /vendor/plotly.min.js from the server.']);
    return;
  }
  // On a phone the controls start folded so the map gets the screen.
  if (window.matchMedia(NARROW_QUERY).matches) byId('controls').open = false;
  bindFilters(onFilterChange);
  bindSearch((id) => select(id, { push: true, zoom: true, focus: true }));
  bindPlace(() => app.state.relation, onPlaced);
  byId('panel-close').addEventListener('click', clearSelection);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !byId('panel').hidden && !document.querySelector('dialog[open]')) clearSelection();
  });
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
    app.viewKey += 1;
    if (!app.state.dataset) {
      app.selection = null;
      panel.closePanel();
    }
    showMap();
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

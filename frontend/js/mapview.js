// @ts-check
/**
 * The map view: turns the page (store.js state) into Plotly calls, and Plotly events into
 * callbacks. It redraws when a change it draws arrives from the store; the viewport it writes
 * back through the store, as pan and zoom move it.
 *
 * Every Plotly call goes through one queue, so a resize never lands in the middle of a
 * react (Plotly breaks when two overlap). The graph gets an explicit size instead of
 * Plotly's autosize for the same reason. Expected DOM: div#map and p#map-status.
 */

import {
  CULL_MARGIN,
  boxesInRegion,
  expandView,
  passesFilters,
  regionContains,
  selectVisible,
  zoomFactor,
} from './boxes.js';
import { colorGroups } from './colors.js';
import { byId } from './dom.js';
import { mapLabel, mapTrust } from './maps.js';
import { showNotice } from './notice.js';
import { buildLayout, dataPerPixel, plotConfig } from './layout.js';
import { buildTraces } from './plot.js';
import { plotly } from './plotly.js';
import { attachWheelZoom } from './wheelzoom.js';

// Plotly reports a wheel zoom 50 ms after the last wheel event; waiting this much longer before
// redrawing keeps a burst of notches (or a slow frame between them) from redrawing mid-burst.
const VIEW_SETTLE_MS = 200;
// A wheel burst is drawn as a transform of the canvas (wheelzoom.js) until the wheel has been
// still this long; then one relayout draws the new view.
const WHEEL_SETTLE_MS = 120;
const RESIZE_SETTLE_MS = 60;
const MIN_PLOT_PX = 200;
/** User Timing mark set after the first draw; benchmarks/page.py reads it. */
export const FIRST_RENDER_MARK = 'atlas:first-render';
/** @type {Record<string, string>} */
const LEGEND_TITLES = { license: 'Colour: license', size: 'Colour: size', classes: 'Colour: classes' };
/** The state fields the drawing depends on; the view is the map view's own business. */
const DRAWN_STATE = /** @type {const} */ (['license', 'minClasses', 'maxClasses', 'minExamples', 'top', 'color']);
/** The loaded page fields the drawing depends on. */
const DRAWN_PAGE = /** @type {const} */ (['model', 'selection', 'placed', 'labelPoints']);

/**
 * @typedef {object} MapViewHandlers
 * @property {(id: string) => void} click - A box centre was clicked.
 * @property {(ids: string[]) => void} lasso - Box centres were lassoed.
 * @property {() => Map<string, string>} roles - Current highlights (id → role).
 */

/**
 * @returns {import('./plotly.js').PlotlyGraph} The Plotly graph div.
 */
function graph() {
  return byId('map');
}

/**
 * Whether a change in the store alters the picture. A new viewport does not: the map view
 * moves it itself (and redraws then if more boxes are admitted).
 * @param {Readonly<import('./state.js').Page>} page - The page now.
 * @param {Readonly<import('./state.js').Page>} previous - The page before the change.
 * @returns {boolean} True when the map must be drawn again.
 */
export function changesDrawing(page, previous) {
  return (
    DRAWN_PAGE.some((key) => page[key] !== previous[key]) ||
    DRAWN_STATE.some((key) => page.state[key] !== previous.state[key])
  );
}

/**
 * The plot area's size in screen pixels: Plotly's drag rectangle once drawn (it includes the
 * margins Plotly grew for the legend), else the figure less the layout's margins.
 * @param {HTMLElement} gd - The graph div.
 * @param {{width: number, height: number, margin: {l: number, r: number, t: number, b: number}}} layout
 *   The layout about to be drawn.
 * @returns {{width: number, height: number}} The plot area.
 */
function plotArea(gd, layout) {
  const drag = gd.querySelector('.nsewdrag');
  const rect = drag ? drag.getBoundingClientRect() : null;
  if (rect && rect.width > 0 && rect.height > 0) return { width: rect.width, height: rect.height };
  const { l, r, t, b } = layout.margin;
  return { width: layout.width - l - r, height: layout.height - t - b };
}

/**
 * The status line under the map.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {number} drawn - Boxes drawn.
 * @param {Map<string, number[]>} layers - Layer of each drawn box.
 * @returns {string} e.g. "Showing 500 of 10,000 datasets, most downloaded first · ...".
 */
function statusText(model, drawn, layers) {
  const fading = (layers.get('fading') || []).length;
  const full = drawn - fading;
  const hidden = (layers.get('filtered') || []).length;
  return [
    `Showing ${full.toLocaleString('en-US')} of ${model.n.toLocaleString('en-US')} datasets${full < model.n ? ', most downloaded first' : ''}`,
    fading ? `${fading.toLocaleString('en-US')} more fading in (zoom in)` : '',
    hidden ? `${hidden.toLocaleString('en-US')} filtered out` : '',
    mapLabel(model.map),
    mapTrust(model.map),
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Create the view over the page's store.
 * @param {import('./state.js').Store} store - The page (read on every draw; the viewport is
 *   written through it on pan and zoom).
 * @param {MapViewHandlers} handlers - Callbacks.
 * @param {Promise<void>} [ready] - Settles once plotly.js has loaded; no Plotly call runs before.
 * @returns {{render: () => void, moveView: (view: import('./boxes.js').Bounds|null) => void,
 *   clear: () => Promise<void>}} Control for the page.
 */
export function createMapView(store, handlers, ready = Promise.resolve()) {
  let plotChain = ready;
  let drawPending = false;
  let listening = false;
  let limit = -1;
  /** @type {import('./boxes.js').Bounds|null} */
  let drawnRegion = null; // the widened view boxes were culled to (null: not culled)
  /** @type {{width: number, height: number}|null} */
  let size = null;
  let viewKey = 0;
  /** @type {({model: import('./boxes.js').BoxModel, mode: string} & ReturnType<typeof colorGroups>)|null} */
  let colors = null;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let settle;
  /** @type {ResizeObserver|null} */
  let observer = null;

  /**
   * Run Plotly calls one at a time.
   * @param {() => unknown} fn - The call.
   * @returns {Promise<void>} Settles when it has run.
   */
  const queuePlot = (fn) => {
    plotChain = plotChain.then(fn).then(
      () => undefined,
      (err) => {
        showNotice('The map could not be drawn', [String(err && err.message ? err.message : err)]);
      },
    );
    return plotChain;
  };

  /**
   * Build traces from the current page and hand them to Plotly.
   * @returns {Promise<void>|undefined} Settles when drawn.
   */
  const draw = () => {
    const page = store.get();
    const { model, state } = page;
    const Plotly = plotly();
    if (!model || !Plotly) return undefined; // no plotly: init() says so
    if (!colors || colors.model !== model || colors.mode !== state.color)
      colors = { model, mode: state.color, ...colorGroups(model, state.color) };
    const visible = selectVisible(model.rank, state.top, zoomFactor(model.bounds, state.view));
    limit = visible.limit;
    drawnRegion = state.view ? expandView(state.view, CULL_MARGIN) : null;
    if (drawnRegion) {
      visible.shown = boxesInRegion(model, visible.shown, drawnRegion);
      visible.fading = boxesInRegion(model, visible.fading, drawnRegion);
    }
    const placed = page.placed && page.placed.mapId === model.map.id ? page.placed.box : null;
    const points = page.labelPoints;
    const labelPoints =
      points && points.mapId === model.map.id && points.id === state.dataset ? points : null;
    const roles = handlers.roles();
    const gd = graph();
    const box = gd.getBoundingClientRect();
    const drawnSize = {
      width: Math.max(MIN_PLOT_PX, Math.floor(box.width)),
      height: Math.max(MIN_PLOT_PX, Math.floor(box.height)),
    };
    size = drawnSize;
    const legendTitle = roles.size ? 'Highlighted' : LEGEND_TITLES[state.color];
    const layout = buildLayout(model, { view: state.view, legendTitle, viewKey: `v${viewKey}`, ...drawnSize });
    Object.assign(layout, { autosize: false }, drawnSize);
    const scene = {
      ...visible,
      colors,
      /** @param {number} i - A box index. @returns {boolean} Whether it passes the filters. */
      passes: (i) => passesFilters(model, i, state),
      roles,
      placed,
      labelPoints,
      pixel: dataPerPixel(state.view || model.bounds, plotArea(gd, { margin: layout.margin, ...drawnSize })),
    };
    const { traces, drawn, layers } = buildTraces(model, scene);
    gd.dataset.drawn = String(drawn.length);
    gd.dataset.mapSize = String(model.n);
    byId('map-status').textContent = statusText(model, drawn.length, layers);
    return Plotly.react(gd, traces, layout, plotConfig(window.devicePixelRatio)).then(() => {
      if (!performance.getEntriesByName(FIRST_RENDER_MARK).length) performance.mark(FIRST_RENDER_MARK);
      listen();
    });
  };

  /** Redraw from the page; calls made while a draw is queued collapse into one. */
  const render = () => {
    if (drawPending) return;
    drawPending = true;
    queuePlot(() => {
      drawPending = false;
      return draw();
    });
  };

  /**
   * Move the view from code (search, "zoom to box", reset); null shows the whole map.
   * @param {import('./boxes.js').Bounds|null} view - The new ranges.
   */
  const moveView = (view) => {
    viewKey += 1; // a new axis uirevision makes Plotly take these ranges over the user's
    store.set({ state: { view } });
    render();
  };

  /**
   * Keep the URL's viewport in step with pan/zoom, and admit more boxes when zoomed in.
   * @param {Record<string, unknown>} event - Plotly's changed layout keys.
   */
  const onRelayout = (event) => {
    // Legend clicks and size changes relayout too; only axis changes move the view.
    if (!event || !Object.keys(event).some((key) => /^[xy]axis\.(range|autorange)/.test(key))) return;
    clearTimeout(settle);
    settle = setTimeout(() => {
      const layout = graph().layout;
      const { model } = store.get();
      if (!model || !layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.range || !layout.yaxis.range)
        return;
      const [x0, x1] = layout.xaxis.range.map(Number);
      const [y0, y1] = layout.yaxis.range.map(Number);
      if (![x0, x1, y0, y1].every(Number.isFinite)) return;
      const view = { x0, x1, y0, y1 };
      store.set({ state: { view } });
      const admitted = selectVisible(model.rank, store.get().state.top, zoomFactor(model.bounds, view));
      if (admitted.limit !== limit || (drawnRegion && !regionContains(drawnRegion, view))) render();
    }, VIEW_SETTLE_MS);
  };

  /** Attach Plotly's events once the graph exists. */
  const listen = () => {
    const gd = graph();
    if (listening || !gd.on) return;
    listening = true;
    gd.on('plotly_click', (event) => {
      const id = event && event.points && event.points[0] && event.points[0].customdata;
      if (typeof id === 'string') handlers.click(id);
    });
    gd.on('plotly_relayout', onRelayout);
    attachWheelZoom(gd, {
      settleMs: WHEEL_SETTLE_MS,
      commit: (r) =>
        queuePlot(() => {
          const Plotly = plotly();
          return Plotly && Plotly.relayout(gd, { 'xaxis.range': [r.x0, r.x1], 'yaxis.range': [r.y0, r.y1] });
        }),
    });
    gd.on('plotly_doubleclick', () => moveView(null));
    gd.on('plotly_selected', (event) => {
      /** @type {Array<{customdata?: unknown}>} */
      const points = event && event.points ? event.points : [];
      const ids = points.flatMap((p) => (typeof p.customdata === 'string' ? [p.customdata] : []));
      if (ids.length) handlers.lasso(ids);
    });
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    let timer;
    observer = new ResizeObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const box = gd.getBoundingClientRect();
        if (size && (Math.floor(box.width) !== size.width || Math.floor(box.height) !== size.height))
          render();
      }, RESIZE_SETTLE_MS);
    });
    observer.observe(gd);
  };

  /**
   * Remove the plot (no map to show).
   * @returns {Promise<void>} Settles when removed.
   */
  const clear = () =>
    queuePlot(() => {
      const Plotly = plotly();
      if (Plotly) Plotly.purge(graph());
      if (observer) observer.disconnect();
      listening = false;
      size = null;
    });

  store.subscribe((page, previous) => {
    if (changesDrawing(page, previous)) render();
  });

  return { render, moveView, clear };
}

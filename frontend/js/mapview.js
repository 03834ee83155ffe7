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
import { ROLE_STYLES, colorGroups } from './colors.js';
import { DENSITY_CELLS, densityGrid, densityImage, densityPixels, showsDensity } from './density.js';
import { byId } from './dom.js';
import { mapLabel, mapTrust } from './maps.js';
import { showNotice } from './notice.js';
import { buildLayout, dataPerPixel, plotConfig } from './layout.js';
import { labelAnnotations, labelBudget, labelCandidates, placeLabels } from './labels.js';
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
/**
 * User Timing measure of each placement of the names (choosing and placing them, not Plotly's
 * drawing), for `bench page` to read after a zoom.
 */
export const NAMES_MEASURE = 'atlas:names';
/** @type {Record<string, string>} */
const LEGEND_TITLES = { license: 'Colour: license', size: 'Colour: size', classes: 'Colour: classes' };
/** The state fields the drawing depends on; the view is the map view's own business. */
const DRAWN_STATE = /** @type {const} */ ([
  'license',
  'minClasses',
  'maxClasses',
  'minExamples',
  'top',
  'color',
  'onlyRelated',
]);
/** The loaded page fields the drawing depends on. */
const DRAWN_PAGE = /** @type {const} */ (['model', 'selection', 'placed', 'labelPoints']);
/** Names on the map: font, size and padding (the placer measures with the same font). */
const LABEL_FONT = { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 11, padding: 3 };
// A name's box height: the font's line box (about 1.3 em in Plotly's SVG text) with room to
// spare, plus the padding above and below; too tall only spaces names a little more.
const LABEL_HEIGHT = Math.ceil(LABEL_FONT.size * 1.45) + 2 * LABEL_FONT.padding;
const LABEL_TEXT = '#1f2937';
const LABEL_QUIET = '#6b7280';
const OUTLINE_COLOR = '#111827';
/** The density shading's colour (the page's ink, as RGB). */
const DENSITY_RGB = /** @type {[number, number, number]} */ ([55, 65, 81]);
/** Pixels from a centre dot within which Plotly's own hover answers (layout `hoverdistance`). */
const HOVER_PX = 24;

/**
 * @typedef {object} MapViewHandlers
 * @property {(id: string) => void} click - A box centre was clicked.
 * @property {(ids: string[]) => void} lasso - Box centres were lassoed.
 * @property {() => Map<string, string>} roles - Current highlights (id → role).
 * @property {() => Map<string, number>} ranks - Rank badges of the highlights (id → rank).
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
 *   clear: () => Promise<void>, outline: (id: string|null) => void}} Control for the page.
 */
export function createMapView(store, handlers, ready = Promise.resolve()) {
  let plotChain = ready;
  let drawPending = false;
  let listening = false;
  let wired = false;
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
  /** @type {number[]} */
  let hoverable = []; // drawn boxes whose whole area answers to hover
  /** @type {Uint8Array} */
  let nameable = new Uint8Array(0); // 1 for a box that may be named beyond the forced ones
  /** @type {string|null} */
  let outlined = null; // the box outlined while its list row is hovered
  /** @type {{width: number, height: number}|null} */
  let area = null; // the plot area in pixels, as Plotly last laid it out
  /** @type {{model: import('./boxes.js').BoxModel, key: string, image: object}|null} */
  let density = null;
  const measure = textMeasure(`${LABEL_FONT.size}px ${LABEL_FONT.family}`);

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
   * The names to draw in a view: placed without overlaps (labels.js), the selection and its
   * relatives always, then the most downloaded boxes that may be named.
   * @param {import('./boxes.js').Bounds} view - The axis ranges.
   * @param {{width: number, height: number}} plot - The plot area in pixels.
   * @returns {object[]} Plotly annotations.
   */
  const names = (view, plot) => {
    const { model, state } = store.get();
    if (!model) return [];
    const start = performance.now();
    const roles = handlers.roles();
    const ranks = handlers.ranks();
    const related = roles.size > 0;
    const quiet = related && state.onlyRelated;
    const candidates = labelCandidates(model, {
      view,
      area: plot,
      forced: [...roles.keys()],
      ranks,
      eligible: (i) => !quiet && nameable[i] === 1,
      measure,
      lineHeight: LABEL_HEIGHT,
      padding: LABEL_FONT.padding,
    });
    const { labels } = placeLabels(candidates, plot, { maxLabels: labelBudget(plot) });
    const annotations = labelAnnotations(
      labels,
      view,
      plot,
      (label) => {
        const role = roles.get(label.id);
        if (role && ROLE_STYLES[role])
          return { color: ROLE_STYLES[role].color, bgcolor: 'rgba(255,255,255,0.92)', borderwidth: 1 };
        return { color: related ? LABEL_QUIET : LABEL_TEXT, bgcolor: 'rgba(255,255,255,0.72)' };
      },
      LABEL_FONT,
    );
    performance.measure(NAMES_MEASURE, { start, end: performance.now() });
    return annotations;
  };

  /**
   * Place the names again for the view Plotly shows now (after a pan or zoom).
   * @returns {Promise<unknown>|undefined} Settles when drawn.
   */
  const relabel = () => {
    const gd = graph();
    const Plotly = plotly();
    const plot = plotSize(gd);
    const view = shownRanges(gd);
    if (!Plotly || !plot || !view || !store.get().model) return undefined;
    area = plot;
    return Plotly.relayout(gd, { annotations: names(view, plot) });
  };

  /**
   * The density shading under a large map seen from afar (density.js), one image per map
   * and filter setting.
   * @param {import('./boxes.js').BoxModel} model - The boxes.
   * @param {import('./state.js').PageState} state - The filters and view.
   * @param {(i: number) => boolean} passes - Filter test per box.
   * @returns {object[]} Plotly layout images (none for a small map or a close view).
   */
  const densityLayer = (model, state, passes) => {
    if (!showsDensity(model.n, zoomFactor(model.bounds, state.view))) return [];
    const key = [state.license, state.minClasses, state.maxClasses, state.minExamples].join('|');
    if (!density || density.model !== model || density.key !== key) {
      /** @type {number[]} */
      const indices = [];
      for (let i = 0; i < model.n; i += 1) if (passes(i)) indices.push(i);
      const grid = densityGrid(model, indices, model.bounds, DENSITY_CELLS);
      const canvas = document.createElement('canvas');
      canvas.width = grid.cols;
      canvas.height = grid.rows;
      const context = canvas.getContext('2d');
      if (!context) return [];
      context.putImageData(new ImageData(densityPixels(grid, DENSITY_RGB), grid.cols, grid.rows), 0, 0);
      density = { model, key, image: densityImage(canvas.toDataURL('image/png'), grid.region) };
    }
    return [density.image];
  };

  /**
   * The outline of the box whose list row is hovered (none when no row is).
   * @returns {object[]} Plotly layout shapes.
   */
  const outlineShapes = () => {
    const { model } = store.get();
    const i = outlined !== null && model ? model.indexById.get(outlined) : undefined;
    if (!model || i === undefined) return [];
    return [
      {
        type: 'rect',
        name: 'outline',
        xref: 'x',
        yref: 'y',
        x0: model.x0[i],
        x1: model.x1[i],
        y0: model.y0[i],
        y1: model.y1[i],
        line: { color: OUTLINE_COLOR, width: 3 },
        fillcolor: 'rgba(0,0,0,0)',
        layer: 'above',
      },
    ];
  };

  /**
   * Outline a dataset's box (a list row is hovered), or remove the outline (null).
   * @param {string|null} id - The dataset.
   */
  const outline = (id) => {
    if (id === outlined) return;
    outlined = id;
    queuePlot(() => {
      const Plotly = plotly();
      const gd = graph();
      if (!Plotly || !gd.layout) return undefined;
      return Plotly.relayout(gd, { shapes: outlineShapes() });
    });
  };

  /**
   * Show the hover card of the box under the pointer, anywhere in it (Plotly answers only
   * near the centre dots): the smallest drawn box holding the point, the innermost one.
   * Near a dot Plotly's own hover answers, as before.
   * @param {MouseEvent} event - The pointer.
   */
  const hoverBox = (event) => {
    const Plotly = plotly();
    const gd = graph();
    const full = gd._fullLayout;
    const { model } = store.get();
    if (!Plotly || !Plotly.Fx || !model || !full || !full._size || !full.xaxis || !full.yaxis) return;
    const { l, t, w, h } = full._size;
    const rect = gd.getBoundingClientRect();
    const px = event.clientX - rect.left - l;
    const py = event.clientY - rect.top - t;
    if (!(w > 0 && h > 0) || px < 0 || py < 0 || px > w || py > h) return;
    const [x0, x1] = full.xaxis.range.map(Number);
    const [y0, y1] = full.yaxis.range.map(Number);
    const ux = (x1 - x0) / w;
    const uy = (y1 - y0) / h;
    const x = x0 + px * ux;
    const y = y1 - py * uy;
    let best = -1;
    let bestArea = Infinity;
    for (const i of hoverable) {
      const cx = (model.x0[i] + model.x1[i]) / 2;
      const cy = (model.y0[i] + model.y1[i]) / 2;
      if (Math.hypot((cx - x) / ux, (cy - y) / uy) <= HOVER_PX) return; // Plotly's own
      if (x < model.x0[i] || x > model.x1[i] || y < model.y0[i] || y > model.y1[i]) continue;
      const size = (model.x1[i] - model.x0[i]) * (model.y1[i] - model.y0[i]);
      if (size < bestArea) {
        bestArea = size;
        best = i;
      }
    }
    if (best < 0) return;
    Plotly.Fx.hover(gd, {
      xval: (model.x0[best] + model.x1[best]) / 2,
      yval: (model.y0[best] + model.y1[best]) / 2,
    });
  };

  /**
   * Build traces from the current page and hand them to Plotly.
   * @returns {Promise<unknown>|undefined} Settles when drawn.
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
    const related = roles.size > 0;
    Object.assign(scene, {
      onlyRelated: related && state.onlyRelated,
      dense: showsDensity(model.n, zoomFactor(model.bounds, state.view)),
    });
    nameable = new Uint8Array(model.n);
    for (const i of visible.shown) if (scene.passes(i)) nameable[i] = 1;
    const { traces, drawn, layers } = buildTraces(model, scene);
    const filtered = new Set(layers.get('filtered') || []);
    hoverable =
      related && state.onlyRelated
        ? drawn.filter((i) => roles.has(model.ids[i]))
        : drawn.filter((i) => !filtered.has(i));
    const plot = area || plotArea(gd, { margin: layout.margin, ...drawnSize });
    Object.assign(layout, {
      annotations: names(state.view || model.bounds, plot),
      images: densityLayer(model, state, scene.passes),
      shapes: outlineShapes(),
    });
    gd.dataset.drawn = String(drawn.length);
    gd.dataset.mapSize = String(model.n);
    byId('map-status').textContent = statusText(model, drawn.length, layers);
    return Plotly.react(gd, traces, layout, plotConfig(window.devicePixelRatio)).then(() => {
      if (!performance.getEntriesByName(FIRST_RENDER_MARK).length) performance.mark(FIRST_RENDER_MARK);
      listen();
      // The names were placed for the area estimated before drawing; once Plotly has laid
      // the plot out (the legend may take room), place them again if it differs.
      const real = plotSize(gd);
      if (real && (Math.abs(real.width - plot.width) > 1 || Math.abs(real.height - plot.height) > 1))
        return relabel();
      area = real;
      return undefined;
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
      else queuePlot(relabel);
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
    // DOM listeners outlive a purge (the div stays): added once, unlike Plotly's events.
    if (!wired) {
      wired = true;
      // A click anywhere closes the hover card: it would otherwise stay over what the click
      // opened (Plotly keeps it until the pointer moves away from the dot).
      document.addEventListener('click', () => {
        const Plotly = plotly();
        if (Plotly && Plotly.Fx && graph()._fullLayout) Plotly.Fx.unhover(graph());
      });
      let frame = 0;
      gd.addEventListener('mousemove', (event) => {
        if (frame || event.buttons) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          hoverBox(event);
        });
      });
    }
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

  return { render, moveView, clear, outline };
}

/**
 * A text measurer for the names (canvas 2-D `measureText` with the names' font), caching
 * each text's width: a placement measures the same names again and again.
 * @param {string} font - A CSS font shorthand.
 * @returns {(text: string) => number} Width in pixels.
 */
function textMeasure(font) {
  const context = document.createElement('canvas').getContext('2d');
  /** @type {Map<string, number>} */
  const cache = new Map();
  return (text) => {
    let width = cache.get(text);
    if (width === undefined) {
      if (context) {
        context.font = font;
        width = Math.ceil(context.measureText(text).width) + 1;
      } else {
        width = Math.ceil(text.length * 0.62 * 11);
      }
      if (cache.size > 20000) cache.clear();
      cache.set(text, width);
    }
    return width;
  };
}

/**
 * The plot area in pixels as Plotly laid it out, or null before the first draw.
 * @param {import('./plotly.js').PlotlyGraph} gd - The graph div.
 * @returns {{width: number, height: number}|null} The area.
 */
function plotSize(gd) {
  const size = gd._fullLayout && gd._fullLayout._size;
  return size && size.w > 0 && size.h > 0 ? { width: size.w, height: size.h } : null;
}

/**
 * The axis ranges Plotly shows now, or null before the first draw.
 * @param {import('./plotly.js').PlotlyGraph} gd - The graph div.
 * @returns {import('./boxes.js').Bounds|null} The ranges.
 */
function shownRanges(gd) {
  const layout = gd.layout;
  if (!layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.range || !layout.yaxis.range) return null;
  const [x0, x1] = layout.xaxis.range.map(Number);
  const [y0, y1] = layout.yaxis.range.map(Number);
  return [x0, x1, y0, y1].every(Number.isFinite) ? { x0, x1, y0, y1 } : null;
}

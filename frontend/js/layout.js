// @ts-check
/**
 * Pure Plotly layout and config for the map: axes, view ranges, legend, modebar. No DOM.
 */

import { escapeHtml } from './text.js';

// Double-click shows the whole map through the page's own handler (mapview.js), which also
// updates the URL; Plotly's "reset" would return to whatever view the page opened with.
export const PLOT_CONFIG = Object.freeze({
  displaylogo: false,
  showSendToCloud: false,
  scrollZoom: true,
  doubleClick: false,
  modeBarButtonsToRemove: ['select2d', 'autoScale2d', 'resetScale2d', 'toggleSpikelines'],
  toImageButtonOptions: { format: 'png', filename: 'task2box-map', scale: 2 },
});
const LEGEND_GAP_PX = 44;
// Plotly draws WebGL at 2 canvas pixels per CSS pixel by default. Without a GPU (Chromium's
// SwiftShader) every frame's cost grows with the canvas's pixels, and on a 1× screen the extra
// resolution is never seen, so the canvas follows the screen's own ratio (within Plotly's 1–4;
// capped at 2 as Plotly's default is). The PNG export builds its own plot and is unaffected.
const MAX_GL_PIXEL_RATIO = 2;

const MIN_PLOT_AREA_PX = 120;
export const COMPACT_WIDTH_PX = 560;

/**
 * The WebGL canvas's pixels per CSS pixel for a screen's `devicePixelRatio`.
 * @param {number} devicePixelRatio - `window.devicePixelRatio` (may be fractional or bogus).
 * @returns {number} A ratio in [1, 2].
 */
export function glPixelRatio(devicePixelRatio) {
  if (!Number.isFinite(devicePixelRatio)) return 1;
  return Math.min(MAX_GL_PIXEL_RATIO, Math.max(1, devicePixelRatio));
}

/**
 * The plot config for a screen.
 * @param {number} devicePixelRatio - `window.devicePixelRatio`.
 * @returns {object} PLOT_CONFIG plus the WebGL pixel ratio.
 */
export function plotConfig(devicePixelRatio) {
  return { ...PLOT_CONFIG, plotGlPixelRatio: glPixelRatio(devicePixelRatio) };
}

/**
 * How many data units one screen pixel spans along each axis, for a view drawn in an area.
 * @param {import('./boxes.js').Bounds} view - The axis ranges shown.
 * @param {{width: number, height: number}} area - The plot area in pixels.
 * @returns {{x: number, y: number}} Data units per pixel (0 for a degenerate area).
 */
export function dataPerPixel(view, area) {
  /** @type {(span: number, px: number) => number} */
  const per = (span, px) => (px > 0 && Number.isFinite(span) ? Math.abs(span) / px : 0);
  return { x: per(view.x1 - view.x0, area.width), y: per(view.y1 - view.y0, area.height) };
}

/**
 * The layout: axis titles, the view's ranges and a legend above the plot.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {{view: import('./boxes.js').Bounds|null, legendTitle: string, viewKey: string,
 *   width?: number, height?: number}} opts The ranges to show (null: the whole map), the
 *   legend's title, a key that changes whenever the page (not the user) moves the view, and
 *   the figure size (a narrow figure drops the legend and axis titles).
 * @returns {{margin: {l: number, r: number, t: number, b: number}} & Record<string, unknown>}
 *   A Plotly layout.
 */
export function buildLayout(model, opts) {
  const view = opts.view || model.bounds;
  const dim = Number.isInteger(model.map.dim) ? model.map.dim : 2;
  // On a phone-sized plot the legend and axis titles would take half of it; the panel's
  // coloured headings name the highlights there instead.
  const compact = (opts.width || 1000) < COMPACT_WIDTH_PX;
  /** @type {(k: number, range: number[]) => object} */
  const axis = (k, range) => ({
    title: {
      text: compact ? '' : `Box dimension ${k}${dim > 2 ? ` of ${dim}` : ''}`,
      font: { size: 12, color: '#4b5563' },
    },
    range,
    zeroline: false,
    showgrid: true,
    gridcolor: '#eef0f3',
    linecolor: '#d0d5dd',
    tickfont: { size: 11, color: '#6b7280' },
    uirevision: opts.viewKey,
  });
  return {
    margin: compact ? { l: 32, r: 8, t: 28, b: 24 } : { l: 56, r: 12, t: 28, b: 40 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#fbfcfd',
    font: { family: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif', size: 12, color: '#1f2937' },
    dragmode: 'pan',
    hovermode: 'closest',
    hoverdistance: 24,
    hoverlabel: {
      bgcolor: '#ffffff',
      bordercolor: '#d0d5dd',
      font: { color: '#111827', size: 12 },
      align: 'left',
    },
    xaxis: axis(1, [view.x0, view.x1]),
    yaxis: axis(2, [view.y0, view.y1]),
    showlegend: !compact,
    legend: {
      title: { text: escapeHtml(opts.legendTitle), font: { size: 12 } },
      orientation: 'h',
      x: 0,
      xanchor: 'left',
      // A fixed distance in pixels under the plot, past the x-axis title (Plotly then grows
      // the bottom margin to fit it); above the plot it would collide with the modebar.
      y: -LEGEND_GAP_PX / Math.max(MIN_PLOT_AREA_PX, (opts.height || 600) - 80),
      yanchor: 'top',
      bgcolor: 'rgba(255,255,255,0)',
      font: { size: 11 },
      itemclick: 'toggle',
      itemdoubleclick: 'toggleothers',
    },
    uirevision: 'atlas',
  };
}

// @ts-check
/**
 * The global plotly.js the page loads (the vendored gl2d bundle, a deferred classic script), with
 * the few calls the page makes typed for `tsc`. Undefined until that script has run.
 */

/**
 * @typedef {object} PlotlyApi
 * @property {(gd: HTMLElement, data: object[], layout: object, config: object) => Promise<unknown>} react
 * @property {(gd: HTMLElement, update: Record<string, unknown>) => Promise<unknown>} relayout
 * @property {(gd: HTMLElement) => void} purge
 * @property {{hover: (gd: HTMLElement, evt: {xval: number, yval: number}) => void,
 *   unhover: (gd: HTMLElement) => void}} Fx - Hover labels shown and removed from code.
 */

/**
 * A graph div once Plotly has drawn into it: its event hook and what it holds.
 * @typedef {HTMLElement & {
 *   on?: (event: string, handler: (event: any) => void) => void,
 *   layout?: {xaxis?: {range?: unknown[]}, yaxis?: {range?: unknown[]}, annotations?: object[],
 *     shapes?: object[]},
 *   _fullLayout?: any}} PlotlyGraph
 */

/**
 * plotly.js, when it has loaded.
 * @returns {PlotlyApi|undefined} The global `Plotly`.
 */
export function plotly() {
  return /** @type {{Plotly?: PlotlyApi}} */ (/** @type {unknown} */ (window)).Plotly;
}

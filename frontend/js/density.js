// @ts-check
/**
 * Density shading for large maps: where the boxes are, as a soft image under them. Pure; no
 * DOM (the map view paints the pixels into a canvas and hands Plotly its data URL as a
 * `layout.image`).
 *
 * Ten thousand outlines at the full view are a solid mass; a blurred count of box centres
 * shows the map's structure (its dense regions and its gaps) at any size. The image is
 * drawn only while the map is large and zoomed out (see showsDensity): zoomed in, the boxes
 * themselves are legible.
 */

/** Maps with fewer boxes are drawn box by box, without shading. */
export const DENSITY_MIN_BOXES = 1500;
/** Past this zoom factor the shading fades out: the boxes themselves are legible. */
export const DENSITY_MAX_ZOOM = 16;
/** Grid cells across the longer side of the map. */
export const DENSITY_CELLS = 160;
const BLUR_PASSES = 3;
const BLUR_RADIUS = 2;
const MAX_ALPHA = 0.4;

/**
 * @typedef {object} DensityGrid
 * @property {number} cols @property {number} rows
 * @property {Float32Array} values - Row-major, row 0 at the top (the image's first row).
 * @property {number} max - The largest value (0 when empty).
 * @property {import('./boxes.js').Bounds} region - What the grid covers.
 */

/**
 * Whether a map at a zoom gets density shading.
 * @param {number} boxes - Boxes in the map.
 * @param {number} zoom - The zoom factor (boxes.zoomFactor).
 * @returns {boolean} True for a large map seen from afar.
 */
export function showsDensity(boxes, zoom) {
  return boxes >= DENSITY_MIN_BOXES && zoom < DENSITY_MAX_ZOOM;
}

/**
 * One horizontal then vertical box-blur pass of radius r, in place (three passes approach a
 * Gaussian). O(cells), whatever the radius.
 * @param {Float32Array} v - Values, row-major.
 * @param {number} cols @param {number} rows
 * @param {number} r - Radius in cells.
 */
function boxBlur(v, cols, rows, r) {
  const tmp = new Float32Array(v.length);
  const span = 2 * r + 1;
  for (let y = 0; y < rows; y += 1) {
    let sum = 0;
    for (let x = -r; x <= r; x += 1) sum += x >= 0 && x < cols ? v[y * cols + x] : 0;
    for (let x = 0; x < cols; x += 1) {
      tmp[y * cols + x] = sum / span;
      const out = x - r;
      const inn = x + r + 1;
      if (out >= 0) sum -= v[y * cols + out];
      if (inn < cols) sum += v[y * cols + inn];
    }
  }
  for (let x = 0; x < cols; x += 1) {
    let sum = 0;
    for (let y = -r; y <= r; y += 1) sum += y >= 0 && y < rows ? tmp[y * cols + x] : 0;
    for (let y = 0; y < rows; y += 1) {
      v[y * cols + x] = sum / span;
      const out = y - r;
      const inn = y + r + 1;
      if (out >= 0) sum -= tmp[out * cols + x];
      if (inn < rows) sum += tmp[inn * cols + x];
    }
  }
}

/**
 * Count box centres on a grid over a region, then blur.
 * @param {import('./boxes.js').BoxModel} model - The boxes.
 * @param {Iterable<number>} indices - Which boxes count.
 * @param {import('./boxes.js').Bounds} region - What the grid covers (x0 < x1, y0 < y1).
 * @param {number} [cells] - Cells across the region's longer side.
 * @returns {DensityGrid} The blurred counts.
 */
export function densityGrid(model, indices, region, cells = DENSITY_CELLS) {
  const w = region.x1 - region.x0;
  const h = region.y1 - region.y0;
  const long = Math.max(w, h);
  const cols = Math.max(1, Math.round((cells * w) / long));
  const rows = Math.max(1, Math.round((cells * h) / long));
  const values = new Float32Array(cols * rows);
  for (const i of indices) {
    const cx = (model.x0[i] + model.x1[i]) / 2;
    const cy = (model.y0[i] + model.y1[i]) / 2;
    const gx = Math.floor(((cx - region.x0) / w) * cols);
    const gy = Math.floor(((region.y1 - cy) / h) * rows);
    if (gx < 0 || gx >= cols || gy < 0 || gy >= rows) continue;
    values[gy * cols + gx] += 1;
  }
  for (let pass = 0; pass < BLUR_PASSES; pass += 1) boxBlur(values, cols, rows, BLUR_RADIUS);
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return { cols, rows, values, max, region };
}

/**
 * The grid as RGBA pixels of one colour, opacity rising with the square root of density
 * (a linear ramp would show only the densest cluster).
 * @param {DensityGrid} grid - From densityGrid.
 * @param {[number, number, number]} rgb - The shading colour.
 * @returns {Uint8ClampedArray<ArrayBuffer>} cols × rows × 4 bytes, row 0 at the top.
 */
export function densityPixels(grid, rgb) {
  const out = new Uint8ClampedArray(grid.cols * grid.rows * 4);
  if (!(grid.max > 0)) return out;
  for (let k = 0; k < grid.values.length; k += 1) {
    out[4 * k] = rgb[0];
    out[4 * k + 1] = rgb[1];
    out[4 * k + 2] = rgb[2];
    out[4 * k + 3] = Math.round(255 * MAX_ALPHA * Math.sqrt(grid.values[k] / grid.max));
  }
  return out;
}

/**
 * The Plotly layout image that lays the shading under the boxes.
 * @param {string} source - The image's data URL.
 * @param {import('./boxes.js').Bounds} region - What it covers.
 * @returns {object} One `layout.images` entry.
 */
export function densityImage(source, region) {
  return {
    source,
    xref: 'x',
    yref: 'y',
    x: region.x0,
    y: region.y1,
    sizex: region.x1 - region.x0,
    sizey: region.y1 - region.y0,
    xanchor: 'left',
    yanchor: 'top',
    sizing: 'stretch',
    layer: 'below',
    name: 'density',
  };
}

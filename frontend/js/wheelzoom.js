// @ts-check
/**
 * Wheel zoom that moves pixels during a burst of notches and redraws once when it settles.
 *
 * Why: Plotly answers every wheel notch on a WebGL plot by redrawing every trace and the SVG
 * axes. Without a GPU that costs 40–70 ms a notch even with every trace hidden. Here a notch
 * only scales and shifts the already drawn WebGL canvas, a compositor transform that needs no
 * redraw. One Plotly relayout draws the final view when the wheel has been still for
 * `settleMs`. Plotly zooms its own SVG plots the same way. The notch arithmetic is Plotly's
 * (dragbox.js): a factor of exp(-clamp(-deltaY, ±20) / 200) about the cursor.
 *
 * Until the relayout the axes show the old ticks, and the outlines keep their drawn
 * thickness.
 */

const MAX_WHEEL_DELTA = 20;
/**
 * On the graph div during a burst: the SVG layers that follow the data (the names, the
 * density image) do not move with the canvas, so the page's CSS hides them until the
 * relayout has drawn the new view.
 */
export const ZOOMING_CLASS = 'wheel-zooming';
const WHEEL_SCALE = 200;
// Browsers report line- and page-wise wheel deltas (deltaMode 1 and 2) in those units.
const DELTA_MODE_PX = [1, 40, 800];

/**
 * @typedef {{x0: number, x1: number, y0: number, y1: number}} Ranges
 */

/**
 * The ranges after one wheel notch, as Plotly computes them.
 * @param {Ranges} ranges - The ranges before the notch.
 * @param {number} deltaY - WheelEvent.deltaY in pixels (negative: zoom in).
 * @param {number} fx - The cursor's position across the plot area, 0 (left) to 1 (right).
 * @param {number} fy - The cursor's position up the plot area, 0 (bottom) to 1 (top).
 * @returns {Ranges} The new ranges (the point under the cursor stays put).
 */
export function wheelRanges(ranges, deltaY, fx, fy) {
  const delta = Math.min(Math.max(-deltaY, -MAX_WHEEL_DELTA), MAX_WHEEL_DELTA);
  const zoom = Math.exp(-delta / WHEEL_SCALE);
  /** @type {(lo: number, hi: number, frac: number) => number[]} */
  const scale = (lo, hi, frac) => {
    const centre = lo + (hi - lo) * frac;
    return [centre + (lo - centre) * zoom, centre + (hi - centre) * zoom];
  };
  const [x0, x1] = scale(ranges.x0, ranges.x1, fx);
  const [y0, y1] = scale(ranges.y0, ranges.y1, fy);
  return { x0, x1, y0, y1 };
}

/**
 * The CSS transform that moves what was drawn for `drawn` to where `next` puts it, for a plot
 * area of `width` × `height` pixels (origin at the plot area's top left).
 * @param {Ranges} drawn - The ranges the canvas was drawn for.
 * @param {Ranges} next - The ranges to show.
 * @param {number} width - Plot area width in pixels.
 * @param {number} height - Plot area height in pixels.
 * @returns {{sx: number, sy: number, tx: number, ty: number}} Scale, then translation in px.
 */
export function viewTransform(drawn, next, width, height) {
  const sx = (drawn.x1 - drawn.x0) / (next.x1 - next.x0);
  const sy = (drawn.y1 - drawn.y0) / (next.y1 - next.y0);
  // Screen y grows downwards: the top of the plot area is the high end of the y range.
  const tx = ((drawn.x0 - next.x0) / (next.x1 - next.x0)) * width;
  const ty = ((next.y1 - drawn.y1) / (next.y1 - next.y0)) * height;
  return { sx, sy, tx, ty };
}

/**
 * Take over wheel zoom on a Plotly graph (call once, after its first draw).
 * @param {HTMLElement & {_fullLayout?: any}} gd - The graph div.
 * @param {{settleMs: number, commit: (ranges: Ranges) => Promise<unknown>}} opts
 *   `commit` relayouts to the ranges; the transform is removed once it has drawn.
 */
export function attachWheelZoom(gd, { settleMs, commit }) {
  /** @type {Ranges|null} */
  let drawn = null; // ranges the canvas shows while a burst runs
  /** @type {Ranges|null} */
  let next = null;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;

  const layers = () => Array.from(gd.querySelectorAll('.gl-container canvas'), (c) => /** @type {HTMLElement} */ (c));
  const glContainer = () => /** @type {HTMLElement|null} */ (gd.querySelector('.gl-container'));
  const area = () => {
    const full = gd._fullLayout;
    return full ? { left: full.xaxis._offset, top: full.yaxis._offset, width: full.xaxis._length, height: full.yaxis._length } : null;
  };
  const reset = () => {
    gd.classList.remove(ZOOMING_CLASS);
    for (const canvas of layers()) canvas.style.transform = '';
    const container = glContainer();
    if (container) container.style.clipPath = '';
    drawn = null;
    next = null;
  };

  const settle = () => {
    const target = next;
    if (!target) return;
    commit(target).finally(reset);
  };

  gd.addEventListener(
    'wheel',
    (event) => {
      const drag = gd.querySelector('.nsewdrag');
      const full = gd._fullLayout;
      const box = area();
      if (!drag || event.target !== drag || !full || !box || box.width <= 0 || box.height <= 0) return;
      const [x0, x1] = full.xaxis.range.map(Number);
      const [y0, y1] = full.yaxis.range.map(Number);
      if (![x0, x1, y0, y1].every(Number.isFinite)) return; // leave it to Plotly
      event.preventDefault();
      event.stopPropagation(); // Plotly's own handler would redraw everything now
      if (!drawn) drawn = { x0, x1, y0, y1 };
      gd.classList.add(ZOOMING_CLASS);
      const rect = drag.getBoundingClientRect();
      const deltaY = event.deltaY * (DELTA_MODE_PX[event.deltaMode] || 1);
      const fx = (event.clientX - rect.left) / rect.width;
      const fy = (rect.bottom - event.clientY) / rect.height;
      next = wheelRanges(next || drawn, deltaY, fx, fy);
      const { sx, sy, tx, ty } = viewTransform(drawn, next, box.width, box.height);
      const container = glContainer();
      if (container) {
        // Keep the moved pixels inside the plot area, off the axes and the legend.
        const right = full.width - box.left - box.width;
        const bottom = full.height - box.top - box.height;
        container.style.clipPath = `inset(${box.top}px ${right}px ${bottom}px ${box.left}px)`;
      }
      for (const canvas of layers()) {
        canvas.style.transformOrigin = `${box.left}px ${box.top}px`;
        canvas.style.transform = `translate(${tx}px, ${ty}px) scale(${sx}, ${sy})`;
      }
      clearTimeout(timer);
      timer = setTimeout(settle, settleMs);
    },
    { capture: true, passive: false },
  );
}

import test from 'node:test';
import assert from 'node:assert/strict';
import { viewTransform, wheelRanges } from '../js/wheelzoom.js';

const close = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('a notch zooms about the cursor by Plotly’s factor', () => {
  const r = { x0: 0, x1: 10, y0: -5, y1: 5 };
  const zin = wheelRanges(r, -100, 0.5, 0.5);
  const factor = Math.exp(-20 / 200); // deltas are clamped to ±20, as Plotly does
  close(zin.x1 - zin.x0, 10 * factor);
  close((zin.x0 + zin.x1) / 2, 5);
  close((zin.y0 + zin.y1) / 2, 0);
  // The point under the cursor stays put.
  const corner = wheelRanges(r, -100, 0.25, 0.75);
  close(corner.x0 + 0.25 * (corner.x1 - corner.x0), 2.5);
  close(corner.y0 + 0.75 * (corner.y1 - corner.y0), 2.5);
  // Out is the inverse of in.
  const back = wheelRanges(zin, 100, 0.5, 0.5);
  close(back.x0, 0);
  close(back.x1, 10);
  // Small deltas zoom less.
  assert.ok(wheelRanges(r, -5, 0.5, 0.5).x1 - wheelRanges(r, -5, 0.5, 0.5).x0 > zin.x1 - zin.x0);
});

test('the transform puts every drawn point where the new ranges draw it', () => {
  const drawn = { x0: 0, x1: 10, y0: 0, y1: 20 };
  const next = { x0: 2, x1: 6, y0: 5, y1: 15 };
  const [w, h] = [400, 300];
  const { sx, sy, tx, ty } = viewTransform(drawn, next, w, h);
  const px = (r, x) => ((x - r.x0) / (r.x1 - r.x0)) * w;
  const py = (r, y) => ((r.y1 - y) / (r.y1 - r.y0)) * h; // screen y grows downwards
  for (const [x, y] of [[2, 5], [6, 15], [3.3, 7.1], [0, 20]]) {
    close(sx * px(drawn, x) + tx, px(next, x), 1e-9);
    close(sy * py(drawn, y) + ty, py(next, y), 1e-9);
  }
  const same = viewTransform(drawn, drawn, w, h);
  assert.deepEqual(same, { sx: 1, sy: 1, tx: 0, ty: 0 });
});

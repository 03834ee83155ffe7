import test from 'node:test';
import assert from 'node:assert/strict';

import {
  DENSITY_MAX_ZOOM,
  DENSITY_MIN_BOXES,
  densityGrid,
  densityImage,
  densityPixels,
  showsDensity,
} from '../js/density.js';
import { buildModel } from '../js/boxes.js';

function clusteredModel() {
  // 90 boxes around (1, 1), 10 around (8, 8): the shading must say where the crowd is.
  const ids = [];
  const lo = [];
  const hi = [];
  for (let k = 0; k < 100; k += 1) {
    const c = k < 90 ? 1 : 8;
    ids.push(`o/d${k}`);
    lo.push([c - 0.1, c - 0.1]);
    hi.push([c + 0.1, c + 0.1]);
  }
  const zeros = ids.map(() => 0);
  return buildModel({
    ids,
    lo,
    hi,
    num_labels: zeros,
    num_examples: zeros,
    downloads: zeros,
    license: ids.map(() => null),
    licenses: [],
    measured: ids.map(() => true),
  });
}

test('only a large map seen from afar is shaded', () => {
  assert.equal(showsDensity(DENSITY_MIN_BOXES - 1, 1), false);
  assert.equal(showsDensity(DENSITY_MIN_BOXES, 1), true);
  assert.equal(showsDensity(DENSITY_MIN_BOXES, DENSITY_MAX_ZOOM), false);
});

test('the grid is densest where the boxes crowd, and its mass is kept by the blur', () => {
  const model = clusteredModel();
  // Half a unit per cell, with room past both crowds for the blur (it loses what leaves the grid).
  const region = { x0: -5, x1: 15, y0: -5, y1: 15 };
  const grid = densityGrid(model, [...Array(100).keys()], region, 40);
  assert.equal(grid.cols, 40);
  assert.equal(grid.rows, 40);
  const at = (x, y) => grid.values[Math.floor((15 - y) * 2) * 40 + Math.floor((x + 5) * 2)];
  assert.ok(at(1, 1) > 5 * at(8, 8), `${at(1, 1)} vs ${at(8, 8)}`);
  // Three blur passes of radius 2 reach 6 cells: the gap between the crowds stays clear.
  assert.equal(at(4.6, 4.6), 0);
  assert.ok(at(8, 8) > 0, 'the small crowd still shows');
  const total = grid.values.reduce((a, b) => a + b, 0);
  assert.ok(total > 99.9 && total <= 100.001, `blurred mass ${total}`);
  assert.equal(grid.max, Math.max(...grid.values));
});

test('pixels are one colour whose opacity follows density; an empty grid is clear', () => {
  const model = clusteredModel();
  const grid = densityGrid(model, [0, 1, 2], { x0: 0, x1: 10, y0: 0, y1: 10 }, 10);
  const px = densityPixels(grid, [10, 20, 30]);
  assert.equal(px.length, grid.cols * grid.rows * 4);
  const alphas = [];
  for (let k = 0; k < px.length; k += 4) {
    assert.deepEqual([px[k], px[k + 1], px[k + 2]], [10, 20, 30]);
    alphas.push(px[k + 3]);
  }
  assert.ok(Math.max(...alphas) > 100 && Math.min(...alphas) === 0);
  const empty = densityGrid(model, [], { x0: 0, x1: 10, y0: 0, y1: 10 }, 10);
  assert.ok(densityPixels(empty, [1, 2, 3]).every((v) => v === 0));
  const image = densityImage('data:image/png;base64,AAAA', { x0: -1, x1: 3, y0: 2, y1: 7 });
  assert.deepEqual([image.x, image.y, image.sizex, image.sizey, image.layer], [-1, 7, 4, 5, 'below']);
});

import test from 'node:test';
import assert from 'node:assert/strict';

import { disagrees, drawnScore, drawnShare } from '../js/agreement.js';
import { buildModel } from '../js/boxes.js';

function model() {
  // big: 0..4 × 0..4; small: 1..2 × 1..2 (inside big); apart: 10..11 × 10..11.
  const ids = ['o/big', 'o/small', 'o/apart'];
  const zeros = ids.map(() => 0);
  return buildModel({
    ids,
    lo: [[0, 0], [1, 1], [10, 10]],
    hi: [[4, 4], [2, 2], [11, 11]],
    num_labels: zeros,
    num_examples: zeros,
    downloads: zeros,
    license: ids.map(() => null),
    licenses: [],
    measured: ids.map(() => true),
  });
}

test('the drawn share is the area of a inside b over the area of a', () => {
  const m = model();
  assert.equal(drawnShare(m, 1, 0), 1);
  assert.equal(drawnShare(m, 0, 1), 1 / 16);
  assert.equal(drawnShare(m, 0, 2), 0);
});

test('drawnScore reads the list direction the way the lists do', () => {
  const m = model();
  // Selected big: "contains" small means small inside big.
  assert.equal(drawnScore(m, 'o/big', 'o/small', 'contains'), 1);
  assert.equal(drawnScore(m, 'o/big', 'o/small', 'contained_in'), 1 / 16);
  assert.equal(drawnScore(m, 'o/big', 'o/missing', 'contains'), null);
  assert.equal(drawnScore(m, 'o/big', 'o/small', 'from'), null);
  assert.equal(drawnScore(null, 'o/big', 'o/small', 'contains'), null);
});

test('a disagreement is a gap of half the scale or more between known values', () => {
  assert.equal(disagrees(0, 0.98), true);
  assert.equal(disagrees(0.6, 0.98), false);
  assert.equal(disagrees(null, 0.98), false);
});

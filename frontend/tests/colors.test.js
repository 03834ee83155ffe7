import test from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../js/boxes.js';
import { MAX_GROUPS, MAX_LICENSE_GROUPS, colorGroups, withAlpha } from '../js/colors.js';
import { payload } from './fixtures.js';

test('license groups: frequent licenses, then other, then none', () => {
  const p = payload(12);
  p.licenses = Array.from({ length: 10 }, (_, k) => `lic-${k}`);
  p.license = [0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, null];
  const model = buildModel(p);
  const { groups, groupOf } = colorGroups(model, 'license');
  assert.equal(groups.length, MAX_LICENSE_GROUPS + 2);
  assert.ok(groups.length <= MAX_GROUPS);
  assert.equal(groups[0].label, 'lic-0');
  assert.equal(groups[groupOf[10]].label, 'Other licenses', 'the 8th license falls into other');
  assert.equal(groups[groupOf[11]].label, 'No license given');
  assert.equal(new Set(groups.map((g) => g.color)).size, groups.length, 'colours are distinct');
});

test('size and class bins, with unknowns apart', () => {
  const model = buildModel(payload(5)); // sizes 100, null, 1e4, 1e5, 1e6; classes 2..6
  const size = colorGroups(model, 'size');
  assert.deepEqual(
    Array.from(size.groupOf).map((g) => size.groups[g].label),
    ['< 1k examples', 'Size unknown', '10k–100k examples', '100k–1M examples', '≥ 1M examples'],
  );
  const classes = colorGroups(model, 'classes');
  assert.ok(Array.from(classes.groupOf).every((g) => classes.groups[g].label === '≤ 10 classes'));
  assert.throws(() => colorGroups(model, 'rainbow'), /unknown colour mode 'rainbow'/);
});

test('withAlpha converts hex to rgba', () => {
  assert.equal(withAlpha('#0072B2', 0.5), 'rgba(0,114,178,0.5)');
  assert.throws(() => withAlpha('red', 1), /expected #rrggbb/);
});

/**
 * Distance between two hex colours in RGB space (0–441).
 * @param {string} a - '#rrggbb'.
 * @param {string} b - '#rrggbb'.
 * @returns {number} The Euclidean distance.
 */
function rgbDistance(a, b) {
  const rgb = (/** @type {string} */ h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
  const [p, q] = [rgb(a), rgb(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

test('size and class-count colourings use distinct palettes', () => {
  const model = buildModel(payload(5));
  const size = colorGroups(model, 'size').groups.filter((g) => g.key !== 'unknown');
  const classes = colorGroups(model, 'classes').groups.filter((g) => g.key !== 'unknown');
  // No class-count colour is near any size colour, and bins within one palette differ too.
  for (const c of classes)
    for (const s of size) assert.ok(rgbDistance(c.color, s.color) > 60, `${c.color} vs ${s.color}`);
  for (const groups of [size, classes])
    for (let k = 1; k < groups.length; k += 1)
      assert.ok(rgbDistance(groups[k - 1].color, groups[k].color) > 40, groups[k].label);
});

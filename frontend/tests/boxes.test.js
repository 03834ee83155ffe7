import test from 'node:test';
import assert from 'node:assert/strict';
import {
  CULL_MARGIN,
  FADE_BAND,
  boxesInRegion,
  expandView,
  regionContains,
  UNKNOWN_LICENSE,
  buildModel,
  frameBox,
  passesFilters,
  rankByDownloads,
  selectVisible,
  zoomFactor,
} from '../js/boxes.js';
import { payload } from './fixtures.js';

test('buildModel reads the columns and ranks by downloads', () => {
  const model = buildModel(payload(5));
  assert.equal(model.n, 5);
  assert.deepEqual([model.x0[1], model.x1[1], model.y0[1], model.y1[1]], [1, 3, 1, 2]);
  assert.deepEqual(Array.from(model.rank), [0, 1, 2, 3, 4]);
  assert.deepEqual(model.license, [null, 'apache-2.0', 'mit', 'apache-2.0', 'mit']);
  assert.deepEqual(model.licenses, ['apache-2.0', 'mit']);
  assert.equal(model.indexById.get('owner/ds-3'), 3);
  assert.ok(model.bounds.x0 < 0 && model.bounds.x1 > 6, 'bounds are padded');
});

test('buildModel orders swapped corners and rejects malformed payloads', () => {
  const p = payload(2);
  p.lo[0] = [5, 5];
  p.hi[0] = [1, 2];
  const model = buildModel(p);
  assert.deepEqual([model.x0[0], model.x1[0], model.y0[0], model.y1[0]], [1, 5, 2, 5]);
  const short = payload(3);
  short.downloads.pop();
  assert.throws(() => buildModel(short), /column 'downloads' must hold 3 entries/);
  const flat = payload(2);
  flat.lo[1] = [0];
  assert.throws(() => buildModel(flat), /fewer than 2 dimensions/);
  assert.throws(() => buildModel({}), /no ids column/);
});

test('buildModel maps an out-of-range license index to no license', () => {
  const p = payload(2);
  p.license = [7, -1];
  assert.deepEqual(buildModel(p).license, [null, null]);
});

test('rankByDownloads breaks ties by id', () => {
  assert.deepEqual(Array.from(rankByDownloads([5, 9, 5, 1], ['b', 'z', 'a', 'c'])), [2, 0, 1, 3]);
  // Without counts (the offline catalog), the larger dataset ranks first; unknown sizes last.
  assert.deepEqual(
    Array.from(rankByDownloads([0, 0, 0, 0], ['a', 'b', 'c', 'd'], [100, null, 60000, 100])),
    [1, 3, 0, 2],
  );
});

test('zoomFactor is the full area over the view area, never below 1', () => {
  const bounds = { x0: 0, x1: 10, y0: 0, y1: 10 };
  assert.equal(zoomFactor(bounds, null), 1);
  assert.equal(zoomFactor(bounds, { x0: 0, x1: 5, y0: 0, y1: 5 }), 4);
  assert.equal(zoomFactor(bounds, { x0: -50, x1: 50, y0: -50, y1: 50 }), 1);
  assert.equal(zoomFactor(bounds, { x0: 1, x1: 1, y0: 0, y1: 1 }), 1);
});

test('selectVisible shows the top N, then more as you zoom, with a fading band', () => {
  const rank = Int32Array.from({ length: 100 }, (_, i) => 99 - i); // box 99 is most downloaded
  const full = selectVisible(rank, 10, 1);
  assert.equal(full.limit, 10);
  assert.deepEqual(full.shown, [99, 98, 97, 96, 95, 94, 93, 92, 91, 90]);
  assert.equal(full.fading.length, Math.ceil(10 * FADE_BAND) - 10);
  assert.equal(full.fading[0], 89);
  const zoomed = selectVisible(rank, 10, 4);
  assert.equal(zoomed.shown.length, 40);
  assert.ok(
    full.shown.every((i) => zoomed.shown.includes(i)),
    'zooming only adds boxes',
  );
  const all = selectVisible(rank, 10, 1e6);
  assert.equal(all.shown.length, 100);
  assert.equal(all.fading.length, 0);
});

test('passesFilters applies license, class and size bounds; unknowns fail a set bound', () => {
  const model = buildModel(payload(5));
  const none = { license: null, minClasses: null, maxClasses: null, minExamples: null };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => passesFilters(model, i, none)),
    [true, true, true, true, true],
  );
  const mit = { ...none, license: 'mit' };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => passesFilters(model, i, mit)),
    [false, false, true, false, true],
  );
  const unlicensed = { ...none, license: UNKNOWN_LICENSE };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => passesFilters(model, i, unlicensed)),
    [true, false, false, false, false],
  );
  const classes = { ...none, minClasses: 3, maxClasses: 5 };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => passesFilters(model, i, classes)),
    [false, true, true, true, false],
  );
  const big = { ...none, minExamples: 1000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((i) => passesFilters(model, i, big)),
    [false, false, true, true, true],
  );
});

test('frameBox frames the box with room, never zoomed past 2% of the map', () => {
  const model = buildModel(payload(5));
  const view = frameBox(model, 2);
  assert.ok(view.x0 < 2 && view.x1 > 4 && view.y0 < 2 && view.y1 > 3);
  const p = payload(3);
  p.hi[0] = [1e-9, 1e-9, 1];
  p.lo[0] = [0, 0, 0];
  const tiny = buildModel(p);
  const frame = frameBox(tiny, 0);
  assert.ok(frame.x1 - frame.x0 >= (tiny.bounds.x1 - tiny.bounds.x0) * 0.04);
});

test('expandView widens each side by a fraction of the view and orders corners', () => {
  assert.deepEqual(expandView({ x0: 10, x1: 0, y0: 0, y1: 4 }, 0.5), { x0: -5, x1: 15, y0: -2, y1: 6 });
  assert.deepEqual(expandView({ x0: 0, x1: 2, y0: 1, y1: 3 }, 0), { x0: 0, x1: 2, y0: 1, y1: 3 });
  assert.ok(CULL_MARGIN > 0 && CULL_MARGIN < 1);
});

test('regionContains is true only when the whole view is inside', () => {
  const region = { x0: 0, x1: 10, y0: 0, y1: 10 };
  assert.equal(regionContains(region, { x0: 1, x1: 9, y0: 0, y1: 10 }), true);
  assert.equal(regionContains(region, { x0: 9, x1: 1, y0: 10, y1: 0 }), true, 'reversed ranges');
  assert.equal(regionContains(region, { x0: -1, x1: 9, y0: 1, y1: 9 }), false);
  assert.equal(regionContains(region, { x0: 1, x1: 9, y0: 1, y1: 11 }), false);
});

test('boxesInRegion keeps boxes that overlap or touch the region, in order', () => {
  const model = buildModel(payload(5)); // box i spans x in [i, i + 2], y in [i, i + 1]
  assert.deepEqual(boxesInRegion(model, [4, 3, 2, 1, 0], { x0: 2.5, x1: 3.5, y0: 2.5, y1: 4 }), [3, 2]);
  assert.deepEqual(boxesInRegion(model, [0, 1, 2], { x0: 3, x1: 3.5, y0: 3, y1: 3.2 }), [2], 'touching counts');
  assert.deepEqual(boxesInRegion(model, [0, 1], { x0: 100, x1: 101, y0: 100, y1: 101 }), []);
});

import test from 'node:test';
import assert from 'node:assert/strict';

import {
  MAX_CANDIDATES,
  labelAnnotations,
  labelBudget,
  labelCandidates,
  overlaps,
  placeLabels,
  positions,
  shortName,
} from '../js/labels.js';
import { buildModel } from '../js/boxes.js';
import { payload } from './fixtures.js';

const AREA = { width: 800, height: 500 };

/** A seeded pseudo-random stream (mulberry32), so a failing case can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function candidates(n, seed, area = AREA) {
  const next = random(seed);
  return Array.from({ length: n }, (_, k) => ({
    id: `owner/ds-${k}`,
    text: `ds-${k}`,
    x: next() * area.width,
    y: next() * area.height,
    width: 30 + next() * 90,
    height: 17,
  }));
}

function assertNoOverlap(labels) {
  for (let a = 0; a < labels.length; a += 1) {
    for (let b = a + 1; b < labels.length; b += 1) {
      assert.equal(overlaps(labels[a], labels[b]), false, `${labels[a].id} overlaps ${labels[b].id}`);
    }
  }
}

test('placed names never overlap one another and stay inside the plot', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { labels } = placeLabels(candidates(500, seed), AREA, { maxLabels: 1000 });
    assert.ok(labels.length > 20, `seed ${seed} placed only ${labels.length}`);
    assertNoOverlap(labels);
    for (const l of labels) {
      assert.ok(l.x0 >= 0 && l.y0 >= 0 && l.x1 <= AREA.width && l.y1 <= AREA.height, `${l.id} leaves the plot`);
    }
  }
});

test('each name sits beside its own anchor', () => {
  const list = candidates(50, 9);
  const { labels } = placeLabels(list, AREA);
  const byId = new Map(list.map((c) => [c.id, c]));
  for (const l of labels) {
    const c = byId.get(l.id);
    assert.equal(l.x1 - l.x0, c.width);
    assert.equal(l.y1 - l.y0, c.height);
    const rects = positions(c, 5);
    assert.ok(rects.some((r) => r.x0 === l.x0 && r.y0 === l.y0), `${l.id} is not at one of its positions`);
  }
});

test('priority order wins a contested spot; forced names come first whatever the cap', () => {
  // Three names on one anchor: each position fits one, so the first ones take the best.
  const same = (id, forced = false) => ({ id, text: id, x: 400, y: 250, width: 200, height: 20, forced });
  const { labels } = placeLabels([same('selected', true), same('first'), same('second')], AREA, { maxLabels: 1 });
  assert.deepEqual(
    labels.map((l) => l.id),
    ['selected', 'first'],
    'the cap counts optional names only',
  );
  assert.ok(labels[0].x0 > 400, 'the first name takes the first position (right of the dot)');
  const crowded = [same('a'), same('b'), same('c'), same('d'), same('e'), same('f'), same('g'), same('h'), same('i')];
  const many = placeLabels(crowded, AREA, { maxLabels: 100 }).labels.map((l) => l.id);
  assert.deepEqual(many, many.slice().sort(), 'names are kept in priority order');
  assert.ok(many.length < crowded.length, 'names that do not fit are left out, not overlapped');
});

test('forced names try a wider ring before giving up', () => {
  const blocker = { id: 'blocker', text: 'b', x: 400, y: 250, width: 420, height: 60, forced: true };
  const forced = { id: 'forced', text: 'f', x: 400, y: 250, width: 40, height: 16, forced: true };
  const optional = { ...forced, id: 'optional', forced: false };
  const placed = placeLabels([blocker, forced, optional], AREA).labels.map((l) => l.id);
  assert.deepEqual(placed, ['blocker', 'forced']);
});

test('the work is bounded by the candidate cap, however many boxes there are', () => {
  const small = placeLabels(candidates(2000, 11), AREA, { maxCandidates: 100, maxLabels: 1000 });
  const large = placeLabels(candidates(20000, 11), AREA, { maxCandidates: 100, maxLabels: 1000 });
  // Looked at no more than 100 candidates, 8 positions each, against at most the placed ones.
  assert.ok(large.tests <= 100 * 8 * 100, `${large.tests} tests`);
  assert.equal(large.labels.length, small.labels.length, 'the rest are never looked at');
  const budget = placeLabels(candidates(20000, 12), AREA, { maxLabels: 10 });
  assert.equal(budget.labels.length, 10);
});

test('candidates: the forced ids first with their rank badge, then the most downloaded in view', () => {
  const model = buildModel(payload(6)); // box i spans x i..i+2, y i..i+1; ds-0 most downloaded
  const view = { x0: 0, x1: 8, y0: 0, y1: 7 };
  const found = labelCandidates(model, {
    view,
    area: { width: 800, height: 700 },
    forced: ['owner/ds-4', 'owner/ds-2'],
    ranks: new Map([['owner/ds-2', 3]]),
    eligible: (i) => i !== 1,
    measure: (text) => text.length * 6,
    lineHeight: 18,
    padding: 3,
  });
  assert.deepEqual(
    found.map((c) => [c.id, c.text, Boolean(c.forced)]),
    [
      ['owner/ds-4', 'ds-4', true],
      ['owner/ds-2', '3. ds-2', true],
      ['owner/ds-0', 'ds-0', false],
      ['owner/ds-3', 'ds-3', false],
      ['owner/ds-5', 'ds-5', false],
    ],
  );
  assert.equal(found[1].width, '3. ds-2'.length * 6 + 6);
  // Box 0's centre (1, 0.5) in pixels: 100 right, 650 down.
  assert.deepEqual([found[2].x, found[2].y], [100, 650]);
  const zoomed = labelCandidates(model, {
    view: { x0: 0, x1: 3, y0: 0, y1: 2 },
    area: { width: 300, height: 200 },
    forced: [],
    ranks: new Map(),
    eligible: () => true,
    measure: () => 10,
    lineHeight: 18,
    padding: 3,
    maxCandidates: MAX_CANDIDATES,
  });
  assert.deepEqual(zoomed.map((c) => c.id), ['owner/ds-0', 'owner/ds-1'], 'only centres in view');
});

test('names become escaped, inert Plotly annotations pinned in data coordinates', () => {
  const labels = [{ id: 'x/evil', text: '<img src=x onerror=alert(1)>', x0: 100, y0: 50, x1: 200, y1: 70, forced: false }];
  const [note] = labelAnnotations(
    labels,
    { x0: 0, x1: 10, y0: 0, y1: 5 },
    { width: 1000, height: 500 },
    () => ({ color: '#111', bgcolor: '#fff', borderwidth: 1 }),
    { family: 'sans-serif', size: 11, padding: 3 },
  );
  assert.equal(note.text, '&lt;img src=x onerror=alert(1)&gt;');
  assert.equal(note.name, 'x/evil');
  assert.deepEqual([note.x, note.y, note.xanchor, note.yanchor], [1, 4.5, 'left', 'top']);
  assert.equal(note.showarrow, false);
  assert.equal(note.borderpad, 2, 'padding less the border: the measured box holds both');
});

test('forced names on one spot all get a place, the farther ones with a line to their dot', () => {
  const spot = (k) => ({ id: `o/same-${k}`, text: `same-${k}`, x: 400, y: 250, width: 70, height: 18, forced: true });
  const { labels } = placeLabels(Array.from({ length: 12 }, (_, k) => spot(k)), AREA);
  assert.equal(labels.length, 12, 'identical boxes are all named');
  assertNoOverlap(labels);
  assert.ok(labels.slice(0, 2).every((l) => l.leader === null), 'the first ring needs no line');
  const led = labels.filter((l) => l.leader !== null);
  assert.ok(led.length > 0);
  assert.deepEqual(led[0].leader, { x: 400, y: 250 });
  const [note] = labelAnnotations(
    [led[0]],
    { x0: 0, x1: 800, y0: 0, y1: 500 },
    AREA,
    () => ({ color: '#111', bgcolor: '#fff' }),
    { family: 'sans-serif', size: 11, padding: 3 },
  );
  assert.deepEqual([note.x, note.y, note.showarrow, note.arrowhead], [400, 250, true, 0]);
  assert.equal(note.ax, (led[0].x0 + led[0].x1) / 2 - 400);
  assert.equal(note.ay, (led[0].y0 + led[0].y1) / 2 - 250, 'pixels down, as Plotly reads ay');
});

test('short names drop the owner and are bounded; the budget grows with the plot', () => {
  assert.equal(shortName('uoft-cs/cifar10'), 'cifar10');
  assert.equal(shortName('bare'), 'bare');
  assert.equal(shortName(`o/${'n'.repeat(100)}`).length, 36);
  assert.ok(labelBudget({ width: 400, height: 300 }) < labelBudget({ width: 1200, height: 800 }));
  assert.equal(labelBudget({ width: 0, height: 0 }), 0);
});

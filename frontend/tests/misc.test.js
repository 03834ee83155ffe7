import test from 'node:test';
import assert from 'node:assert/strict';
import { jobText } from '../js/jobs.js';
import { debounce, mergeSearchResults } from '../js/search.js';
import { buildQuery } from '../js/api.js';
import { parseBound, sliderMax, sliderStep } from '../js/filters.js';
import { emptyMapText } from '../js/notice.js';

test('jobText describes kind, progress and message', () => {
  assert.equal(
    jobText({ kind: 'train', status: 'running', progress: 340, total: 1000, message: 'epoch 340' }),
    'Training a map · 340 / 1k (epoch 340)',
  );
  assert.equal(
    jobText({ kind: 'crawl', status: 'queued', progress: 0, total: null, message: null }),
    'Crawling the Hub · queued',
  );
});

test('jobText says a failed job failed, with its bounded reason, not its last progress', () => {
  const error = 'interrupted: owner process 1234 on host h stopped heartbeating at 2026-12-04T23:00:00Z';
  const failed = { kind: 'train', status: 'failed', progress: 455, total: 1350, message: 'epoch 455', error };
  assert.equal(jobText(failed), `Training a map failed: ${error}`);
  assert.equal(jobText({ ...failed, error: 'x'.repeat(1000) }).length, 'Training a map failed: '.length + 300);
  assert.equal(jobText({ ...failed, error: null }), 'Training a map failed: no reason given');
});

test('debounce runs once after the quiet period', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const calls = [];
  const fn = debounce((x) => calls.push(x), 100);
  fn(1);
  fn(2);
  t.mock.timers.tick(99);
  assert.deepEqual(calls, []);
  fn(3);
  t.mock.timers.tick(100);
  assert.deepEqual(calls, [3]);
  fn(4);
  fn.cancel();
  t.mock.timers.tick(500);
  assert.deepEqual(calls, [3]);
});

test('buildQuery skips empty parameters and encodes values', () => {
  assert.equal(
    buildQuery({ q: 'a b&c', limit: 8, license: null, offset: undefined, x: '' }),
    '?q=a+b%26c&limit=8',
  );
  assert.equal(buildQuery({}), '');
});

test('filter inputs parse to non-negative integers or null', () => {
  assert.equal(parseBound(' 12 '), 12);
  assert.equal(parseBound(''), null);
  assert.equal(parseBound('-1'), null);
  assert.equal(parseBound('1e3'), null);
  assert.equal(sliderMax(1234), 1300);
  assert.equal(sliderMax(3), 10);
  assert.equal(sliderMax(12_345), 13_000);
  // A small atlas: the slider ends at its size, one dataset a step.
  assert.equal(sliderMax(41), 41);
  assert.equal(sliderStep(41), 1);
  assert.equal(sliderMax(87), 87);
  assert.equal(sliderStep(5000), 100);
  assert.equal(sliderMax(50_000), 20_000);
});

test('empty states say how to get a map', () => {
  assert.match(emptyMapText('transfer', 5).paragraphs.join(' '), /task2box import-transfer FILE\.csv/);
  assert.match(emptyMapText('containment', 5).paragraphs.join(' '), /task2box train --relation containment/);
  assert.equal(emptyMapText('containment', 0).title, 'No datasets yet');
});

test('mergeSearchResults lists name hits, then class hits with their classes, once each', () => {
  const byName = { total: 3, items: [{ id: 'a/woof' }, { id: 'b/dogs' }] };
  const byClass = {
    total: 2,
    items: [
      { id: 'b/dogs', matched_labels: ['golden retriever'] },
      { id: 'c/pets', matched_labels: ['Golden_Retriever'] },
    ],
  };
  const merged = mergeSearchResults(byName, byClass, 10);
  assert.deepEqual(
    merged.items.map((it) => [it.id, it.matched_labels]),
    [
      ['a/woof', []],
      ['b/dogs', ['golden retriever']],
      ['c/pets', ['Golden_Retriever']],
    ],
  );
  assert.equal(merged.total, 4);
  assert.equal(mergeSearchResults(byName, byClass, 2).items.length, 2);
});

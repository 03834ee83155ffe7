import test from 'node:test';
import assert from 'node:assert/strict';
import { isAborted, latestOnly } from '../js/api.js';
import { changesDrawing } from '../js/mapview.js';
import { fetchSelection } from '../js/selection.js';
import { createStore, decodeState, initialPage } from '../js/state.js';

/**
 * A stand-in for the browser's URL that records every write.
 * @param {string} search - The starting query string.
 * @returns {{read: () => string, write: (q: string, push: boolean) => void, writes: Array<[string, boolean]>}}
 */
function fakeUrl(search = '') {
  let current = search;
  const writes = [];
  return {
    read: () => (current ? `?${current}` : ''),
    write: (query, push) => {
      writes.push([query, push]);
      current = query;
    },
    writes,
  };
}

test('a change updates the state, notifies each subscriber once and writes the URL once', () => {
  const url = fakeUrl('dataset=owner/a');
  const store = createStore(initialPage(decodeState('?dataset=owner/a')), url);
  const seen = [];
  store.subscribe((page, previous) => seen.push([page.state.dataset, previous.state.dataset, page.state.top]));
  store.set({ state: { dataset: 'owner/b', top: 40 } }, { push: true });
  assert.equal(store.get().state.dataset, 'owner/b');
  assert.equal(store.get().state.top, 40);
  assert.equal(store.get().state.relation, 'containment', 'fields not in the patch are kept');
  assert.deepEqual(seen, [['owner/b', 'owner/a', 40]]);
  assert.deepEqual(url.writes, [['dataset=owner/b&top=40', true]]);
});

test('history entries are replaced unless asked for, and an unchanged query is not written', () => {
  const url = fakeUrl();
  const store = createStore(initialPage(decodeState('')), url);
  store.set({ state: { view: { x0: 0, x1: 1, y0: 0, y1: 2 } } });
  assert.deepEqual(url.writes, [['view=0,1,0,2', false]]);
  let calls = 0;
  store.subscribe(() => {
    calls += 1;
  });
  store.set({ labelPoints: null, maps: [] });
  assert.equal(calls, 1, 'subscribers hear of every change');
  assert.equal(url.writes.length, 1, 'a change outside the URL state leaves the URL alone');
});

test('the page is read-only outside the store, and unsubscribing stops notifications', () => {
  const store = createStore(initialPage(decodeState('')), fakeUrl());
  assert.throws(() => {
    store.get().state.dataset = 'owner/x';
  }, TypeError);
  assert.throws(() => {
    store.get().model = null;
  }, TypeError);
  let calls = 0;
  const off = store.subscribe(() => {
    calls += 1;
  });
  store.set({ state: { color: 'size' } });
  off();
  store.set({ state: { color: 'classes' } });
  assert.equal(calls, 1);
});

test('the map redraws for what it draws, not for a new viewport', () => {
  const store = createStore(initialPage(decodeState('')), fakeUrl());
  const before = store.get();
  store.set({ state: { view: { x0: 0, x1: 1, y0: 0, y1: 1 }, dataset: 'owner/a' } });
  assert.equal(changesDrawing(store.get(), before), false);
  const moved = store.get();
  store.set({ state: { minClasses: 3 } });
  assert.equal(changesDrawing(store.get(), moved), true);
  const filtered = store.get();
  store.set({ selection: null, placed: null });
  assert.equal(changesDrawing(store.get(), filtered), false, 'null to null is no change');
});

test('latestOnly aborts the signal it gave before', () => {
  const requests = latestOnly();
  const first = requests.next();
  assert.equal(first.aborted, false);
  const second = requests.next();
  assert.equal(first.aborted, true);
  assert.equal(second.aborted, false);
  requests.cancel();
  assert.equal(second.aborted, true);
});

test('selecting another dataset aborts the fetches of the one in flight', async (t) => {
  const original = globalThis.fetch;
  t.after(() => {
    globalThis.fetch = original;
  });
  /** @type {Array<{path: string, signal: AbortSignal, answer: () => void}>} */
  const calls = [];
  globalThis.fetch = (path, init) =>
    new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      const id = String(path).replace(/^api\/datasets\//, '').replace(/\/related.*$/, '');
      const body = String(path).includes('/related')
        ? { relation: 'containment', map: { id: 1, relation: 'containment', dim: 2 }, items: [] }
        : { id, labels: [], num_labels: 0, source: 'hub' };
      calls.push({
        path: String(path),
        signal: init.signal,
        answer: () => resolve(new Response(JSON.stringify(body), { status: 200 })),
      });
    });
  const selections = latestOnly();
  const mapped = new Set(['containment']);
  const stale = fetchSelection('owner/a', 'containment', mapped, selections.next());
  const staleCalls = calls.length;
  assert.ok(staleCalls >= 1);
  const fresh = fetchSelection('owner/b', 'containment', mapped, selections.next());
  await assert.rejects(stale, (err) => isAborted(err));
  assert.ok(
    calls.slice(0, staleCalls).every((call) => call.signal.aborted),
    'every request of the superseded selection was aborted',
  );
  for (const call of calls.slice(staleCalls)) call.answer();
  const loaded = await fresh;
  assert.equal(loaded.dataset.id, 'owner/b');
  assert.equal(loaded.roles.get('owner/b'), 'selected');
});

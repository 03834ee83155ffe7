import test from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../js/boxes.js';
import { LASSO_COLUMNS, lassoRows, lassoToCsv } from '../js/lasso.js';
import { payload } from './fixtures.js';

const selection = {
  id: 'owner/ds-0',
  lists: [
    {
      spec: {},
      error: null,
      data: {
        items: [
          { id: 'owner/ds-3', score: 0.9, p_in: 0.9, p_contains: 0.2, measured: true },
          { id: 'owner/ds-1', score: 0.4, p_in: 0.4, p_contains: 0.7, measured: true },
        ],
      },
    },
    { spec: {}, error: { status: 404 }, data: null },
  ],
};

test('lasso rows carry the map facts and, with a selection, its scores first', () => {
  const model = buildModel(payload(5));
  const ids = ['owner/ds-1', 'owner/ds-2', 'owner/ds-3', 'owner/ds-4', 'not/on-map', 'owner/ds-2'];
  const rows = lassoRows(model, ids, /** @type {any} */ (selection));
  assert.deepEqual(
    rows.map((r) => r.id),
    ['owner/ds-3', 'owner/ds-1', 'owner/ds-2', 'owner/ds-4'],
    'scored first (high first), then by downloads; duplicates and ids off the map dropped',
  );
  assert.equal(rows[0].pIn, 0.9);
  assert.equal(rows[0].pContains, 0.2);
  assert.equal(rows[2].score, null);
  assert.equal(rows[1].numLabels, model.numLabels[1]);
  assert.equal(rows[1].downloads, model.downloads[1]);
  // Without a selection nothing is scored, and rows go by downloads.
  const bare = lassoRows(model, ids, null);
  assert.ok(bare.every((r) => r.score === null));
  assert.deepEqual(
    bare.map((r) => r.id),
    ['owner/ds-1', 'owner/ds-2', 'owner/ds-3', 'owner/ds-4'],
  );
});

test('the lasso CSV has a header, one line per row, and guards formulas', () => {
  const model = buildModel(payload(5));
  const rows = lassoRows(model, ['owner/ds-1', 'owner/ds-3', 'owner/ds-2'], /** @type {any} */ (selection));
  const lines = lassoToCsv(rows, 'owner/ds-0').trim().split('\r\n');
  assert.equal(lines[0], LASSO_COLUMNS.join(','));
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^owner\/ds-3,\d+,\d*,\d+,[^,]*,owner\/ds-0,0\.9,0\.9,0\.2$/);
  assert.match(lines[3], /^owner\/ds-2,.*,,,,$/, 'an unscored row has no reference and no scores');
  const hostile = lassoToCsv([{ ...rows[0], license: '=HYPERLINK("x")' }], null);
  assert.match(hostile, /"'=HYPERLINK\(""x""\)"/);
});

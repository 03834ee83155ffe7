import test from 'node:test';
import assert from 'node:assert/strict';

import { relatedGroups } from '../js/related.js';

const items = [
  { id: 'a/holds-all', measured: true },
  { id: 'b/holds-some', measured: true },
  { id: 'c/predicted', measured: false },
];

test('a containment list splits into what shares classes and what the map predicts', () => {
  const groups = relatedGroups('containment', items);
  assert.deepEqual(
    groups.map((g) => [g.key, g.items.map((it) => it.id)]),
    [
      ['measured', ['a/holds-all', 'b/holds-some']],
      ['predicted', ['c/predicted']],
    ],
  );
  assert.equal(groups[0].title, 'Shares these classes');
  assert.equal(groups[1].title, 'Predicted from the map');
});

test('empty groups are left out, and transfer lists stay one group', () => {
  assert.deepEqual(
    relatedGroups('containment', items.slice(2)).map((g) => g.key),
    ['predicted'],
  );
  const transfer = relatedGroups('transfer', items);
  assert.equal(transfer.length, 1);
  assert.equal(transfer[0].items.length, 3);
  assert.equal(transfer[0].title, '');
});

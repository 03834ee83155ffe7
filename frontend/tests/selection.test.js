import test from 'node:test';
import assert from 'node:assert/strict';
import { HIGHLIGHT_K, HIGHLIGHT_MIN_SCORE, LIST_SPECS, rolesFromLists, specsFor } from '../js/selection.js';

const spec = (key) => LIST_SPECS.find((s) => s.key === key);
const items = (prefix, n, score = 0.9) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, score }));

test("specsFor loads the relation's own lists first, and transfer sources for containment", () => {
  assert.deepEqual(
    specsFor('containment').map((s) => s.direction),
    ['contained_in', 'contains', 'from'],
  );
  assert.deepEqual(
    specsFor('transfer').map((s) => s.direction),
    ['from', 'to'],
  );
});

test('rolesFromLists highlights the top items of each list in its own role', () => {
  const lists = [
    { spec: spec('containers'), data: { items: items('up', HIGHLIGHT_K + 5) } },
    {
      spec: spec('contained'),
      data: {
        items: [
          { id: 'down0', score: 0.8 },
          { id: 'faint', score: HIGHLIGHT_MIN_SCORE / 2 },
        ],
      },
    },
    { spec: spec('sources'), data: null, error: new Error('no map') },
  ];
  const roles = rolesFromLists('me', lists);
  assert.equal(roles.get('me'), 'selected');
  assert.equal(roles.get('up0'), 'container');
  assert.equal(roles.has(`up${HIGHLIGHT_K}`), false, 'only the top HIGHLIGHT_K are highlighted');
  assert.equal(roles.get('down0'), 'contained');
  assert.equal(roles.has('faint'), false, 'barely related boxes are not highlighted');
});

test('a dataset in two lists keeps the first role; the selected one stays selected', () => {
  const lists = [
    {
      spec: spec('containers'),
      data: {
        items: [
          { id: 'both', score: 1 },
          { id: 'me', score: 1 },
        ],
      },
    },
    { spec: spec('contained'), data: { items: [{ id: 'both', score: 1 }] } },
  ];
  const roles = rolesFromLists('me', lists);
  assert.equal(roles.get('both'), 'container');
  assert.equal(roles.get('me'), 'selected');
});

import test from 'node:test';
import assert from 'node:assert/strict';
import {
  HIGHLIGHT_K,
  HIGHLIGHT_MIN_SCORE,
  LIST_SPECS,
  WEAK_SCORE,
  arrangeLists,
  placedLists,
  rolesFromLists,
  specsFor,
} from '../js/selection.js';

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

test('a dataset in both containment lists is drawn and listed where it scores higher', () => {
  // CIFAR-10 and Cat_and_Dog, as the server lists them: Cat_and_Dog covers 20% of CIFAR-10
  // ("contained in") and lies 100% inside it ("contains"). It is drawn inside, ranked there.
  const lists = [
    {
      spec: spec('containers'),
      data: {
        items: [
          { id: 'cinic10', score: 1 },
          { id: 'me', score: 1 },
          { id: 'cats_and_dogs', score: 0.2 },
        ],
      },
    },
    {
      spec: spec('contained'),
      data: {
        items: [
          { id: 'pets', score: 1 },
          { id: 'cats_and_dogs', score: 1 },
          { id: 'cinic10', score: 1 },
        ],
      },
    },
  ];
  const { roles, ranks, lists: arranged } = arrangeLists('me', lists);
  assert.equal(roles.get('me'), 'selected', 'the selected one stays selected');
  assert.equal(roles.get('cats_and_dogs'), 'contained');
  assert.equal(ranks.get('cats_and_dogs'), 2, 'its badge is its row in the list it is drawn from');
  assert.equal(roles.get('cinic10'), 'container', 'a tie stays with the earlier list');
  assert.equal(ranks.get('cinic10'), 1);
  const containers = arranged.get('containers');
  assert.deepEqual(containers.ranked.map((it) => it.id), ['cinic10']);
  assert.deepEqual(containers.moved, ['cats_and_dogs']);
  assert.deepEqual(arranged.get('contained').ranked.map((it) => it.id), ['pets', 'cats_and_dogs']);
  assert.deepEqual(arranged.get('contained').moved, ['cinic10']);
  assert.deepEqual(rolesFromLists('me', lists), roles);
});

test('rows below 1% fold into weak matches: listed, unranked, never highlighted', () => {
  const lists = [
    {
      spec: spec('containers'),
      data: {
        items: [
          { id: 'strong', score: 0.4 },
          { id: 'weak', score: WEAK_SCORE / 2 },
          { id: 'after', score: 0.02 },
        ],
      },
    },
  ];
  const { roles, ranks, lists: arranged } = arrangeLists('me', lists);
  const list = arranged.get('containers');
  assert.deepEqual(list.ranked.map((it) => it.id), ['strong', 'after'], 'ranks skip the weak row');
  assert.deepEqual(list.weak.map((it) => it.id), ['weak']);
  assert.equal(roles.has('weak'), false);
  assert.equal(ranks.get('strong'), 1);
  assert.equal(roles.has('after'), false, 'ranked but below the highlight threshold');
});

test('transfer sources beside containment keep their rows; a box keeps its first role', () => {
  const lists = [
    { spec: spec('containers'), data: { items: [{ id: 'both', score: 0.5 }] } },
    { spec: spec('sources'), data: { items: [{ id: 'both', score: 0.9 }, { id: 'src', score: 0.7 }] } },
  ];
  const { roles, ranks, lists: arranged } = arrangeLists('me', lists);
  assert.equal(roles.get('both'), 'container');
  assert.equal(roles.get('src'), 'source');
  assert.equal(ranks.get('src'), 2, 'ranked in its own list');
  assert.deepEqual(arranged.get('sources').ranked.map((it) => it.id), ['both', 'src']);
});

test('a placed label set has its two lists, arranged the same way', () => {
  const result = {
    map: { id: 3, relation: 'containment', dim: 8 },
    box: { lo: [0, 0], hi: [1, 1] },
    contained_in: [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.3 }],
    contains: [{ id: 'b', score: 0.8 }],
  };
  const lists = placedLists(result);
  assert.deepEqual(lists.map((l) => l.spec.role), ['container', 'contained']);
  const { roles, ranks } = arrangeLists(null, lists);
  assert.equal(roles.get('a'), 'container');
  assert.equal(roles.get('b'), 'contained');
  assert.equal(ranks.get('b'), 1);
  assert.equal(roles.size, 2, 'no selected box');
});

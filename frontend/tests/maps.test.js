import test from 'node:test';
import assert from 'node:assert/strict';
import { mapChoices, mapFidelity, mapLabel, mapTrust, pickMap } from '../js/maps.js';

const MAPS = [
  {
    id: 'c5',
    relation: 'containment',
    dim: 5,
    representation: 'label-text',
    status: 'published',
    created_at: '2026-01-02',
  },
  {
    id: 'c2',
    relation: 'containment',
    dim: 2,
    representation: 'label-text',
    status: 'published',
    created_at: '2026-01-02',
  },
  {
    id: 'c2old',
    relation: 'containment',
    dim: 2,
    representation: 'label-text',
    status: 'retired',
    created_at: '2026-01-01',
  },
  {
    id: 'c1',
    relation: 'containment',
    dim: 1,
    representation: 'label-text',
    status: 'published',
    created_at: '2026-01-02',
  },
  {
    id: 'cfail',
    relation: 'containment',
    dim: 2,
    representation: 'label-text',
    status: 'failed',
    created_at: '2026-01-03',
  },
  {
    id: 't2',
    relation: 'transfer',
    dim: 2,
    representation: 'label-text',
    status: 'training',
    created_at: '2026-01-03',
  },
];

test('mapChoices keeps drawable maps of the relation, published first', () => {
  assert.deepEqual(
    mapChoices(MAPS, 'containment').map((m) => m.id),
    ['c2', 'c5', 'c2old'],
  );
  assert.deepEqual(mapChoices(MAPS, 'transfer'), []);
});

test('pickMap prefers the requested map, then the published 2-D one', () => {
  assert.equal(pickMap(MAPS, 'containment', null).id, 'c2');
  assert.equal(pickMap(MAPS, 'containment', 'c2old').id, 'c2old');
  const numbered = [
    { ...MAPS[1], id: 7 },
    { ...MAPS[2], id: 9 },
  ];
  assert.equal(pickMap(numbered, 'containment', '9').id, 9, 'a URL id (text) finds an integer id');
  assert.equal(pickMap(MAPS, 'containment', 'cfail').id, 'c2', 'a failed map is never drawn');
  assert.equal(pickMap(MAPS, 'containment', 't2').id, 'c2', 'a map of another relation is ignored');
  assert.equal(pickMap(MAPS, 'transfer', null), null);
});

test('mapLabel names relation, dimension, representation and status', () => {
  assert.equal(mapLabel(MAPS[0]), 'containment · 5-D · label-text · published');
  const estimated = { ...MAPS[0], relation: 'transfer', dim: 2, params: { estimator: 'leep' } };
  assert.equal(mapLabel(estimated), 'transfer · 2-D · label-text · published · LEEP estimates');
  // Only a transfer map's estimator is named; a missing or empty one adds nothing.
  assert.equal(mapLabel({ ...estimated, params: { estimator: null } }), 'transfer · 2-D · label-text · published');
});

test('mapTrust states the drawn boxes’ fidelity, and nothing for maps without it', () => {
  assert.equal(
    mapTrust({ params: { model: 'set' }, metrics: { fidelity_f1: 0.912, fidelity_spearman: 0.781 } }),
    'label-set boxes agree with the counted classes: F1 0.91, ρ 0.78',
  );
  assert.equal(
    mapTrust({ params: { model: 'vector' }, metrics: { fidelity_f1: 0.5 } }),
    'boxes agree with the counted classes: F1 0.50',
  );
  assert.equal(mapTrust({ params: {}, metrics: { val_f1: 0.9 } }), '');
  assert.equal(mapTrust({}), '');
});

test('mapFidelity names the drawn map’s dimension and its measured fidelity', () => {
  assert.equal(
    mapFidelity({ dim: 2, metrics: { fidelity_f1: 0.912, fidelity_spearman: 0.781 } }),
    '2-D fidelity F1 0.91',
  );
  assert.equal(mapFidelity({ dim: 8, metrics: { fidelity_f1: 0.5 } }), '8-D fidelity F1 0.50');
  assert.equal(mapFidelity({ dim: 2, metrics: { val_f1: 0.9 } }), '');
  assert.equal(mapFidelity({}), '');
});

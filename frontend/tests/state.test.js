import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_TOP,
  MAX_TOP,
  MAX_URL_LASSO,
  MAX_URL_PLACE_LABELS,
  decodeState,
  defaultState,
  encodeState,
} from '../js/state.js';

test('a default state encodes to nothing and decodes back', () => {
  assert.equal(encodeState(defaultState()), '');
  assert.deepEqual(decodeState(''), defaultState());
});

test('every field survives a round trip', () => {
  const state = {
    dataset: 'uoft-cs/cifar10',
    relation: 'transfer',
    map: '7',
    view: { x0: -1.25, x1: 3.5, y0: 0.125, y1: 2 },
    license: 'cc-by-4.0',
    minClasses: 10,
    maxClasses: 1000,
    minExamples: 10000,
    top: 1500,
    color: 'size',
    onlyRelated: true,
    place: ['cat', 'sports car, coupe', 'T - shirt / top'],
    lasso: ['uoft-cs/cifar10', 'ylecun/mnist'],
  };
  const query = encodeState(state);
  assert.match(query, /&only=related(&|$)/);
  assert.match(query, /^dataset=uoft-cs\/cifar10&relation=transfer&map=7&view=-1\.25,3\.5,0\.125,2&/);
  assert.deepEqual(decodeState(`?${query}`), state);
});

test('view coordinates are shortened to six significant digits', () => {
  const query = encodeState({ ...defaultState(), view: { x0: 0.123456789, x1: 1, y0: -2, y1: 1e-7 } });
  assert.equal(query, 'view=0.123457,1,-2,1e-7');
});

test('malformed parameters fall back to defaults', () => {
  const state = decodeState(
    '?dataset=../../etc&relation=evil&map=0x1&view=1,0,0,1&min_classes=-3&max_classes=1e3&top=abc&color=red&license=&only=all',
  );
  assert.deepEqual(state, defaultState());
  assert.equal(decodeState('?view=0,1,0,NaN').view, null);
  assert.equal(decodeState('?view=0,1,0').view, null);
  assert.equal(decodeState('?dataset=javascript:alert(1)').dataset, null);
});

test('top is clamped to the slider range', () => {
  assert.equal(decodeState('?top=999999').top, MAX_TOP);
  assert.equal(decodeState('?top=1').top, 10);
  assert.equal(decodeState('?top=500').top, DEFAULT_TOP);
});

test('special characters in a license are encoded and decoded', () => {
  const state = { ...defaultState(), license: 'a&b=c #d' };
  const query = encodeState(state);
  assert.ok(!query.includes('a&b'), query);
  assert.equal(decodeState(query).license, 'a&b=c #d');
});

test('a placement and a lasso are kept in the URL within bounds', () => {
  const state = { ...defaultState(), place: ['cat', 'dog'], lasso: ['a/b', 'c/d'] };
  assert.equal(encodeState(state), 'place=cat%0Adog&lasso=a/b,c/d');
  assert.deepEqual(decodeState('?place=cat%0A%0Adog%0A').place, ['cat', 'dog']);
  // Too many to link: shown in the page, left out of the URL; a hostile URL decodes to null.
  const many = Array.from({ length: MAX_URL_PLACE_LABELS + 1 }, (_, k) => `label ${k}`);
  assert.equal(encodeState({ ...defaultState(), place: many }), '');
  const ids = Array.from({ length: MAX_URL_LASSO + 1 }, (_, k) => `o/d${k}`);
  assert.equal(encodeState({ ...defaultState(), lasso: ids }), '');
  assert.equal(decodeState('?lasso=a/b,<script>').lasso, null);
  assert.equal(decodeState(`?place=${'x'.repeat(201)}`).place, null);
  assert.equal(decodeState('?place=').place, null);
});

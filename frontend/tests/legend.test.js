import test from 'node:test';
import assert from 'node:assert/strict';
import { ROLE_STYLES } from '../js/colors.js';
import { legendEntries } from '../js/legend.js';

test('the phone legend names the highlights when there are some, else the colour groups', () => {
  const groups = [
    { key: 'license:mit', label: 'mit', color: '#0072B2' },
    { key: 'license:none', label: 'No license given', color: '#b9bec7' },
  ];
  assert.deepEqual(legendEntries(new Map(), groups), [
    { label: 'mit', color: '#0072B2' },
    { label: 'No license given', color: '#b9bec7' },
  ]);
  const roles = new Map([
    ['a/b', 'selected'],
    ['c/d', 'contained'],
    ['e/f', 'container'],
  ]);
  assert.deepEqual(
    legendEntries(roles, groups).map((e) => e.label),
    [ROLE_STYLES.selected.label, ROLE_STYLES.container.label, ROLE_STYLES.contained.label],
  );
  // A placed label set has no selected box of its own: only the roles drawn are named.
  assert.deepEqual(
    legendEntries(new Map([['c/d', 'contained']]), groups).map((e) => e.label),
    [ROLE_STYLES.contained.label],
  );
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { encodeIdPath, hubUrl, isDatasetId } from '../js/ids.js';

test('isDatasetId accepts Hub ids and refuses everything else', () => {
  for (const ok of ['cifar10', 'uoft-cs/cifar10', 'a/b.c_d-e', 'Owner9/Name.v2'])
    assert.ok(isDatasetId(ok), ok);
  for (const bad of [
    '',
    '/x',
    'a/b/c',
    'javascript:alert(1)',
    '../etc',
    'a/..',
    'a b',
    'a/<img>',
    null,
    7,
    'x'.repeat(97),
  ]) {
    assert.equal(isDatasetId(bad), false, String(bad));
  }
});

test('encodeIdPath keeps the slash and refuses malformed ids', () => {
  assert.equal(encodeIdPath('owner/name'), 'owner/name');
  assert.throws(() => encodeIdPath('a/b/c'), /not a dataset id/);
  assert.throws(() => encodeIdPath('a?b'), /not a dataset id/);
});

test('hubUrl builds a huggingface.co link or nothing', () => {
  assert.equal(hubUrl('uoft-cs/cifar10'), 'https://huggingface.co/datasets/uoft-cs/cifar10');
  assert.equal(hubUrl('javascript:alert(1)'), null);
  assert.equal(hubUrl('//evil.example/x'), null);
});

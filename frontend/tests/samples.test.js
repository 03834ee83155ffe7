import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_SHOWN, sampleItems } from '../js/samples.js';

test('only http(s) images are drawn, at most MAX_SHOWN, labels bounded', () => {
  const items = [
    { src: 'https://viewer.example/a.png', label: 'cat' },
    { src: 'javascript:alert(1)', label: 'x' },
    { src: 'data:image/png;base64,AAAA', label: 'x' },
    { src: 'https://viewer.example/b".png', label: 'quote' },
    { src: 'http://127.0.0.1:8080/viewer/c.png', label: 'l'.repeat(500) },
    ...Array.from({ length: 20 }, (_, i) => ({ src: `https://viewer.example/${i}.png`, label: 'dog' })),
  ];
  const shown = sampleItems({ dataset_id: 'a/b', items, note: null });
  assert.equal(shown.length, MAX_SHOWN);
  assert.deepEqual(shown[0], { src: 'https://viewer.example/a.png', label: 'cat' });
  assert.equal(shown[1].label.length, 200);
  assert.ok(shown.every((s) => /^https?:\/\//.test(s.src) && !s.src.includes('"')));
});

test('an empty or missing answer draws nothing', () => {
  assert.deepEqual(sampleItems(null), []);
  assert.deepEqual(sampleItems({ dataset_id: 'a/b', items: [], note: 'the dataset viewer could not be reached' }), []);
  // @ts-expect-error: a malformed payload
  assert.deepEqual(sampleItems({ items: 'nope' }), []);
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LABELS, MAX_LABEL_CHARS, parseLabels } from '../js/place.js';

test('one label per line, trimmed, blanks and duplicates dropped', () => {
  assert.deepEqual(parseLabels(' cat \n\ndog\r\ncat\nsea lion, grey'), {
    labels: ['cat', 'dog', 'sea lion, grey'],
    error: null,
  });
});

test('a single line is split on commas', () => {
  assert.deepEqual(parseLabels('cat, dog ,horse,'), { labels: ['cat', 'dog', 'horse'], error: null });
});

test('empty, oversized and too many labels are refused with a reason', () => {
  assert.match(parseLabels('  \n , ').error, /at least one label/);
  assert.match(parseLabels('x'.repeat(MAX_LABEL_CHARS + 1)).error, /longer than 200/);
  const many = Array.from({ length: MAX_LABELS + 1 }, (_, i) => `l${i}`).join('\n');
  assert.match(parseLabels(many).error, /At most 10,000 labels, got 10,001/);
});

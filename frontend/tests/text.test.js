import test from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, formatCount, formatPercent, truncate } from '../js/text.js';

test('escapeHtml escapes the characters that open tags and entities', () => {
  assert.equal(
    escapeHtml('<img src=x onerror="alert(1)">'),
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;',
  );
  assert.equal(
    escapeHtml("<script>a && b</script> 'q'"),
    '&lt;script&gt;a &amp;&amp; b&lt;/script&gt; &#39;q&#39;',
  );
  assert.equal(escapeHtml('&lt;'), '&amp;lt;', 'already-escaped text is escaped again, not decoded');
});

test('escapeHtml turns null and non-strings into text', () => {
  assert.equal(escapeHtml(null), '');
  assert.equal(escapeHtml(undefined), '');
  assert.equal(escapeHtml(42), '42');
  assert.equal(escapeHtml('plain owner/name_1'), 'plain owner/name_1');
});

test('formatCount abbreviates', () => {
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(1200), '1.2k');
  assert.equal(formatCount(1000), '1k');
  assert.equal(formatCount(34_567), '35k');
  assert.equal(formatCount(5_600_000), '5.6M');
  assert.equal(formatCount(null), '—');
  assert.equal(formatCount(NaN), '—');
});

test('formatPercent clamps to [0, 1]', () => {
  assert.equal(formatPercent(0.4567), '45.7%');
  assert.equal(formatPercent(1.2), '100.0%');
  assert.equal(formatPercent(-1), '0.0%');
  assert.equal(formatPercent(undefined), '—');
});

test('truncate cuts with an ellipsis only when needed', () => {
  assert.equal(truncate('abcdef', 10), 'abcdef');
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abcdef', 4).length, 4);
  assert.equal(truncate(null, 3), '');
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { RELATED_COLUMNS, csvCell, csvFileName, relatedToCsv, toCsv } from '../js/csv.js';

test('csvCell quotes separators, quotes and line breaks', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell(' padded'), '" padded"');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(0.25), '0.25');
  assert.equal(csvCell(-3), '-3', 'numbers are not formulas');
  assert.equal(csvCell(NaN), '');
  assert.equal(csvCell(true), 'true');
});

test('csvCell defuses text a spreadsheet would run as a formula', () => {
  for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
    const cell = csvCell(evil);
    const unquoted = cell.startsWith('"') ? cell.slice(1, -1) : cell;
    assert.equal(unquoted[0], "'", `${JSON.stringify(evil)} -> ${cell}`);
  }
  assert.equal(csvCell('=1,2'), `"'=1,2"`);
});

test('toCsv joins rows with CRLF', () => {
  assert.equal(
    toCsv(
      ['a', 'b'],
      [
        [1, 'x'],
        [2, null],
      ],
    ),
    'a,b\r\n1,x\r\n2,\r\n',
  );
});

test('relatedToCsv writes one row per related item, ranked', () => {
  const lists = [
    {
      relation: 'containment',
      direction: 'contained_in',
      map: { id: 'm1' },
      items: [
        { id: 'a/b', score: 0.9, p_in: 0.9, p_contains: 0.1, shared_labels: ['cat', 'dog'], measured: true },
        { id: 'c/d', score: 0.5, p_in: 0.5, p_contains: 0.2, shared_labels: ['=cmd'], measured: false },
      ],
    },
  ];
  const lines = relatedToCsv('me/x', lists).trimEnd().split('\r\n');
  assert.equal(lines[0], RELATED_COLUMNS.join(','));
  assert.equal(lines[1], 'me/x,containment,contained_in,m1,1,a/b,0.9,0.9,0.1,true,cat; dog');
  assert.equal(lines[2], "me/x,containment,contained_in,m1,2,c/d,0.5,0.5,0.2,false,'=cmd");
});

test('csvFileName is safe for any id', () => {
  assert.equal(csvFileName('owner/name'), 'related-owner__name.csv');
  assert.equal(csvFileName('a/../b c'), 'related-a__..__b_c.csv');
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, selectVisible } from '../js/boxes.js';
import { MAX_GROUPS, ROLE_ORDER, colorGroups } from '../js/colors.js';
import { PLOT_CONFIG, buildLayout } from '../js/layout.js';
import { buildTraces, countRectangles, hoverText, rectangles } from '../js/plot.js';
import { payload } from './fixtures.js';

/**
 * A scene over the whole fixture map.
 * @param {object} model - BoxModel.
 * @param {object} [extra] - Overrides.
 * @returns {object} The scene.
 */
function scene(model, extra = {}) {
  return {
    ...selectVisible(model.rank, 1000, 1),
    colors: colorGroups(model, 'license'),
    passes: () => true,
    roles: new Map(),
    placed: null,
    ...extra,
  };
}

/**
 * The fill traces only (not the centres marker trace).
 * @param {object[]} traces - Plotly traces.
 * @returns {object[]} Box and placed traces.
 */
const fills = (traces) => traces.filter((t) => t.fill === 'toself');

test('rectangles closes each box and separates boxes with null', () => {
  const model = buildModel(payload(3));
  const { x, y } = rectangles(model, [0, 2]);
  assert.deepEqual(x, [0, 2, 2, 0, 0, null, 2, 4, 4, 2, 2, null]);
  assert.deepEqual(y, [0, 0, 1, 1, 0, null, 2, 2, 3, 3, 2, null]);
});

test('every box is drawn once as a scattergl fill, plus one marker per box', () => {
  const model = buildModel(payload(5));
  const { traces, drawn } = buildTraces(model, scene(model));
  assert.equal(drawn.length, 5);
  assert.ok(traces.every((t) => t.type === 'scattergl'));
  const boxTraces = fills(traces).filter((t) => t.meta.kind === 'boxes');
  assert.equal(
    boxTraces.reduce((n, t) => n + countRectangles(t), 0),
    5,
  );
  assert.ok(boxTraces.every((t) => t.hoverinfo === 'skip'));
  const centres = traces.at(-1);
  assert.equal(centres.mode, 'markers');
  assert.deepEqual([...centres.customdata].sort(), model.ids.slice().sort());
  assert.equal(centres.x[centres.customdata.indexOf('owner/ds-1')], 2);
  assert.equal(centres.hovertemplate, '%{text}<extra></extra>');
});

test('the trace list keeps its length and order whatever is drawn', () => {
  const model = buildModel(payload(5));
  const plain = buildTraces(model, scene(model)).traces;
  const busy = buildTraces(
    model,
    scene(model, {
      roles: new Map([
        ['owner/ds-0', 'selected'],
        ['owner/ds-1', 'container'],
      ]),
      placed: { lo: [0, 0], hi: [1, 1] },
      passes: (i) => i !== 4,
      colors: colorGroups(model, 'size'),
    }),
  ).traces;
  assert.equal(plain.length, 3 + MAX_GROUPS + ROLE_ORDER.length + 2);
  assert.deepEqual(
    plain.map((t) => t.uid),
    busy.map((t) => t.uid),
  );
  assert.equal(new Set(plain.map((t) => t.uid)).size, plain.length, 'uids are unique');
  assert.ok(
    plain.every((t) => /^[A-Za-z0-9_-]+$/.test(t.uid)),
    'Plotly puts uids in CSS selectors',
  );
  assert.ok(
    plain
      .filter((t) => countRectangles(t) === 0 && t.meta.kind === 'boxes')
      .every((t) => t.showlegend === false),
    'empty layers stay out of the legend',
  );
});

test('a selection draws roles in their own traces and greys the rest', () => {
  const model = buildModel(payload(5));
  const roles = new Map([
    ['owner/ds-2', 'selected'],
    ['owner/ds-0', 'container'],
    ['owner/ds-4', 'contained'],
    ['owner/ds-3', 'source'],
  ]);
  const { traces } = buildTraces(model, scene(model, { roles }));
  const byKey = new Map(traces.map((t) => [t.meta.key, t]));
  assert.equal(countRectangles(byKey.get('role:selected')), 1);
  assert.equal(countRectangles(byKey.get('role:container')), 1);
  assert.equal(countRectangles(byKey.get('role:contained')), 1);
  assert.equal(countRectangles(byKey.get('role:source')), 1);
  assert.equal(countRectangles(byKey.get('greyed')), 1, 'the one unrelated box is greyed');
  for (let g = 0; g < MAX_GROUPS; g += 1) assert.equal(countRectangles(byKey.get(`group:${g}`)), 0);
  const order = traces.map((t) => t.meta.key);
  assert.ok(
    order.indexOf('role:selected') > order.indexOf('role:container'),
    'the selected box is drawn on top',
  );
});

test('related boxes are drawn even when their rank is past the limit', () => {
  const model = buildModel(payload(5));
  const visible = selectVisible(model.rank, 1, 1); // only box 0 at full view
  const roles = new Map([
    ['owner/ds-0', 'selected'],
    ['owner/ds-4', 'contained'],
  ]);
  const { drawn } = buildTraces(model, scene(model, { ...visible, fading: [], roles }));
  assert.deepEqual(drawn.sort(), [0, 4]);
});

test('filtered-out boxes stay drawn in a faint layer', () => {
  const model = buildModel(payload(5));
  const { traces, drawn } = buildTraces(model, scene(model, { passes: (i) => i < 2 }));
  assert.equal(drawn.length, 5);
  const filtered = traces.find((t) => t.meta.key === 'filtered');
  assert.equal(countRectangles(filtered), 3);
  assert.match(filtered.fillcolor, /rgba\(.*,0\.0\d+\)$/);
});

test('colour groups become legend entries named after the group, escaped', () => {
  const p = payload(3);
  p.licenses = ['<b>bold</b>', 'mit'];
  const model = buildModel(p);
  const { traces } = buildTraces(model, scene(model));
  const names = traces.filter((t) => t.showlegend).map((t) => t.name);
  assert.ok(names.includes('&lt;b&gt;bold&lt;/b&gt;'), names.join(' | '));
  assert.ok(names.includes('No license given'));
});

test('the placed box is dashed', () => {
  const model = buildModel(payload(2));
  const { traces } = buildTraces(model, scene(model, { placed: { lo: [0, 1, 9], hi: [2, 3, 9] } }));
  const placed = traces.find((t) => t.meta.kind === 'placed');
  assert.equal(placed.line.dash, 'dash');
  assert.deepEqual(placed.x, [0, 2, 2, 0, 0]);
  assert.deepEqual(placed.y, [1, 1, 3, 3, 1]);
  assert.equal(placed.showlegend, true);
});

test('hover text escapes Hub strings and shows the card fields', () => {
  const p = payload(2);
  p.ids[1] = 'evil/x';
  p.licenses = ['mit', '<img src=x onerror=alert(1)>'];
  p.license = [0, 1];
  const model = buildModel(p);
  model.ids[1] = '<script>alert(1)</script>'; // as if an id had slipped through
  const text = hoverText(model, 1);
  assert.ok(!text.includes('<script>') && !text.includes('<img'), text);
  assert.ok(text.includes('&lt;script&gt;') && text.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.match(
    hoverText(model, 0),
    /^<b>owner\/ds-0<\/b><br>2 classes · 100 examples<br>License: mit<br>Downloads: 2k$/,
  );
});

test('layout shows the requested view, axis titles and the dimension', () => {
  const model = buildModel(payload(3));
  const layout = buildLayout(model, {
    view: { x0: 1, x1: 2, y0: 3, y1: 4 },
    legendTitle: 'Colour: license',
    viewKey: 'v1',
  });
  assert.deepEqual(layout.xaxis.range, [1, 2]);
  assert.deepEqual(layout.yaxis.range, [3, 4]);
  assert.equal(layout.xaxis.title.text, 'Box dimension 1 of 3');
  assert.equal(layout.xaxis.uirevision, 'v1');
  const whole = buildLayout(model, { view: null, legendTitle: 't', viewKey: 'v' });
  assert.deepEqual(whole.xaxis.range, [model.bounds.x0, model.bounds.x1]);
});

test('a narrow figure drops the legend and axis titles', () => {
  const model = buildModel(payload(3));
  const narrow = buildLayout(model, { view: null, legendTitle: 't', viewKey: 'v', width: 380, height: 300 });
  assert.equal(narrow.showlegend, false);
  assert.equal(narrow.xaxis.title.text, '');
  const wide = buildLayout(model, { view: null, legendTitle: 't', viewKey: 'v', width: 1200, height: 600 });
  assert.equal(wide.showlegend, true);
  assert.ok(wide.legend.y < 0, 'the legend sits under the plot');
});

test('the modebar config hides the cloud button and the logo', () => {
  assert.equal(PLOT_CONFIG.showSendToCloud, false);
  assert.equal(PLOT_CONFIG.displaylogo, false);
});

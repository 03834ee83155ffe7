import test from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, selectVisible } from '../js/boxes.js';
import { MAX_GROUPS, ROLE_ORDER, colorGroups } from '../js/colors.js';
import { PLOT_CONFIG, buildLayout, dataPerPixel, glPixelRatio, plotConfig } from '../js/layout.js';
import {
  MARKER_SIZE,
  ONLY_RELATED_ALPHA,
  buildTraces,
  countRectangles,
  edgeRectangles,
  hoverText,
  labelPointsTrace,
  rectangles,
} from '../js/plot.js';
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
    pixel: { x: 0.01, y: 0.02 },
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
      labelPoints: { labels: ['a'], points: [[0.5, 0.5]] },
      passes: (i) => i !== 4,
      colors: colorGroups(model, 'size'),
    }),
  ).traces;
  // Faint layers (filtered, fading) are fills only; greyed, groups and roles add edges.
  const outlined = 1 + MAX_GROUPS + ROLE_ORDER.length;
  // Then the placed box, the selected dataset's class points and the centre markers.
  assert.equal(plain.length, 3 + MAX_GROUPS + ROLE_ORDER.length + outlined + 3);
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

test('"show only related" fades the unrelated boxes and their dots to near invisible', () => {
  const model = buildModel(payload(5));
  const roles = new Map([
    ['owner/ds-2', 'selected'],
    ['owner/ds-0', 'container'],
  ]);
  const greyed = (extra) => {
    const { traces } = buildTraces(model, scene(model, { roles, ...extra }));
    const fill = traces.find((t) => t.meta.key === 'greyed');
    const centres = traces.find((t) => t.meta.kind === 'centres');
    const k = centres.customdata.indexOf('owner/ds-4');
    return { fill: fill.fillcolor, dot: centres.marker.color[k], size: centres.marker.size[k] };
  };
  const normal = greyed({});
  const only = greyed({ onlyRelated: true });
  const alpha = (rgba) => Number(rgba.match(/,\s*([\d.]+)\)$/)[1]);
  assert.ok(alpha(only.fill) < alpha(normal.fill) / 5, `${only.fill} vs ${normal.fill}`);
  assert.ok(alpha(only.dot) <= ONLY_RELATED_ALPHA.marker, only.dot);
  assert.equal(normal.size, MARKER_SIZE.box);
  assert.equal(greyed({ dense: true }).size, MARKER_SIZE.dense, 'dots shrink in a dense view');
  const { traces } = buildTraces(model, scene(model, { roles, dense: true }));
  const centres = traces.find((t) => t.meta.kind === 'centres');
  assert.equal(centres.marker.size[centres.customdata.indexOf('owner/ds-0')], MARKER_SIZE.role);
});

test('a dense view drops the outlines of ordinary boxes, keeps the highlights, and the trace list', () => {
  const model = buildModel(payload(5));
  const edges = (extra) =>
    new Map(
      buildTraces(model, scene(model, extra))
        .traces.filter((t) => t.meta.kind === 'edges')
        .map((t) => [t.meta.key, countRectangles(t)]),
    );
  const plain = edges({});
  const dense = edges({ dense: true });
  assert.deepEqual([...dense.keys()], [...plain.keys()], 'same traces in the same order');
  const groups = (m) => [...m].filter(([k]) => k.startsWith('edges:group:')).reduce((a, [, v]) => a + v, 0);
  assert.ok(groups(plain) > 0);
  assert.equal(groups(dense), 0);
  const roles = new Map([
    ['owner/ds-2', 'selected'],
    ['owner/ds-0', 'container'],
  ]);
  const selected = edges({ dense: true, roles });
  assert.ok(selected.get('edges:role:container') > 0, 'highlights keep their outlines');
  assert.equal(selected.get('edges:greyed'), 0);
  // The legend still names each colour group: the fill carries the entry instead.
  const legend = buildTraces(model, scene(model, { dense: true }))
    .traces.filter((t) => t.showlegend)
    .map((t) => t.meta.kind);
  assert.ok(legend.length > 0 && legend.every((kind) => kind === 'boxes'), legend.join());
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

test('edgeRectangles draws four strips inside each box, a thin box as one strip', () => {
  const model = buildModel(payload(2)); // box 0: x [0, 2], y [0, 1]
  const { x, y } = edgeRectangles(model, [0], 0.1, 0.2);
  assert.equal(x.filter((v) => v === null).length, 4);
  assert.deepEqual(x.slice(0, 6), [0, 2, 2, 0, 0, null], 'bottom strip spans the width');
  assert.deepEqual(y.slice(0, 6), [0, 0, 0.2, 0.2, 0, null]);
  assert.deepEqual(y.slice(6, 12), [0.8, 0.8, 1, 1, 0.8, null], 'top strip');
  assert.deepEqual(x.slice(12, 18), [0, 0.1, 0.1, 0, 0, null], 'left strip');
  assert.deepEqual(x.slice(18, 24), [1.9, 2, 2, 1.9, 1.9, null], 'right strip');
  assert.ok(x.every((v) => v === null || (v >= 0 && v <= 2)), 'strips stay inside the box');
  const thin = edgeRectangles(model, [0], 0.1, 5);
  assert.equal(thin.x.filter((v) => v === null).length, 2, 'two strips fill a thin box');
  assert.deepEqual(thin.y.slice(0, 5), [0, 0, 0.5, 0.5, 0]);
});

test('outlined layers get an edges trace that carries the legend; faint ones do not', () => {
  const model = buildModel(payload(5));
  const { traces } = buildTraces(model, scene(model, { passes: (i) => i < 4 }));
  const byKey = new Map(traces.map((t) => [t.meta.key, t]));
  const group = traces.find((t) => t.meta.kind === 'boxes' && t.meta.key.startsWith('group:') && t.meta.count);
  const edges = byKey.get(`edges:${group.meta.key}`);
  assert.equal(edges.meta.kind, 'edges');
  assert.equal(countRectangles(edges), 4 * countRectangles(group));
  assert.equal(edges.legendgroup, group.legendgroup, 'one legend click toggles both');
  assert.equal(edges.showlegend, true);
  assert.equal(group.showlegend, false);
  assert.ok(traces.every((t) => t.mode !== 'lines' || t.line.width === 0 || t.meta.kind === 'placed'), 'no WebGL lines');
  assert.equal(byKey.has('edges:filtered'), false);
  assert.equal(byKey.get('filtered').showlegend, true);
});

test('dataPerPixel and the WebGL pixel ratio', () => {
  assert.deepEqual(dataPerPixel({ x0: 0, x1: 10, y0: 5, y1: -5 }, { width: 100, height: 50 }), { x: 0.1, y: 0.2 });
  assert.deepEqual(dataPerPixel({ x0: 0, x1: 10, y0: 0, y1: 1 }, { width: 0, height: 10 }), { x: 0, y: 0.1 });
  assert.equal(glPixelRatio(1), 1);
  assert.equal(glPixelRatio(1.5), 1.5);
  assert.equal(glPixelRatio(3), 2);
  assert.equal(glPixelRatio(Number.NaN), 1);
  assert.equal(plotConfig(1).plotGlPixelRatio, 1);
  assert.equal(plotConfig(1).displaylogo, false);
});

test('labelPointsTrace draws a dataset’s classes with escaped names, or nothing', () => {
  const trace = labelPointsTrace({ labels: ['cat', '<img src=x onerror=1>'], points: [[0, 1, 9], [2, 3, 9]] });
  assert.deepEqual(trace.x, [0, 2]);
  assert.deepEqual(trace.y, [1, 3]);
  assert.equal(trace.text[1], '&lt;img src=x onerror=1&gt;');
  assert.equal(trace.showlegend, true);
  const empty = labelPointsTrace(null);
  assert.deepEqual([empty.x, empty.showlegend, empty.meta.count], [[], false, 0]);
});

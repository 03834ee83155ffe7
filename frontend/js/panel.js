/**
 * The side panel (a bottom sheet on narrow screens): the selected dataset, its labels and
 * ranked related lists, the result of "place my dataset", or a lasso selection.
 *
 * Expected DOM: <aside id="panel"> holding #panel-title, #panel-close and #panel-body.
 * Every Hub string is inserted as text through dom.js.
 */

import { byId, clear, el } from './dom.js';
import { hubUrl } from './ids.js';
import { formatCount, formatPercent, truncate } from './text.js';
import { ROLE_STYLES } from './colors.js';

export const MAX_LABELS_SHOWN = 50;
export const MAX_SHARED_SHOWN = 6;
export const MAX_DESCRIPTION_CHARS = 600;
export const MAX_LASSO_SHOWN = 100;

/**
 * @typedef {object} PanelActions
 * @property {(id: string) => void} select - Select another dataset.
 * @property {() => void} [exportCsv] - Download the related lists.
 * @property {() => void} [zoom] - Zoom the map to the selected box.
 */

/**
 * Show the panel with a title and return its (emptied) body.
 * @param {string} title - Heading text.
 * @param {string} [subtitle] - Small text under it.
 * @returns {HTMLElement} The body to fill.
 */
export function openPanel(title, subtitle) {
  const panel = byId('panel');
  byId('panel-title').textContent = title;
  const sub = byId('panel-subtitle');
  sub.textContent = subtitle || '';
  sub.hidden = !subtitle;
  const body = byId('panel-body');
  clear(body);
  body.scrollTop = 0;
  panel.hidden = false;
  document.body.classList.add('panel-open');
  return body;
}

/** Hide the panel. */
export function closePanel() {
  byId('panel').hidden = true;
  document.body.classList.remove('panel-open');
}

/** Move keyboard focus to the panel heading (after a keyboard-driven selection). */
export function focusPanel() {
  byId('panel-title').focus();
}

/**
 * A loading placeholder.
 * @param {string} id - The dataset being loaded.
 */
export function showLoading(id) {
  const body = openPanel(id);
  body.append(el('p', { className: 'muted', text: 'Loading…', attrs: { role: 'status' } }));
}

/**
 * An error in the panel.
 * @param {string} title - Heading.
 * @param {string} message - What went wrong, for people.
 */
export function showError(title, message) {
  const body = openPanel(title);
  body.append(el('p', { className: 'error', text: message, attrs: { role: 'alert' } }));
}

/**
 * A definition list of facts; rows with no value are left out.
 * @param {Array<[string, string|null]>} rows - Label and value text.
 * @returns {HTMLElement} The list.
 */
function facts(rows) {
  const dl = el('dl', { className: 'facts' });
  for (const [term, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    dl.append(el('dt', { text: term }), el('dd', { text: value }));
  }
  return dl;
}

/**
 * A titled section.
 * @param {string} title - Heading text.
 * @param {Array<Node|string|null>} children - Content.
 * @param {string} [swatch] - A colour shown next to the title (the map highlight).
 * @returns {HTMLElement} The section.
 */
function section(title, children, swatch) {
  const heading = el('h3', {}, [swatch ? el('span', { className: `swatch swatch-${swatch}`, attrs: { 'aria-hidden': 'true' } }) : null, title]);
  return el('section', { className: 'panel-section' }, [heading, ...children]);
}

/**
 * Render the selected dataset.
 * @param {HTMLElement} body - The panel body (from openPanel).
 * @param {object} dataset - DatasetPublic.
 * @param {import('./selection.js').ListResult[]} lists - Related lists.
 * @param {{onMap: boolean, mapLabel: string}} where - Whether its box is on the drawn map.
 * @param {PanelActions} actions - Callbacks.
 */
export function renderDataset(body, dataset, lists, where, actions) {
  const link = hubUrl(dataset.id);
  const buttons = [
    link ? el('a', { className: 'btn', text: 'Open on the Hub ↗', href: link, attrs: { target: '_blank', rel: 'noopener noreferrer' } }) : null,
    where.onMap && actions.zoom ? el('button', { className: 'btn', text: 'Zoom to box', attrs: { type: 'button', 'data-action': 'zoom' } }) : null,
    actions.exportCsv ? el('button', { className: 'btn', text: 'Export CSV', attrs: { type: 'button', 'data-action': 'export' } }) : null,
  ];
  const bar = el('div', { className: 'actions' }, buttons);
  bar.addEventListener('click', (event) => {
    const action = event.target instanceof Element ? event.target.getAttribute('data-action') : null;
    if (action === 'zoom') actions.zoom();
    if (action === 'export') actions.exportCsv();
  });
  body.append(bar);
  if (!where.onMap) {
    body.append(el('p', { className: 'notice', text: `Not drawn on ${where.mapLabel}${dataset.status !== 'ok' ? ` (${dataset.status}${dataset.skip_reason ? `: ${dataset.skip_reason}` : ''})` : ''}.` }));
  }
  const splits = Object.entries(dataset.splits || {}).map(([name, n]) => `${name} ${formatCount(n)}`).join(' · ');
  body.append(facts([
    ['Classes', Number.isFinite(dataset.num_labels) ? dataset.num_labels.toLocaleString('en-US') : null],
    ['Examples', dataset.num_examples === null || dataset.num_examples === undefined ? 'unknown' : dataset.num_examples.toLocaleString('en-US')],
    ['Splits', splits || null],
    ['Downloads', formatCount(dataset.downloads)],
    ['Likes', formatCount(dataset.likes)],
    ['License', dataset.license || 'none given'],
    ['Author', dataset.author || null],
    ['Updated', dataset.last_modified ? String(dataset.last_modified).slice(0, 10) : null],
    ['Source', dataset.source || null],
  ]));
  if (dataset.description) {
    body.append(el('p', { className: 'description', text: truncate(dataset.description, MAX_DESCRIPTION_CHARS) }));
  }
  body.append(labelsSection(dataset));
  for (const list of lists) body.append(relatedSection(list, actions));
  if (Array.isArray(dataset.tags) && dataset.tags.length) {
    body.append(section('Tags', [el('ul', { className: 'chips' }, dataset.tags.slice(0, 40).map((t) => el('li', { text: t })))]));
  }
}

/**
 * The first labels, with the total.
 * @param {object} dataset - DatasetPublic.
 * @returns {HTMLElement} The section.
 */
function labelsSection(dataset) {
  const labels = (dataset.labels || []).slice(0, MAX_LABELS_SHOWN);
  const total = Number.isFinite(dataset.num_labels) ? dataset.num_labels : labels.length;
  const title = total > labels.length ? `Labels (first ${labels.length} of ${total.toLocaleString('en-US')})` : `Labels (${total.toLocaleString('en-US')})`;
  const content = labels.length ? el('ul', { className: 'chips', attrs: { 'data-testid': 'labels' } }, labels.map((l) => el('li', { text: l }))) : el('p', { className: 'muted', text: 'No labels recorded.' });
  return section(title, [content]);
}

/**
 * One ranked related list; each entry is a button that selects that dataset.
 * @param {import('./selection.js').ListResult} list - The list and its spec.
 * @param {PanelActions} actions - Callbacks.
 * @returns {HTMLElement} The section.
 */
function relatedSection(list, actions) {
  const { spec, data, error } = list;
  const parts = [el('p', { className: 'hint', text: spec.hint })];
  if (error) {
    parts.push(el('p', { className: 'muted', text: error.status === 404 || error.status === 422 ? unavailableText(spec.relation) : `Could not load: ${error.message}` }));
  } else if (!data || data.items.length === 0) {
    parts.push(el('p', { className: 'muted', text: 'None found.' }));
  } else {
    parts.push(el('p', { className: 'hint', text: `Scores from map ${data.map.id} (${data.map.relation}, ${data.map.dim}-D).` }));
    const ol = el('ol', { className: 'related', attrs: { 'data-list': spec.key } });
    for (const item of data.items) ol.append(relatedItem(item, actions));
    parts.push(ol);
  }
  return section(spec.title, parts, spec.role && ROLE_STYLES[spec.role] ? spec.role : undefined);
}

/**
 * Why a related list is missing: for transfer, how to import measured scores.
 * @param {string} relation - The list's relation.
 * @returns {string} The message.
 */
function unavailableText(relation) {
  return relation === 'transfer'
    ? 'No transfer map yet. Import measured scores with `task2box import-transfer FILE.csv`, then train one with `task2box train --relation transfer`.'
    : 'No containment map yet. Train one with `task2box train --relation containment`.';
}

/**
 * One entry of a related list.
 * @param {object} item - RelatedItem.
 * @param {PanelActions} actions - Callbacks.
 * @returns {HTMLElement} The list item.
 */
function relatedItem(item, actions) {
  const score = Math.min(1, Math.max(0, Number(item.score) || 0));
  const button = el('button', { className: 'related-entry', attrs: { type: 'button', title: `Select ${item.id}` } }, [
    el('span', { className: 'related-id', text: item.id }),
    el('span', { className: 'related-score', text: formatPercent(score) }),
    el('span', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, [el('span', { className: 'bar-fill' })]),
  ]);
  // Width through the CSSOM (not a style attribute), which the CSP allows.
  button.querySelector('.bar-fill').style.width = `${Math.round(score * 100)}%`;
  button.addEventListener('click', () => actions.select(item.id));
  const shared = item.shared_labels || [];
  const meta = [
    `P(in) ${formatPercent(item.p_in)} · P(contains) ${formatPercent(item.p_contains)}`,
    item.measured ? '' : ' · predicted',
  ].join('');
  return el('li', {}, [
    button,
    el('p', { className: 'related-meta', text: meta }),
    shared.length ? el('p', { className: 'related-shared', text: `Shared: ${shared.slice(0, MAX_SHARED_SHOWN).join(', ')}${shared.length > MAX_SHARED_SHOWN ? ` +${shared.length - MAX_SHARED_SHOWN} more` : ''}` }) : null,
  ]);
}

/**
 * Render the result of placing a pasted label set.
 * @param {HTMLElement} body - The panel body.
 * @param {object} result - PlacePublic.
 * @param {{labels: number, drawn: boolean, mapLabel: string}} info - Label count and whether
 *   its box is drawn on the current map.
 * @param {PanelActions} actions - Callbacks.
 */
export function renderPlaced(body, result, info, actions) {
  body.append(el('p', { className: 'hint', text: info.drawn ? 'The dashed box is where the trained network puts a dataset with these labels. Nothing was stored.' : `No predicted box for the map on screen (${info.mapLabel}); scores come from map ${result.map.id} (${result.map.dim}-D).` }));
  const lists = [
    { spec: { key: 'placed-in', relation: result.map.relation, role: 'container', title: 'Contained in', hint: 'Datasets whose classes would cover yours.' }, data: { map: result.map, items: result.contained_in }, error: null },
    { spec: { key: 'placed-contains', relation: result.map.relation, role: 'contained', title: 'Contains', hint: 'Datasets whose classes yours would cover.' }, data: { map: result.map, items: result.contains }, error: null },
  ];
  for (const list of lists) body.append(relatedSection(list, actions));
}

/**
 * List the datasets caught by a lasso.
 * @param {HTMLElement} body - The panel body.
 * @param {string[]} ids - Dataset ids.
 * @param {PanelActions} actions - Callbacks.
 */
export function renderLasso(body, ids, actions) {
  const ol = el('ol', { className: 'related' });
  for (const id of ids.slice(0, MAX_LASSO_SHOWN)) {
    const button = el('button', { className: 'related-entry', attrs: { type: 'button' } }, [el('span', { className: 'related-id', text: id })]);
    button.addEventListener('click', () => actions.select(id));
    ol.append(el('li', {}, [button]));
  }
  body.append(ol);
  if (ids.length > MAX_LASSO_SHOWN) body.append(el('p', { className: 'muted', text: `…and ${ids.length - MAX_LASSO_SHOWN} more.` }));
}

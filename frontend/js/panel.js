// @ts-check
/**
 * The side panel (a bottom sheet on narrow screens): its frame, and the selected dataset's
 * facts, labels and related lists (the lists themselves are built in related.js).
 *
 * Expected DOM: <aside id="panel"> holding #panel-title, #panel-close and #panel-body.
 * Every Hub string is inserted as text through dom.js.
 */

import { byId, clear, el } from './dom.js';
import { hubUrl } from './ids.js';
import { formatCount, truncate } from './text.js';
import { relatedSection, section } from './related.js';

const NOT_COUNTED = 'not known (built-in catalog, offline)';

export const MAX_LABELS_SHOWN = 50;
export const MAX_DESCRIPTION_CHARS = 600;

/**
 * @typedef {object} PanelActions
 * @property {(id: string) => void} select - Select another dataset.
 * @property {() => void} [exportCsv] - Download the related lists.
 * @property {() => void} [zoom] - Zoom the map to the selected box.
 * @property {(id: string|null) => void} [hover] - A list row is hovered (null: left): its
 *   box is outlined on the map.
 * @property {(only: boolean) => void} [onlyRelated] - "Show only related" was toggled.
 */

/**
 * Where the selection stands on the drawn map, for the panel's notes and lists.
 * @typedef {object} PanelWhere
 * @property {boolean} onMap - Whether its box is on the drawn map.
 * @property {string} mapLabel - The drawn map's name.
 * @property {import('./selection.js').Arranged} arranged - Its lists, arranged.
 * @property {(spec: import('./selection.js').ListSpec, item: import('./schemas.js').RelatedItem)
 *   => number|null} [drawn] - The drawn map's share for a row.
 * @property {boolean} [onlyRelated] - Whether the map shows only the related boxes.
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
 * Render the selected dataset.
 * @param {HTMLElement} body - The panel body (from openPanel).
 * @param {import('./schemas.js').DatasetPublic} dataset - The dataset.
 * @param {import('./selection.js').ListResult[]} lists - Related lists.
 * @param {PanelWhere} where - Its box on the drawn map, and its arranged lists.
 * @param {PanelActions} actions - Callbacks.
 */
export function renderDataset(body, dataset, lists, where, actions) {
  const link = hubUrl(dataset.id);
  const buttons = [
    link
      ? el('a', {
          className: 'btn',
          text: 'Open on the Hub ↗',
          href: link,
          attrs: { target: '_blank', rel: 'noopener noreferrer' },
        })
      : null,
    where.onMap && actions.zoom
      ? el('button', {
          className: 'btn',
          text: 'Zoom to box',
          attrs: { type: 'button', 'data-action': 'zoom' },
        })
      : null,
    actions.exportCsv
      ? el('button', {
          className: 'btn',
          text: 'Export CSV',
          attrs: { type: 'button', 'data-action': 'export' },
        })
      : null,
  ];
  const bar = el('div', { className: 'actions' }, buttons);
  const onlyRelated = actions.onlyRelated;
  if (where.onMap && onlyRelated) {
    const box = /** @type {HTMLInputElement} */ (
      el('input', { attrs: { type: 'checkbox', id: 'only-related', 'data-action': 'only-related' } })
    );
    box.checked = Boolean(where.onlyRelated);
    box.addEventListener('change', () => onlyRelated(box.checked));
    bar.append(el('label', { className: 'check', attrs: { for: 'only-related' } }, [box, 'Show only related']));
  }
  bar.addEventListener('click', (event) => {
    const action = event.target instanceof Element ? event.target.getAttribute('data-action') : null;
    if (action === 'zoom' && actions.zoom) actions.zoom();
    if (action === 'export' && actions.exportCsv) actions.exportCsv();
  });
  body.append(bar);
  if (!where.onMap) {
    body.append(
      el('p', {
        className: 'notice',
        text: `Not drawn on ${where.mapLabel}${dataset.status !== 'ok' ? ` (${dataset.status}${dataset.skip_reason ? `: ${dataset.skip_reason}` : ''})` : ''}.`,
      }),
    );
  }
  const splits = Object.entries(dataset.splits || {})
    .map(([name, n]) => `${name} ${formatCount(n)}`)
    .join(' · ');
  // The built-in catalog records counts only as read from the Hub, with their date; a
  // catalog entry with none has unknown counts, not zero downloads.
  const uncounted = dataset.source === 'catalog' && !dataset.downloads && !dataset.likes;
  body.append(
    facts([
      ['Classes', Number.isFinite(dataset.num_labels) ? dataset.num_labels.toLocaleString('en-US') : null],
      [
        'Examples',
        dataset.num_examples === null || dataset.num_examples === undefined
          ? 'unknown'
          : dataset.num_examples.toLocaleString('en-US'),
      ],
      ['Splits', splits || null],
      ['Downloads', uncounted ? NOT_COUNTED : formatCount(dataset.downloads)],
      ['Likes', uncounted ? NOT_COUNTED : formatCount(dataset.likes)],
      ['License', dataset.license || 'none given'],
      ['Author', dataset.author || null],
      ['Updated', dataset.last_modified ? String(dataset.last_modified).slice(0, 10) : null],
      ['Source', dataset.source || null],
    ]),
  );
  // Filled after the lists by the page (`samples.js`), when the viewer has images.
  body.append(el('div', { className: 'samples', attrs: { 'data-samples': '', hidden: true } }));
  if (dataset.description) {
    body.append(
      el('p', { className: 'description', text: truncate(dataset.description, MAX_DESCRIPTION_CHARS) }),
    );
  }
  body.append(labelsSection(dataset));
  const drawn = where.drawn;
  for (const list of lists) {
    const arranged = where.arranged.lists.get(list.spec.key) || { ranked: [], weak: [], moved: [] };
    const other = lists.find((l) => l !== list && l.spec.relation === list.spec.relation);
    /** @type {import('./related.js').ListContext} */
    const context = { arranged, roles: where.arranged.roles, drawnMap: where.mapLabel };
    if (other) context.movedTo = other.spec.title;
    if (drawn) context.drawn = (item) => drawn(list.spec, item);
    body.append(relatedSection(list, context, actions));
  }
  if (Array.isArray(dataset.tags) && dataset.tags.length) {
    body.append(
      section('Tags', [
        el(
          'ul',
          { className: 'chips' },
          dataset.tags.slice(0, 40).map((t) => el('li', { text: t })),
        ),
      ]),
    );
  }
}

/**
 * The first labels, with the total.
 * @param {import('./schemas.js').DatasetPublic} dataset - The dataset.
 * @returns {HTMLElement} The section.
 */
function labelsSection(dataset) {
  const labels = (dataset.labels || []).slice(0, MAX_LABELS_SHOWN);
  const total = Number.isFinite(dataset.num_labels) ? dataset.num_labels : labels.length;
  const title =
    total > labels.length
      ? `Labels (first ${labels.length} of ${total.toLocaleString('en-US')})`
      : `Labels (${total.toLocaleString('en-US')})`;
  const content = labels.length
    ? el(
        'ul',
        { className: 'chips', attrs: { 'data-testid': 'labels' } },
        labels.map((l) => el('li', { text: l })),
      )
    : el('p', { className: 'muted', text: 'No labels recorded.' });
  const note = dataset.opaque_labels
    ? el('p', {
        className: 'hint',
        attrs: { 'data-testid': 'opaque-labels' },
        text: 'These class names are numbers or codes, which say nothing on their own: they are not counted as shared with another dataset unless the two descriptions say they are the same kind of data.',
      })
    : null;
  return section(title, [note, content]);
}

// @ts-check
/**
 * The panel's ranked lists: related datasets (of a selection or of a placed label set) and a
 * lasso's catch. Every entry is a button that selects that dataset. Hub text goes in as text.
 */

import { el, withCode } from './dom.js';
import { formatPercent } from './text.js';
import { ROLE_STYLES } from './colors.js';

export const MAX_SHARED_SHOWN = 6;

/**
 * A titled section.
 * @param {string} title - Heading text.
 * @param {Array<Node|string|null>} children - Content.
 * @param {string} [swatch] - A colour shown next to the title (the map highlight).
 * @returns {HTMLElement} The section.
 */
export function section(title, children, swatch) {
  const heading = el('h3', {}, [
    swatch ? el('span', { className: `swatch swatch-${swatch}`, attrs: { 'aria-hidden': 'true' } }) : null,
    title,
  ]);
  return el('section', { className: 'panel-section' }, [heading, ...children]);
}

/**
 * One ranked related list; each entry is a button that selects that dataset.
 * @param {import('./selection.js').ListResult} list - The list and its spec.
 * @param {import('./panel.js').PanelActions} actions - Callbacks.
 * @returns {HTMLElement} The section.
 */
export function relatedSection(list, actions) {
  const { spec, data, error } = list;
  const parts = [el('p', { className: 'hint', text: spec.hint })];
  if (error) {
    // Commands show as <code>, as in the map's notice (withCode).
    parts.push(
      error.status === 404 || error.status === 422
        ? el('p', { className: 'muted' }, withCode(unavailableText(spec.relation)))
        : el('p', { className: 'muted', text: `Could not load: ${error.message}` }),
    );
  } else if (!data || data.items.length === 0) {
    parts.push(el('p', { className: 'muted', text: 'None found.' }));
  } else {
    parts.push(
      el('p', {
        className: 'hint',
        text: `Scores from map ${data.map.id} (${data.map.relation}, ${data.map.dim}-D).`,
      }),
    );
    for (const group of relatedGroups(spec.relation, data.items)) {
      if (group.title) parts.push(el('h4', { className: 'related-group', text: group.title }));
      if (group.hint) parts.push(el('p', { className: 'hint', text: group.hint }));
      const ol = el('ol', {
        className: 'related',
        attrs: { 'data-list': spec.key, 'data-group': group.key },
      });
      for (const item of group.items) ol.append(relatedItem(item, actions));
      parts.push(ol);
    }
  }
  return section(spec.title, parts, spec.role && ROLE_STYLES[spec.role] ? spec.role : undefined);
}

/**
 * A containment list in its two groups, in the server's order: the datasets that share
 * classes with the query (counted from the class names, listed first by the server), then
 * the ones the map predicts. Other relations are one untitled group. Empty groups are left
 * out.
 * @param {string} relation - The list's relation.
 * @template {{measured: boolean}} T
 * @param {T[]} items - RelatedItems, as the server ranked them.
 * @returns {Array<{key: string, title: string, hint: string, items: T[]}>} Groups.
 */
export function relatedGroups(relation, items) {
  if (relation !== 'containment') return [{ key: 'all', title: '', hint: '', items }];
  const groups = [
    {
      key: 'measured',
      title: 'Shares these classes',
      hint: 'Counted from the class names: the percentage is the share of classes covered.',
      items: items.filter((item) => item.measured),
    },
    {
      key: 'predicted',
      title: 'Predicted from the map',
      hint: 'No class in common by name; ranked by how much the boxes overlap.',
      items: items.filter((item) => !item.measured),
    },
  ];
  return groups.filter((group) => group.items.length > 0);
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
 * @param {import('./schemas.js').RelatedItem} item - The entry.
 * @param {import('./panel.js').PanelActions} actions - Callbacks.
 * @returns {HTMLElement} The list item.
 */
function relatedItem(item, actions) {
  const score = Math.min(1, Math.max(0, Number(item.score) || 0));
  const button = el(
    'button',
    { className: 'related-entry', attrs: { type: 'button', title: `Select ${item.id}` } },
    [
      el('span', { className: 'related-id', text: item.id }),
      el('span', { className: 'related-score', text: formatPercent(score) }),
      el('span', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, [
        el('span', { className: 'bar-fill' }),
      ]),
    ],
  );
  // Width through the CSSOM (not a style attribute), which the CSP allows.
  /** @type {HTMLElement} */ (button.querySelector('.bar-fill')).style.width = `${Math.round(score * 100)}%`;
  button.addEventListener('click', () => actions.select(item.id));
  const shared = item.shared_labels || [];
  const meta = `Map: P(in) ${formatPercent(item.p_in)} · P(contains) ${formatPercent(item.p_contains)}`;
  return el('li', {}, [
    button,
    el('p', { className: 'related-meta', text: meta }),
    shared.length
      ? el('p', {
          className: 'related-shared',
          text: `Shared: ${shared.slice(0, MAX_SHARED_SHOWN).join(', ')}${shared.length > MAX_SHARED_SHOWN ? ` +${shared.length - MAX_SHARED_SHOWN} more` : ''}`,
        })
      : null,
  ]);
}

/**
 * Render the result of placing a pasted label set.
 * @param {HTMLElement} body - The panel body.
 * @param {import('./schemas.js').PlacePublic} result - The API's answer.
 * @param {{labels: number, drawn: boolean, mapLabel: string}} info - Label count and whether
 *   its box is drawn on the current map.
 * @param {import('./panel.js').PanelActions} actions - Callbacks.
 */
export function renderPlaced(body, result, info, actions) {
  body.append(
    el('p', {
      className: 'hint',
      text: info.drawn
        ? 'The dashed box is where the trained network puts a dataset with these labels. Nothing was stored.'
        : `No predicted box for the map on screen (${info.mapLabel}); scores come from map ${result.map.id} (${result.map.dim}-D).`,
    }),
  );
  const lists = [
    {
      spec: {
        key: 'placed-in',
        relation: result.map.relation,
        role: 'container',
        title: 'Contained in',
        hint: 'Datasets whose classes would cover yours.',
      },
      data: { relation: result.map.relation, map: result.map, items: result.contained_in },
      error: null,
    },
    {
      spec: {
        key: 'placed-contains',
        relation: result.map.relation,
        role: 'contained',
        title: 'Contains',
        hint: 'Datasets whose classes yours would cover.',
      },
      data: { relation: result.map.relation, map: result.map, items: result.contains },
      error: null,
    },
  ];
  for (const list of lists) body.append(relatedSection(list, actions));
}

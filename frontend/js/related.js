// @ts-check
/**
 * The panel's ranked lists: related datasets (of a selection or of a placed label set) and a
 * lasso's catch. Every entry is a button that selects that dataset. Hub text goes in as text.
 */

import { el, withCode } from './dom.js';
import { formatPercent } from './text.js';
import { ROLE_STYLES } from './colors.js';
import { disagrees } from './agreement.js';
import { arrangeLists, placedLists } from './selection.js';

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
 * What a list needs besides its rows: how the rows were arranged (selection.arrangeLists),
 * the map's highlights, and the drawn map's share per row (agreement.js).
 * @typedef {object} ListContext
 * @property {import('./selection.js').ArrangedList} arranged - Ranked, weak and moved rows.
 * @property {Map<string, string>} roles - Dataset id → map highlight.
 * @property {(item: import('./schemas.js').RelatedItem) => number|null} [drawn] - The drawn
 *   2-D map's share for a row (null when not drawn there).
 * @property {string} [drawnMap] - The drawn map's dimension and name, for the disagreement note.
 * @property {string} [movedTo] - The title of the list that holds the moved rows.
 */

/**
 * One ranked related list: the rows scoring at least 1% with their rank badge (the same
 * number the map draws beside the box), the rest folded into "N weak matches", and "nothing
 * related" said in words. Each entry is a button that selects that dataset; hovering or
 * focusing a row outlines its box on the map (`actions.hover`).
 * @param {import('./selection.js').ListResult} list - The list and its spec.
 * @param {ListContext} context - Its arrangement and the map's highlights.
 * @param {import('./panel.js').PanelActions} actions - Callbacks.
 * @returns {HTMLElement} The section.
 */
export function relatedSection(list, context, actions) {
  const { spec, data, error } = list;
  const { ranked, weak, moved } = context.arranged;
  const parts = [el('p', { className: 'hint', text: spec.hint })];
  if (error) {
    // Commands show as <code>, as in the map's notice (withCode).
    parts.push(
      error.status === 404 || error.status === 422
        ? el('p', { className: 'muted' }, withCode(unavailableText(spec.relation)))
        : el('p', { className: 'muted', text: `Could not load: ${error.message}` }),
    );
  } else if (!data || ranked.length + weak.length + moved.length === 0) {
    parts.push(el('p', { className: 'muted', attrs: { 'data-testid': 'nothing-related' }, text: nothingText(0) }));
  } else {
    parts.push(
      el('p', {
        className: 'hint',
        text: `Scores from map ${data.map.id} (${data.map.relation}, ${data.map.dim}-D).`,
      }),
    );
    if (ranked.length === 0) {
      parts.push(
        el('p', { className: 'muted', attrs: { 'data-testid': 'nothing-related' }, text: nothingText(weak.length) }),
      );
    }
    /** @type {Map<string, number>} */
    const rankOf = new Map(ranked.map((item, k) => [item.id, k + 1]));
    let disagreeing = 0;
    for (const group of relatedGroups(spec.relation, ranked)) {
      if (group.title) parts.push(el('h4', { className: 'related-group', text: group.title }));
      if (group.hint) parts.push(el('p', { className: 'hint', text: group.hint }));
      const ol = el('ol', {
        className: 'related',
        attrs: { 'data-list': spec.key, 'data-group': group.key },
      });
      for (const item of group.items) {
        const drawn = context.drawn ? context.drawn(item) : null;
        const off = disagrees(drawn, Number(item.score));
        if (off) disagreeing += 1;
        const highlighted = spec.role !== null && context.roles.get(item.id) === spec.role;
        ol.append(
          relatedItem(item, actions, {
            rank: rankOf.get(item.id) ?? null,
            role: highlighted ? spec.role : null,
            drawn: off ? drawn : null,
          }),
        );
      }
      parts.push(ol);
    }
    if (disagreeing > 0) {
      parts.push(
        el('p', {
          className: 'notice',
          attrs: { 'data-testid': 'disagree' },
          text: `The drawn map (${context.drawnMap || '2-D'}) disagrees with ${disagreeing === 1 ? 'one of these scores' : `${disagreeing} of these scores`} by 50 points or more: the scores come from ${data.map.dim}-D boxes${spec.relation === 'containment' ? ' or the counted classes' : ''}, and a 2-D picture cannot keep every overlap.`,
        }),
      );
    }
    if (weak.length) parts.push(weakMatches(spec, weak, actions));
    if (moved.length) {
      parts.push(
        el('p', {
          className: 'hint',
          attrs: { 'data-testid': 'moved' },
          text: `${moved.length === 1 ? 'One more is' : `${moved.length} more are`} listed ${context.movedTo ? `under “${context.movedTo}”` : 'in the other direction'}, where ${moved.length === 1 ? 'its' : 'their'} share is larger.`,
        }),
      );
    }
  }
  return section(spec.title, parts, spec.role && ROLE_STYLES[spec.role] ? spec.role : undefined);
}

/**
 * "Nothing related", in words.
 * @param {number} weak - How many rows score below 1%.
 * @returns {string} The sentence.
 */
function nothingText(weak) {
  return weak
    ? 'Nothing related: no dataset reaches 1% in this direction.'
    : 'Nothing related: no dataset shares a class or overlaps in this direction.';
}

/**
 * Rows below 1%, folded: listed for completeness, not ranked or highlighted.
 * @param {import('./selection.js').ListSpec} spec - The list.
 * @param {import('./schemas.js').RelatedItem[]} weak - Its weak rows.
 * @param {import('./panel.js').PanelActions} actions - Callbacks.
 * @returns {HTMLElement} A closed <details>.
 */
function weakMatches(spec, weak, actions) {
  const ol = el('ol', { className: 'related related-weak', attrs: { 'data-list': spec.key, 'data-group': 'weak' } });
  for (const item of weak) ol.append(relatedItem(item, actions, { rank: null, role: null, drawn: null }));
  return el('details', { className: 'weak-matches' }, [
    el('summary', {
      text: `${weak.length === 1 ? 'One weak match' : `${weak.length} weak matches`} (below 1%)`,
    }),
    ol,
  ]);
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
 * @param {{rank: number|null, role: string|null, drawn: number|null}} badge - Its rank (null:
 *   unranked), the map highlight it is drawn in (null: not highlighted by this list), and the
 *   drawn map's share when it disagrees with the score.
 * @returns {HTMLElement} The list item.
 */
function relatedItem(item, actions, badge) {
  const score = Math.min(1, Math.max(0, Number(item.score) || 0));
  const button = el(
    'button',
    { className: 'related-entry', attrs: { type: 'button', title: `Select ${item.id}` } },
    [
      el('span', { className: 'related-name' }, [
        badge.rank !== null
          ? el('span', {
              className: `rank-badge${badge.role ? ` rank-badge-${badge.role}` : ''}`,
              text: String(badge.rank),
              attrs: { 'aria-label': `rank ${badge.rank}${badge.role ? ', highlighted on the map' : ''}` },
            })
          : null,
        el('span', { className: 'related-id', text: item.id }),
      ]),
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
  const li = el('li', { attrs: { 'data-id': item.id, 'data-role': badge.role || '' } }, [
    button,
    el('p', { className: 'related-meta', text: meta }),
    shared.length
      ? el('p', {
          className: 'related-shared',
          text: `Shared: ${shared.slice(0, MAX_SHARED_SHOWN).join(', ')}${shared.length > MAX_SHARED_SHOWN ? ` +${shared.length - MAX_SHARED_SHOWN} more` : ''}`,
        })
      : null,
    badge.drawn !== null
      ? el('p', {
          className: 'related-disagree',
          text: `On the drawn map: ${formatPercent(badge.drawn)}, which disagrees with this score.`,
        })
      : null,
  ]);
  const hover = actions.hover;
  if (hover) {
    li.addEventListener('mouseenter', () => hover(item.id));
    li.addEventListener('mouseleave', () => hover(null));
    button.addEventListener('focus', () => hover(item.id));
    button.addEventListener('blur', () => hover(null));
  }
  return li;
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
  const lists = placedLists(result);
  const arranged = arrangeLists(null, lists);
  for (const list of lists) {
    const own = arranged.lists.get(list.spec.key) || { ranked: [], weak: [], moved: [] };
    const other = lists.find((l) => l !== list && l.spec.relation === list.spec.relation);
    body.append(
      relatedSection(list, { arranged: own, roles: arranged.roles, movedTo: other ? other.spec.title : undefined }, actions),
    );
  }
}

// @ts-check
/**
 * The message laid over the map when there is nothing to draw: no map trained yet, no
 * transfer scores imported, or the server unreachable.
 *
 * Expected DOM: div#map-notice holding h2#notice-title and div#notice-body.
 */

import { byId, clear, el } from './dom.js';

/**
 * Show a notice. Text inside backticks is shown as a command.
 * @param {string} title - Heading.
 * @param {string[]} paragraphs - Body text.
 */
export function showNotice(title, paragraphs) {
  byId('notice-title').textContent = title;
  const body = byId('notice-body');
  clear(body);
  for (const text of paragraphs) {
    const p = el('p');
    text.split(/(`[^`]+`)/).forEach((part) => {
      if (part.startsWith('`') && part.endsWith('`') && part.length > 2)
        p.append(el('code', { text: part.slice(1, -1) }));
      else if (part) p.append(document.createTextNode(part));
    });
    body.append(p);
  }
  byId('map-notice').hidden = false;
}

/** Hide the notice. */
export function hideNotice() {
  byId('map-notice').hidden = true;
}

/**
 * The empty state for a relation with no published map.
 * @param {string} relation - 'containment' or 'transfer'.
 * @param {number|null} datasets - How many datasets the database holds, if known.
 * @returns {{title: string, paragraphs: string[]}} What to show.
 */
export function emptyMapText(relation, datasets) {
  if (datasets === 0) {
    return {
      title: 'No datasets yet',
      paragraphs: [
        'The database is empty. Fetch the Hub’s image-classification datasets with `task2box crawl` (or start the app with `task2box up`, which also falls back to a built-in catalog offline).',
        'Then train the first map with `task2box train --relation containment --dim 2`.',
      ],
    };
  }
  if (relation === 'transfer') {
    return {
      title: 'No transfer map yet',
      paragraphs: [
        'Transfer scores are measured, not derived from labels. Import a source→target matrix with `task2box import-transfer FILE.csv` (columns `source,target,score`).',
        'Then train the map with `task2box train --relation transfer --dim 2`. Datasets without measured scores are placed from their features.',
      ],
    };
  }
  return {
    title: 'No map trained yet',
    paragraphs: [
      `${datasets ? `${datasets.toLocaleString('en-US')} datasets are in the database, but no` : 'No'} containment map has been published.`,
      'Train one with `task2box train --relation containment --dim 2`; this page picks it up when the job finishes.',
    ],
  };
}

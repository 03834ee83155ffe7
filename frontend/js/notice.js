// @ts-check
/**
 * The message laid over the map when there is nothing to draw: no map trained yet, no
 * transfer scores imported, or the server unreachable.
 *
 * Expected DOM: div#map-notice holding h2#notice-title and div#notice-body.
 */

import { byId, clear, el, withCode } from './dom.js';

/** The transfer guide (docs/transfer.md, rendered by the server) and its sample scores. */
export const TRANSFER_GUIDE_URL = '/guide/transfer';
export const TRANSFER_SAMPLE_URL = '/guide/transfer-sample.csv';

/**
 * A link under a notice's text.
 * @typedef {{text: string, href: string, download?: string}} NoticeLink
 */

/**
 * Show a notice. Text inside backticks is shown as a command.
 * @param {string} title - Heading.
 * @param {string[]} paragraphs - Body text.
 * @param {NoticeLink[]} [links] - Links shown under the text (same-origin paths).
 * @param {{backdrop?: boolean}} [opts] - backdrop: a map is drawn, faded, under the card.
 */
export function showNotice(title, paragraphs, links = [], opts = {}) {
  byId('notice-title').textContent = title;
  const body = byId('notice-body');
  clear(body);
  for (const text of paragraphs) body.append(el('p', {}, withCode(text)));
  if (links.length) {
    body.append(
      el(
        'p',
        { className: 'notice-links' },
        links.map((link) =>
          el('a', { text: link.text, href: link.href, attrs: link.download ? { download: link.download } : {} }),
        ),
      ),
    );
  }
  const notice = byId('map-notice');
  notice.classList.toggle('over-map', Boolean(opts.backdrop));
  notice.hidden = false;
}

/** Hide the notice. */
export function hideNotice() {
  byId('map-notice').hidden = true;
}

/**
 * The empty state for a relation with no published map.
 * @param {string} relation - 'containment' or 'transfer'.
 * @param {number|null} datasets - How many datasets the database holds, if known.
 * @returns {{title: string, paragraphs: string[], links: NoticeLink[]}} What to show.
 */
export function emptyMapText(relation, datasets) {
  if (datasets === 0) {
    return {
      title: 'No datasets yet',
      paragraphs: [
        'The database is empty. Fetch the Hub’s image-classification datasets with `task2box crawl` (or start the app with `task2box up`, which also falls back to a built-in catalog offline).',
        'Then train the first map with `task2box train --relation containment --dim 2`.',
      ],
      links: [],
    };
  }
  if (relation === 'transfer') {
    return {
      title: 'No transfer map yet',
      paragraphs: [
        'A transfer score says how well a model trained on one dataset (the source) does on another (the target): higher is better.',
        'Scores are measured by you or a benchmark, by fine-tuning one dataset’s model on the other, and cannot be derived from class names, so this map appears once someone imports them.',
        'Import a CSV of `source,target,score` rows with `task2box import-transfer FILE.csv`, then train the map with `task2box train --relation transfer --dim 2`. Datasets without measured scores are placed from their features.',
      ],
      links: [
        { text: 'Download a sample CSV', href: TRANSFER_SAMPLE_URL, download: 'transfer-sample.csv' },
        { text: 'Read the transfer guide', href: TRANSFER_GUIDE_URL },
      ],
    };
  }
  return {
    title: 'No map trained yet',
    paragraphs: [
      `${datasets ? `${datasets.toLocaleString('en-US')} datasets are in the database, but no` : 'No'} containment map has been published.`,
      'Train one with `task2box train --relation containment --dim 2`; this page picks it up when the job finishes.',
    ],
    links: [],
  };
}

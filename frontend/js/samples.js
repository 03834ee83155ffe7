// @ts-check
/**
 * A strip of sample images of the selected dataset, from the dataset viewer (online only).
 *
 * The server names the images (`GET /api/samples/{id}`); the browser loads them from the
 * viewer's host, which the page's CSP allows for images. Offline, or when the viewer has
 * none, the answer is empty and the strip stays hidden: absent, never broken.
 */

import { clear, el } from './dom.js';

/** Images shown at most, whatever the server sends. */
export const MAX_SHOWN = 8;
const MAX_LABEL_CHARS = 200;
const IMAGE_URL = /^https?:\/\/[^\s"'<>]+$/;

/**
 * The images worth drawing: http(s) URLs only, labels bounded, at most `MAX_SHOWN`.
 * @param {import('./schemas.js').SamplesPublic | null | undefined} payload - The API's answer.
 * @returns {{src: string, label: string}[]} What to draw.
 */
export function sampleItems(payload) {
  const items = payload && Array.isArray(payload.items) ? payload.items : [];
  return items
    .filter((item) => item && typeof item.src === 'string' && IMAGE_URL.test(item.src))
    .slice(0, MAX_SHOWN)
    .map((item) => ({
      src: item.src,
      label: typeof item.label === 'string' ? item.label.slice(0, MAX_LABEL_CHARS) : '',
    }));
}

/**
 * Fill the panel's strip; it stays hidden when there is nothing to show. An image that fails
 * to load removes itself, and the strip hides when none is left.
 * @param {HTMLElement} slot - The panel's `[data-samples]` element.
 * @param {{src: string, label: string}[]} items - From `sampleItems`.
 */
export function renderSamples(slot, items) {
  clear(slot);
  slot.hidden = items.length === 0;
  if (!items.length) return;
  const strip = el('div', { className: 'sample-strip' });
  for (const item of items) {
    const image = /** @type {HTMLImageElement} */ (
      el('img', { attrs: { alt: item.label || 'sample image', title: item.label, loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer', width: 64, height: 64 } })
    );
    image.addEventListener('error', () => {
      image.remove();
      if (!strip.querySelector('img')) slot.hidden = true;
    });
    image.src = item.src; // checked by sampleItems; the CSP allows only the viewer's host
    strip.append(image);
  }
  slot.append(el('h3', { text: 'Sample images' }), strip);
}

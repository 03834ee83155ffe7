// @ts-check
/**
 * "Place my dataset": paste labels, get the predicted box from `POST /api/place`.
 *
 * Expected DOM: dialog#place-dialog with form#place-form, textarea#place-labels,
 * p#place-error and button#place-cancel; button#place-open opens it.
 */

import { placeDataset } from './api.js';
import { byId } from './dom.js';

export const MAX_LABELS = 10000;
export const MAX_LABEL_CHARS = 200;
export const MAX_INPUT_CHARS = 2_000_000;

/**
 * Labels from pasted text: one per line, or comma-separated when it is a single line.
 * Blank entries and exact duplicates are dropped; limits match the API's.
 * @param {string} text - What the user pasted.
 * @returns {{labels: string[], error: string|null}} Labels, or why they cannot be sent.
 */
export function parseLabels(text) {
  const raw = String(text).slice(0, MAX_INPUT_CHARS);
  const parts = /\n/.test(raw.trim()) ? raw.split(/\r?\n/) : raw.split(',');
  const labels = [];
  const seen = new Set();
  for (const part of parts) {
    const label = part.trim();
    if (!label || seen.has(label)) continue;
    if (label.length > MAX_LABEL_CHARS) {
      return {
        labels: [],
        error: `A label is longer than ${MAX_LABEL_CHARS} characters: “${label.slice(0, 40)}…”.`,
      };
    }
    seen.add(label);
    labels.push(label);
  }
  if (labels.length === 0)
    return { labels, error: 'Paste at least one label: one per line, or separated by commas.' };
  if (labels.length > MAX_LABELS)
    return {
      labels: [],
      error: `At most ${MAX_LABELS.toLocaleString('en-US')} labels, got ${labels.length.toLocaleString('en-US')}.`,
    };
  return { labels, error: null };
}

/**
 * Wire the dialog.
 * @param {() => string} relation - The page's current relation.
 * @param {(result: import('./schemas.js').PlacePublic, labels: string[]) => void} onPlaced -
 *   Called with the API's answer and the labels sent.
 */
export function bindPlace(relation, onPlaced) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('place-dialog'));
  const form = /** @type {HTMLFormElement} */ (byId('place-form'));
  const textarea = /** @type {HTMLTextAreaElement} */ (byId('place-labels'));
  const error = byId('place-error');
  const submit = /** @type {HTMLButtonElement} */ (byId('place-submit'));
  byId('place-open').addEventListener('click', () => {
    error.textContent = '';
    dialog.showModal();
    textarea.focus();
  });
  byId('place-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { labels, error: problem } = parseLabels(textarea.value);
    if (problem) {
      error.textContent = problem;
      return;
    }
    submit.disabled = true;
    error.textContent = 'Placing…';
    try {
      const result = await placeDataset({ labels, relation: relation() });
      error.textContent = '';
      dialog.close();
      onPlaced(result, labels);
    } catch (err) {
      error.textContent = `Could not place it: ${err instanceof Error ? err.message : err}`;
    } finally {
      submit.disabled = false;
    }
  });
}

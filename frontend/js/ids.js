// @ts-check
/**
 * Dataset ids: validation and the Hub link. Pure; no DOM.
 *
 * Ids come from the Hub (untrusted). The pattern mirrors DATASET_ID_PATTERN in
 * backend/schemas.py, so the page refuses exactly what the API refuses.
 */

export const DATASET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(\/[A-Za-z0-9._-]{1,96})?$/;
export const MAX_ID_LENGTH = 200;
export const HUB_DATASETS_URL = 'https://huggingface.co/datasets/';

/**
 * Whether a value is a well-formed Hub dataset id (`name` or `owner/name`).
 * @param {unknown} id - The candidate.
 * @returns {boolean} True when it matches the API's id pattern.
 */
export function isDatasetId(id) {
  return (
    typeof id === 'string' &&
    id.length <= MAX_ID_LENGTH &&
    DATASET_ID_PATTERN.test(id) &&
    !id.split('/').some((part) => part === '.' || part === '..')
  );
}

/**
 * Percent-encode an id for a URL path, keeping the one slash between owner and name.
 * @param {string} id - A valid dataset id.
 * @returns {string} The encoded path segment(s).
 * @throws {Error} When the id is malformed.
 */
export function encodeIdPath(id) {
  if (!isDatasetId(id)) {
    throw new Error(`not a dataset id: ${JSON.stringify(String(id).slice(0, 80))}`);
  }
  return id.split('/').map(encodeURIComponent).join('/');
}

/**
 * The dataset's page on the Hugging Face Hub, or null for a malformed id.
 * Built from the validated id, never from a URL the API or the Hub sent.
 * @param {string} id - The dataset id.
 * @returns {string|null} An https URL under huggingface.co/datasets/.
 */
export function hubUrl(id) {
  return isDatasetId(id) ? HUB_DATASETS_URL + encodeIdPath(id) : null;
}

// @ts-check
/**
 * One fetch wrapper per REST endpoint (backend/schemas.py is the contract).
 *
 * Every call resolves to the parsed JSON body or rejects with an ApiError that carries the
 * server's `{"error", "detail"}` (or a network/timeout description). URLs are relative, so
 * the page also works when served under a path prefix.
 */

import { encodeIdPath } from './ids.js';

export const REQUEST_TIMEOUT_MS = 20000;
export const SEARCH_LIMIT = 8;

/**
 * An API call that failed: HTTP status (0 for network errors), machine code, message. The
 * code 'aborted' means the caller cancelled it (a superseded request): not a failure to show.
 */
export class ApiError extends Error {
  /**
   * @param {number} status - HTTP status, or 0 when no response arrived.
   * @param {string} code - The server's `error` code, or a local one ('network', 'timeout').
   * @param {string} detail - A human sentence.
   */
  constructor(status, code, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Whether an error is a request its caller cancelled (nothing to show anyone).
 * @param {unknown} err - What a call rejected with.
 * @returns {boolean} True for an ApiError with the code 'aborted'.
 */
export function isAborted(err) {
  return err instanceof ApiError && err.code === 'aborted';
}

/**
 * One request of a kind in flight at a time: each `next()` aborts the signal it handed out
 * before, so a superseded request rejects with the code 'aborted' instead of racing the newer
 * one to the screen.
 * @returns {{next: () => AbortSignal, cancel: () => void}} `next` gives the new request's
 *   signal; `cancel` aborts the one in flight without starting another.
 */
export function latestOnly() {
  /** @type {AbortController|null} */
  let current = null;
  const cancel = () => {
    if (current) current.abort();
    current = null;
  };
  return {
    next: () => {
      cancel();
      current = new AbortController();
      return current.signal;
    },
    cancel,
  };
}

/**
 * A query string from defined, non-empty parameters.
 * @param {Record<string, unknown>} params - Parameter values; null/undefined/'' are skipped.
 * @returns {string} '' or '?a=1&b=2'.
 */
export function buildQuery(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Fetch JSON with a timeout; map failures to ApiError.
 * @param {string} path - Relative URL.
 * @param {{method?: string, body?: unknown, signal?: AbortSignal}} [options] - Request options.
 * @returns {Promise<any>} The parsed body.
 */
async function request(path, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('timeout', 'TimeoutError')),
    REQUEST_TIMEOUT_MS,
  );
  const outer = options.signal;
  const onAbort = () => controller.abort(outer && outer.reason);
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  /** @type {RequestInit} */
  const init = { method: options.method || 'GET', headers, signal: controller.signal };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (outer && outer.aborted) throw new ApiError(0, 'aborted', 'request cancelled');
    if (controller.signal.aborted)
      throw new ApiError(0, 'timeout', `no answer from ${path} within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw new ApiError(0, 'network', `cannot reach the server (${err instanceof Error ? err.message : err})`);
  } finally {
    clearTimeout(timer);
    if (outer) outer.removeEventListener('abort', onAbort);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Cancelled while the body was still arriving: that is no bad JSON.
    if (outer && outer.aborted) throw new ApiError(0, 'aborted', 'request cancelled');
    body = null;
  }
  if (!response.ok) {
    const code = body && typeof body.error === 'string' ? body.error : `http_${response.status}`;
    const detail =
      body && typeof body.detail === 'string' ? body.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, code, detail);
  }
  if (body === null) throw new ApiError(response.status, 'bad_json', `${path} did not return JSON`);
  return body;
}

/**
 * `GET /healthz`: database reachable, published map per relation.
 * @returns {Promise<import('./schemas.js').HealthPublic>} HealthPublic.
 */
export function getHealth() {
  return request('healthz');
}

/**
 * `GET /api/maps`.
 * @returns {Promise<import('./schemas.js').MapsPublic>} MapsPublic.
 */
export function listMaps() {
  return request('api/maps');
}

/**
 * `GET /api/maps/{map_id}/boxes`: the compact column form of every box.
 * @param {string|number} mapId - The map.
 * @returns {Promise<import('./schemas.js').MapBoxesPublic>} MapBoxesPublic.
 */
export function getMapBoxes(mapId) {
  return request(`api/maps/${encodeURIComponent(mapId)}/boxes`);
}

/**
 * `GET /api/datasets`: search and filters, paginated.
 * @param {{q?: string, label?: string, license?: string, minClasses?: number,
 *   maxClasses?: number, minExamples?: number, limit?: number, offset?: number}} params -
 *   Query (`label`: a class name).
 * @param {AbortSignal} [signal] - Cancels a superseded search.
 * @returns {Promise<import('./schemas.js').DatasetsPublic>} DatasetsPublic.
 */
export function searchDatasets(params, signal) {
  const query = buildQuery({
    q: params.q,
    label: params.label,
    license: params.license,
    min_classes: params.minClasses,
    max_classes: params.maxClasses,
    min_examples: params.minExamples,
    limit: params.limit ?? SEARCH_LIMIT,
    offset: params.offset,
  });
  return request(`api/datasets${query}`, { signal });
}

/**
 * `GET /api/datasets/{id}`: metadata, labels and its boxes.
 * @param {string} id - The dataset id.
 * @param {AbortSignal} [signal] - Cancels it when another dataset is selected.
 * @returns {Promise<import('./schemas.js').DatasetPublic>} DatasetPublic.
 */
export function getDataset(id, signal) {
  return request(`api/datasets/${encodeIdPath(id)}`, { signal });
}

/**
 * `GET /api/maps/{mapId}/label-points/{id}`: a dataset's classes as points of a label-set map.
 * @param {number} mapId - A label-set map.
 * @param {string} id - The dataset id.
 * @param {AbortSignal} [signal] - Cancels it when another dataset is selected.
 * @returns {Promise<import('./schemas.js').LabelPointsPublic>} LabelPointsPublic.
 */
export function getLabelPoints(mapId, id, signal) {
  return request(`api/maps/${encodeURIComponent(mapId)}/label-points/${encodeIdPath(id)}`, { signal });
}

/**
 * `GET /api/samples/{id}`: a few images of a dataset, from the dataset viewer.
 * @param {string} id - The dataset id.
 * @param {AbortSignal} [signal] - Cancels it when another dataset is selected.
 * @returns {Promise<import('./schemas.js').SamplesPublic>} SamplesPublic.
 */
export function getSamples(id, signal) {
  return request(`api/samples/${encodeIdPath(id)}`, { signal });
}

/**
 * `GET /api/datasets/{id}/related`: ranked related datasets.
 * @param {string} id - The dataset id.
 * @param {{relation: string, direction: string, k?: number, map?: string|null}} params - Query.
 * @param {AbortSignal} [signal] - Cancels it when another dataset is selected.
 * @returns {Promise<import('./schemas.js').RelatedPublic>} RelatedPublic.
 */
export function getRelated(id, params, signal) {
  const query = buildQuery({
    relation: params.relation,
    direction: params.direction,
    k: params.k,
    map: params.map,
  });
  return request(`api/datasets/${encodeIdPath(id)}/related${query}`, { signal });
}

/**
 * `POST /api/place`: the predicted box of an unseen label set and its related datasets.
 * @param {{labels: string[], relation?: string, k?: number}} body - PlaceRequest.
 * @returns {Promise<import('./schemas.js').PlacePublic>} PlacePublic.
 */
export function placeDataset(body) {
  return request('api/place', { method: 'POST', body });
}

/**
 * `GET /api/jobs?status=`: background jobs.
 * @param {string} [status] - e.g. 'running'.
 * @returns {Promise<import('./schemas.js').JobsPublic>} JobsPublic.
 */
export function listJobs(status) {
  return request(`api/jobs${buildQuery({ status })}`);
}

/**
 * `GET /api/jobs/{id}`: one job's progress.
 * @param {number} id - The job id.
 * @returns {Promise<import('./schemas.js').JobPublic>} JobPublic.
 */
export function getJob(id) {
  return request(`api/jobs/${encodeURIComponent(String(id))}`);
}

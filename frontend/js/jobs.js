// @ts-check
/**
 * A progress bar while a crawl or train job runs, by polling the jobs endpoints.
 *
 * Expected DOM: div#job-bar holding span#job-text and progress#job-progress. Polls quickly
 * while a job runs and slowly otherwise; pauses while the tab is hidden; stops for good when
 * the server has no jobs endpoint (404) or refuses it (401/403). A watched job that fails (its
 * process killed, say: the server fails it once its lease runs out) leaves its error on the bar
 * until the next idle poll, so a fit that stopped never looks like one still running.
 */

import { ApiError, getJob, listJobs } from './api.js';
import { byId } from './dom.js';
import { formatCount } from './text.js';

export const BUSY_POLL_MS = 1500;
export const IDLE_POLL_MS = 15000;
const STOP_STATUSES = [401, 403, 404, 405];

/**
 * The bar's text for a job.
 * @param {import('./schemas.js').JobPublic} job - The job.
 * @returns {string} e.g. "Training a map: 340 / 1,000 (epoch 340)".
 */
export function jobText(job) {
  const what =
    job.kind === 'crawl' ? 'Crawling the Hub' : job.kind === 'train' ? 'Training a map' : `Job ${job.kind}`;
  if (job.status === 'failed') return `${what} failed: ${(job.error || 'no reason given').slice(0, 300)}`;
  const count = job.total
    ? `${formatCount(job.progress)} / ${formatCount(job.total)}`
    : job.progress
      ? formatCount(job.progress)
      : '';
  const status = job.status === 'queued' ? 'queued' : count;
  return [what, status, job.message ? `(${job.message})` : '']
    .filter(Boolean)
    .join(' · ')
    .replace(' · (', ' (');
}

/**
 * Start polling.
 * @param {(job: import('./schemas.js').JobPublic) => void} onFinished - Called once per job that ends while watched.
 */
export function watchJobs(onFinished) {
  const bar = byId('job-bar');
  const text = byId('job-text');
  const progress = /** @type {HTMLProgressElement} */ (byId('job-progress'));
  /** @type {number|null} */
  let watching = null;
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;

  /** @param {import('./schemas.js').JobPublic} job - The running job. */
  const show = (job) => {
    bar.hidden = false;
    progress.hidden = job.status === 'failed';
    text.textContent = jobText(job);
    if (job.total) {
      progress.max = job.total;
      progress.value = Math.min(job.progress, job.total);
    } else {
      progress.removeAttribute('value');
    }
  };
  /** @param {number} ms - Delay before the next poll. */
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
  };
  async function tick() {
    if (document.hidden) {
      schedule(IDLE_POLL_MS);
      return;
    }
    try {
      if (watching === null) {
        const running = await listJobs('running');
        const job = running.items[0];
        if (job) {
          watching = job.id;
          show(job);
        } else {
          bar.hidden = true; // a failure shown at the last poll has been read by now
        }
      } else {
        const job = await getJob(watching);
        if (job.status === 'running' || job.status === 'queued') {
          show(job);
        } else {
          watching = null;
          if (job.status === 'failed') show(job);
          else bar.hidden = true;
          onFinished(job);
        }
      }
    } catch (err) {
      if (err instanceof ApiError && STOP_STATUSES.includes(err.status)) {
        bar.hidden = true;
        return;
      }
    }
    schedule(watching === null ? IDLE_POLL_MS : BUSY_POLL_MS);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) schedule(0);
  });
  schedule(0);
}

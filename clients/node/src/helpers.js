// Helpers for workflow workers: idempotency keys and a retry loop that never
// re-sends a message whose outcome is unknown.
import { SidecarError } from './errors.js';

const enc = (v) => String(v).replace(/%/g, '%25').replace(/\//g, '%2F');

/**
 * The idempotency key of one send: `<executionId>/<nodeId>/<attempt>`, each
 * part with `%` and `/` percent-encoded. Retries of the same attempt share the
 * key (the daemon answers them with the first one's result); a new attempt of
 * the workflow (a re-run) gets a new key and sends again.
 */
export function idempotencyKey(executionId, nodeId, attempt = 1) {
  if (executionId === undefined || executionId === null || executionId === '') throw new TypeError('idempotencyKey: executionId is required');
  if (nodeId === undefined || nodeId === null || nodeId === '') throw new TypeError('idempotencyKey: nodeId is required');
  if (!Number.isInteger(attempt) || attempt < 0) throw new TypeError('idempotencyKey: attempt must be a non-negative integer');
  return `${enc(executionId)}/${enc(nodeId)}/${attempt}`;
}

/** Whether an error may be retried: retryable, and never after outcome_unknown. */
export function isRetryable(err) {
  if (!(err instanceof SidecarError)) return false;
  if (err.sidecarCode === 'outcome_unknown' || err.outcome === 'outcome_unknown') return false;
  return err.retryable === true;
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

/**
 * Calls fn(attempt) (attempt 1, 2, …) until it succeeds, the error is not
 * retryable (see isRetryable: outcome_unknown never is), or `retries` retries
 * were made. Waits retryAfterMs when the sidecar gives it (rate_limited), else
 * an exponential backoff with jitter, capped by maxDelayMs.
 */
export async function withRetry(fn, { retries = 3, baseDelayMs = 500, maxDelayMs = 60_000, signal, onRetry } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt > retries || !isRetryable(err)) throw err;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = err.retryAfterMs !== undefined ? Math.min(maxDelayMs, err.retryAfterMs) : Math.round(backoff / 2 + Math.random() * (backoff / 2));
      if (err.retryAfterMs !== undefined && err.retryAfterMs > maxDelayMs) throw err;
      onRetry?.(err, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

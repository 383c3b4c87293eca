'use strict';
/**
 * What the container does, without I/O: the web routes, the batch job's input and the exit codes. server.js,
 * worker.js and batch.js wire it to HTTP, SQS and SSM; the lab's jest tests (test/labs/ecs/app.test.js) drive it.
 */

/** Exit codes of the batch job: what `DescribeTasks` reports as `containers[0].exitCode` after the task stops. */
const EXIT_CODES = Object.freeze({ ok: 0, badInput: 2, failed: 3 });

/** The most messages one batch run may send: a one-off task is a short job, not a load generator. */
const MAX_BATCH_SIZE = 100;

/**
 * Answers one request. `state` is what the task learnt at start: its release, its task ARN, the greeting it read with
 * the task role, and whether the agent injected the API key (the key itself is never shown).
 */
function route(method, path, state) {
  if (method !== 'GET') return { status: 405, body: { error: `${method} is not allowed` } };
  if (path === '/health') return { status: 200, body: { status: 'ok' } };
  if (path === '/') {
    return {
      status: 200,
      body: { release: state.release, task: state.task, greeting: state.greeting, apiKeyInjected: state.apiKeyInjected, processed: state.processed },
    };
  }
  return { status: 404, body: { error: `no route ${path}` } };
}

/**
 * The batch job's input, from the environment the task definition sets and `RunTask` overrides may change:
 * JOB_ID (which job the messages belong to) and BATCH_SIZE (how many to send, 1 to MAX_BATCH_SIZE).
 * Returns the messages to send, or the problems that make the job exit with EXIT_CODES.badInput.
 */
function planBatch(env) {
  const problems = [];
  const jobId = env.JOB_ID ?? '';
  if (!/^[\w-]{1,64}$/.test(jobId)) problems.push(`JOB_ID must be 1-64 letters, digits, _ or -, got ${JSON.stringify(jobId)}`);
  const size = Number(env.BATCH_SIZE);
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    problems.push(`BATCH_SIZE must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${JSON.stringify(env.BATCH_SIZE)}`);
  }
  if (problems.length > 0) return { problems };
  const messages = Array.from({ length: size }, (_, index) => ({ jobId, item: index + 1, of: size }));
  return { messages };
}

/** Splits messages into SendMessageBatch calls of at most 10 entries, SQS's limit per call. */
function sendBatches(messages) {
  const batches = [];
  for (let start = 0; start < messages.length; start += 10) {
    batches.push(messages.slice(start, start + 10).map((message, index) => ({ Id: `m${start + index}`, MessageBody: JSON.stringify(message) })));
  }
  return batches;
}

/** What the worker does with one message body: a job item it logs, or a reason it cannot. */
function parseJobItem(body) {
  try {
    const item = JSON.parse(body);
    if (typeof item.jobId === 'string' && Number.isInteger(item.item)) return { item };
  } catch {
    // Not JSON: reported below like any other body that is not a job item.
  }
  return { problem: `not a job item: ${String(body).slice(0, 80)}` };
}

module.exports = { EXIT_CODES, MAX_BATCH_SIZE, parseJobItem, planBatch, route, sendBatches };

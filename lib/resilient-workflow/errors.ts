/**
 * The error names the Amazon States Language predefines (Step Functions developer guide, "Handling errors in Step
 * Functions workflows"). Case-sensitive; a custom error name must not start with `States.`.
 */
export const STATES_ERRORS = {
  /** Wildcard: matches every error name except `States.Runtime` and `States.DataLimitExceeded`. Alone and last. */
  ALL: 'States.ALL',
  /** Wildcard for Task states: every error except `States.Timeout`. */
  TASK_FAILED: 'States.TaskFailed',
  /** A Task ran longer than TimeoutSeconds, or sent no heartbeat within HeartbeatSeconds. */
  TIMEOUT: 'States.Timeout',
  /** A Task sent no heartbeat within HeartbeatSeconds (Retry and Catch only). */
  HEARTBEAT_TIMEOUT: 'States.HeartbeatTimeout',
  /** The execution role may not call the API a Task needs. */
  PERMISSIONS: 'States.Permissions',
  BRANCH_FAILED: 'States.BranchFailed',
  NO_CHOICE_MATCHED: 'States.NoChoiceMatched',
  PARAMETER_PATH_FAILURE: 'States.ParameterPathFailure',
  RESULT_PATH_MATCH_FAILURE: 'States.ResultPathMatchFailure',
  INTRINSIC_FAILURE: 'States.IntrinsicFailure',
  DATA_LIMIT_EXCEEDED: 'States.DataLimitExceeded',
  EXCEED_TOLERATED_FAILURE_THRESHOLD: 'States.ExceedToleratedFailureThreshold',
  ITEM_READER_FAILED: 'States.ItemReaderFailed',
  RESULT_WRITER_FAILED: 'States.ResultWriterFailed',
  HTTP_SOCKET: 'States.Http.Socket',
  QUERY_EVALUATION_ERROR: 'States.QueryEvaluationError',
  /** Not retriable and not caught by `States.ALL`: the execution fails. */
  RUNTIME: 'States.Runtime',
} as const;

const KNOWN = new Set<string>(Object.values(STATES_ERRORS));

/** Transient errors of the Lambda service that AWS recommends retrying on every Lambda task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

const suffixOf = (name: string) => name.toLowerCase().replace(/^states?\./, '');

/**
 * Whether `name` looks like a predefined error but is not one (`State.ALL`, `States.Timout`, `States.Permission`):
 * returns the predefined name it most likely means, or `'?'` when nothing is close. Undefined for valid names and
 * for custom error names (those not starting with `State.`/`States.`).
 */
export function misspelledStatesError(name: string): string | undefined {
  if (KNOWN.has(name) || !/^states?\./i.test(name)) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN) {
    const d = distance(suffixOf(name), suffixOf(known));
    if (!best || d < best.distance) best = { name: known, distance: d };
  }
  return best && best.distance <= 2 ? best.name : '?';
}

// The application the pipeline deploys. The build replaces config.json with the greeting it reads from
// Parameter Store and the release it builds. Two switches exist for the lab's failure drills:
//   HEALTHY = false    → the health check fails: the BeforeAllowTraffic hook reports Failed, no traffic shifts.
//   ERROR_RATE = 0.5   → half of the real requests fail while the health check passes: the canary's Errors
//                        alarm fires and CodeDeploy rolls the alias back.
import config from './config.json' with { type: 'json' };

export const HEALTHY = true;
export const ERROR_RATE = 0;

/** Thrown for requests the function refuses or fails on purpose; Lambda counts it in the Errors metric. */
export class RequestFailed extends Error {
  constructor(message) {
    super(message);
    this.name = 'RequestFailed';
  }
}

const version = () => process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST';

/** What the CodeDeploy hooks call: `{ ok, version, release }`. */
export function healthCheck(settings = { healthy: HEALTHY }) {
  return { ok: settings.healthy === true, version: version(), release: config.release };
}

export function greet(event, settings = { errorRate: ERROR_RATE, random: Math.random }) {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new RequestFailed('the event must be a JSON object');
  }
  const name = event.name ?? 'world';
  if (typeof name !== 'string' || name.length === 0 || name.length > 100) {
    throw new RequestFailed('name must be a string of 1-100 characters');
  }
  if (settings.random() < settings.errorRate) {
    throw new RequestFailed(`release ${config.release} failed this request on purpose (ERROR_RATE ${settings.errorRate})`);
  }
  return { message: `${config.greeting}, ${name}!`, version: version(), release: config.release };
}

export const handler = async (event) => (event?.healthCheck === true ? healthCheck() : greet(event));

// Smoke tests of the Test stage: they run against the packaged release (dist/), not the sources, and check the
// integration-test stack that the pipeline created just before this action (its parameter names the execution).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const release = await import(new URL('../dist/index.js', import.meta.url).href);

test('the packaged release is healthy and greets', async () => {
  assert.equal((await release.handler({ healthCheck: true })).ok, true, 'HEALTHY is false: the deploy hooks would fail');
  assert.match((await release.handler({ name: 'smoke' })).message, /smoke!$/);
});

test('the packaged release does not fail requests on purpose', () => {
  assert.equal(release.ERROR_RATE, 0, 'ERROR_RATE is not 0: the canary would trip its alarm');
});

test('the integration-test stack exists and names this pipeline execution', { skip: !process.env.INTEGRATION_PARAMETER }, () => {
  const value = execFileSync('aws', ['ssm', 'get-parameter', '--name', process.env.INTEGRATION_PARAMETER, '--query', 'Parameter.Value', '--output', 'text'], { encoding: 'utf8' }).trim();
  assert.equal(value, process.env.PIPELINE_EXECUTION_ID);
});

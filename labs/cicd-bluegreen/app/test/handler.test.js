// Unit tests the build runs in pre_build (node --test); their JUnit report goes to the unit-tests report group.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greet, handler, healthCheck, RequestFailed } from '../src/index.js';

test('greets by name, and the world by default', () => {
  assert.match(greet({ name: 'Ada' }, { errorRate: 0, random: () => 0.5 }).message, /, Ada!$/);
  assert.match(greet({}, { errorRate: 0, random: () => 0.5 }).message, /, world!$/);
});

test('refuses events it does not understand', () => {
  assert.throws(() => greet(null), RequestFailed);
  assert.throws(() => greet({ name: '' }), RequestFailed);
  assert.throws(() => greet({ name: 42 }), RequestFailed);
});

test('fails the share of requests ERROR_RATE asks for', () => {
  assert.throws(() => greet({ name: 'x' }, { errorRate: 0.5, random: () => 0.1 }), /on purpose/);
  assert.doesNotThrow(() => greet({ name: 'x' }, { errorRate: 0.5, random: () => 0.9 }));
});

test('the health check reports the version that answered', async () => {
  const health = await handler({ healthCheck: true });
  assert.equal(typeof health.ok, 'boolean');
  assert.equal(health.version, process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST');
  assert.deepEqual(healthCheck({ healthy: false }).ok, false);
});

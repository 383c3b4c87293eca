import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * App context that skips bundling: a snapshot (or an assertion) is about the template, not the handler's code, and
 * skipping saves an esbuild run per function. `new App({ context: SKIP_BUNDLING })`.
 */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/**
 * `value` with what depends on the machine and the checkout folder masked: asset hashes (64 hex digits, in S3 keys and
 * metadata) and the code hash in the logical id of a function's current version (`...CurrentVersion<8 hex><32 hex>`).
 */
export function maskMachineHashes<T>(value: T): T {
  const text = JSON.stringify(value)
    .replace(/[0-9a-f]{64}/g, '[ASSET-HASH]')
    .replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1[CODE-HASH]');
  return JSON.parse(text) as T;
}

/**
 * The template of `stack` for a snapshot test, the same in every folder and on every machine:
 * `expect(snapshotTemplate(stack)).toMatchSnapshot()`, with the stack's app made with `context: SKIP_BUNDLING`.
 */
export function snapshotTemplate(stack: Stack): Record<string, unknown> {
  return maskMachineHashes(Template.fromStack(stack).toJSON());
}

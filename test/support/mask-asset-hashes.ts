import type { NewPlugin } from 'pretty-format';

/** Asset hashes (64 hex digits) change with the checkout path when bundling is skipped: mask them in snapshots. */
const ASSET_HASH = /[0-9a-f]{64}/g;

const serializer: NewPlugin = {
  test: (value: unknown) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASH, '[ASSET-HASH]'), config, indentation, depth, refs),
};

export = serializer;

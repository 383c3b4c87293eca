/**
 * With bundling skipped, asset hashes (64 hex digits) and the code hash in the logical id of a function's current
 * version (`...CurrentVersion<8 hex><32 hex>`) depend on the checkout path: mask both so snapshots match everywhere.
 */
export function maskMachineHashes<T>(value: T): T {
  const text = JSON.stringify(value)
    .replace(/[0-9a-f]{64}/g, '[ASSET-HASH]')
    .replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1[CODE-HASH]');
  return JSON.parse(text) as T;
}

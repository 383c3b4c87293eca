import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** What jest's snapshot state exposes to a matcher; `_updateSnapshot` is 'all' under `-u`, 'none' under `--ci`. */
interface SnapshotState {
  readonly _updateSnapshot: 'all' | 'new' | 'none';
  added: number;
  updated: number;
  matched: number;
}

/**
 * A snapshot in a file of its own, as indented JSON: one file per lab and variant, so a change to a shared construct
 * shows up as a small diff in each lab that uses it. It follows jest's snapshot rules: a missing file is written
 * (refused under `--ci`), a different value fails the test unless jest runs with `-u`, which rewrites the file.
 * The file is JSON, not `.snap`, so `jest -u` never deletes it as the obsolete snapshot of a missing test file.
 */
export function expectToMatchFileSnapshot(received: unknown, file: string): void {
  const state = expect.getState().snapshotState as unknown as SnapshotState;
  const text = `${JSON.stringify(received, null, 2)}\n`;
  const exists = existsSync(file);
  const write = () => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  if (!exists) {
    if (state._updateSnapshot === 'none') {
      throw new Error(`snapshot ${file} is missing; run jest without --ci to write it`);
    }
    write();
    state.added++;
    return;
  }
  const stored = readFileSync(file, 'utf8');
  if (stored === text) {
    state.matched++;
    return;
  }
  if (state._updateSnapshot === 'all') {
    write();
    state.updated++;
    return;
  }
  // The parsed values, so jest prints a structural diff; run `npx jest -u <test file>` to accept the change.
  expect(received).toStrictEqual(JSON.parse(stored));
  // Equal values written differently (key order, spacing): the file must be rewritten to the canonical text.
  expect(text).toBe(stored);
}

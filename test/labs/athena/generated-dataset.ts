import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ATHENA_LAB } from '../../../labs/athena/constants';
import type { DatasetObject } from '../../../labs/athena/dataset';
import { REPO_ROOT } from '../../support/lab-template';

/** The lab's dataset as files (for DuckDB) and as the objects the exercise uploads. */
export interface GeneratedDataset {
  /** Folder holding the objects by key: `<folder>/orders/csv/dt=2026-11-01/orders.csv.gz` ... */
  readonly folder: string;
  readonly objects: readonly DatasetObject[];
}

const SOURCES = ['labs/athena/dataset.ts', 'labs/athena/constants.ts', 'test/labs/athena/write-dataset.ts'];
/** The library that writes the Parquet files: another version may write other bytes from the same sources. */
const WRITER_PACKAGE = 'node_modules/hyparquet-writer/package.json';
const FOLDER_PREFIX = 'athena-lab-dataset-';

/**
 * Generates the dataset once per version of its code and of the Parquet writer, in a Node.js process (write-dataset.ts
 * says why), into a folder of the system's temporary directory that every test file and worker then reads; a folder is
 * complete once renamed. Writing a new one removes those of other versions.
 */
export function generatedDataset(): GeneratedDataset {
  const name = datasetFolderName(JSON.parse(readFileSync(path.join(REPO_ROOT, WRITER_PACKAGE), 'utf8')).version);
  const folder = path.join(tmpdir(), name);
  if (!existsSync(folder)) {
    removeOtherVersions(tmpdir(), name);
    const partial = mkdtempSync(`${folder}-partial-`);
    execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'write-dataset.ts'), partial], { cwd: REPO_ROOT, stdio: 'pipe' });
    try {
      renameSync(partial, folder);
    } catch (error) {
      // Another worker finished first: its folder holds the same bytes.
      if (!existsSync(folder)) throw error;
      rmSync(partial, { recursive: true, force: true });
    }
  }
  const objects = ATHENA_LAB.days.flatMap((day) =>
    (['csv', 'parquet'] as const).map((format) => {
      const dayFolder = path.join(folder, ATHENA_LAB.prefixes[format], `${ATHENA_LAB.partitionKey}=${day}`);
      const [file] = readdirSync(dayFolder);
      const key = path.relative(folder, path.join(dayFolder, file)).split(path.sep).join('/');
      return { key, format, day, body: readFileSync(path.join(dayFolder, file)) };
    }),
  );
  return { folder, objects };
}

/** The folder name of the dataset the sources and `writerVersion` of hyparquet-writer generate. */
export function datasetFolderName(writerVersion: string): string {
  const hash = createHash('sha256');
  for (const source of SOURCES) hash.update(readFileSync(path.join(REPO_ROOT, source)));
  hash.update(writerVersion);
  return `${FOLDER_PREFIX}${hash.digest('hex').slice(0, 16)}`;
}

/** Removes the dataset folders of `parent` but `name`'s, finished or partial; `name`'s partial ones may be in use. */
export function removeOtherVersions(parent: string, name: string): void {
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(FOLDER_PREFIX) && !entry.startsWith(name)) rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}

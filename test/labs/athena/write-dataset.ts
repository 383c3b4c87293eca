/**
 * Writes the lab's dataset under the folder given as argument, by object key. Run by generated-dataset.ts in a
 * Node.js process of its own: hyparquet-writer is an ES module, which jest's CommonJS module registry cannot load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { datasetObjects } from '../../../labs/athena/dataset';

async function main(folder: string): Promise<void> {
  for (const object of await datasetObjects()) {
    const file = path.join(folder, object.key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, object.body);
  }
}

void main(process.argv[2]);

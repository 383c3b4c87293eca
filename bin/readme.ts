#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { withFreshLabTable } from '../labs/support/readme-table';

const readmePath = path.join(__dirname, '..', 'README.md');
try {
  writeFileSync(readmePath, withFreshLabTable(readFileSync(readmePath, 'utf8')));
  console.log('README.md lab table updated from labs/catalogue.ts');
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
}

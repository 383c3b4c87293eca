#!/usr/bin/env node
/**
 * Regenerates the parts of the docs that come from code: the lab table of README.md (from labs/catalogue.ts) and,
 * unless --table-only, each lab README's architecture diagram, outputs and resource counts (from its template) and each
 * construct README's copy section (from the imports).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LABS } from '../labs/catalogue';
import { labTemplateWithAllFeatures, loadLabs } from '../labs/support/app';
import { constructCopy, constructNames, withFreshCopySection } from '../labs/support/construct-copy';
import { withFreshLabPage, withFreshLabTable } from '../labs/support/docs';

const ROOT = path.join(__dirname, '..');

function rewrite(file: string, update: (text: string) => string): void {
  const before = readFileSync(file, 'utf8');
  const after = update(before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${after === before ? 'unchanged' : 'updated  '} ${path.relative(ROOT, file)}`);
}

async function main(): Promise<void> {
  rewrite(path.join(ROOT, 'README.md'), withFreshLabTable);
  if (!process.argv.includes('--table-only')) {
    for (const lab of await loadLabs(LABS)) {
      rewrite(path.join(ROOT, 'labs', lab.id, 'README.md'), (text) => withFreshLabPage(text, lab, labTemplateWithAllFeatures(lab)));
    }
    for (const name of constructNames()) {
      rewrite(path.join(ROOT, 'lib', name, 'README.md'), (text) => withFreshCopySection(text, constructCopy(name)));
    }
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${(error as Error).message}`);
  process.exit(1);
});

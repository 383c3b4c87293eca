#!/usr/bin/env node
/**
 * Regenerates the parts of the docs that come from code: the lab table of README.md (from labs/catalogue.ts) and,
 * unless --table-only, each lab README's architecture, workflow and pipeline diagrams, outputs and resource counts (from
 * its template) and each construct README's copy section (from the imports).
 * With --check it changes nothing: it renders every Mermaid diagram of every lab page in headless Chromium and fails
 * when one does not render, is too wide to read at page width, or has a box without an arrow that its caption does not
 * explain.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LABS } from '../labs/catalogue';
import { labFeatureTemplates, loadLabs } from '../labs/support/app';
import { constructCopy, constructNames, withFreshCopySection } from '../labs/support/construct-copy';
import { checkMermaidBlocks, ChromiumMissingError, labPageBlocks } from '../labs/support/diagram-check';
import { withFreshLabPage, withFreshLabTable } from '../labs/support/docs';
import { renderExamGuide } from '../labs/support/exam-guide';

const ROOT = path.join(__dirname, '..');

function rewrite(file: string, update: (text: string) => string): void {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const after = update(before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${after === before ? 'unchanged' : 'updated  '} ${path.relative(ROOT, file)}`);
}

async function checkDiagrams(): Promise<void> {
  const started = Date.now();
  const blocks = labPageBlocks(ROOT, LABS.map((lab) => lab.id));
  const { problems, sizes } = await checkMermaidBlocks(blocks);
  const widest = Math.max(...sizes.map((s) => s.width));
  console.log(`rendered ${blocks.length} diagrams of ${LABS.length} lab pages in Chromium in ${((Date.now() - started) / 1000).toFixed(1)} s; widest ${widest} px`);
  if (problems.length) throw new Error(`${problems.length} diagram problem(s):\n${problems.join('\n')}`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) return checkDiagrams();
  rewrite(path.join(ROOT, 'README.md'), withFreshLabTable);
  mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  rewrite(path.join(ROOT, 'docs', 'exam-guide.md'), () => renderExamGuide());
  if (!process.argv.includes('--table-only')) {
    for (const lab of await loadLabs(LABS)) {
      rewrite(path.join(ROOT, 'labs', lab.id, 'README.md'), (text) => withFreshLabPage(text, lab, labFeatureTemplates(lab)));
    }
    for (const name of constructNames()) {
      rewrite(path.join(ROOT, 'lib', name, 'README.md'), (text) => withFreshCopySection(text, constructCopy(name)));
    }
  }
}

main().catch((error: unknown) => {
  // A missing browser is a set-up step, not a failure of the docs: say how to install it.
  console.error(error instanceof ChromiumMissingError ? error.message : `error: ${(error as Error).message}`);
  process.exit(1);
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  MAX_DIAGRAM_WIDTH_PX,
  mermaidBlocks,
  problemsOf,
  renderCacheFiles,
  renderMermaidCached,
  unconnectedNodes,
  unexplainedNodes,
} from '../../labs/support/diagram-check';

const page = [
  '# Lab',
  '',
  'Caption of the picture. Without an arrow, as nothing joins them to the rest: `Notes`.',
  '',
  '```mermaid',
  'flowchart TB',
  '  subgraph SQS',
  '    Queue["Orders/Queue"]',
  '    Dlq["Orders/Dlq"]',
  '    Spare["2 × Queue<br>Spare/A<br>Spare/B"]',
  '  end',
  '  Notes["Notes"]',
  '  Queue -.->|"redrive after 3 receives"| Dlq',
  '```',
  '',
  '```mermaid',
  'flowchart TD',
  '  start((Start)) --> A',
  '  A["A<br>Pass"]',
  '```',
].join('\n');

const [overview, workflow] = mermaidBlocks(page, 'labs/x/README.md');

test('finds each Mermaid block with the paragraph above it as its caption', () => {
  expect(overview.where).toBe('labs/x/README.md, diagram 1');
  expect(overview.caption).toMatch(/^Caption of the picture\./);
  expect(workflow.where).toBe('labs/x/README.md, diagram 2');
  expect(workflow.caption).toBe('');
});

test('an unconnected box fails with a message naming it; a folded box stands for each name it lists', () => {
  expect(unconnectedNodes(overview.source)).toEqual(['Spare/A', 'Spare/B', 'Notes']);
  expect(unexplainedNodes(overview)).toEqual([
    'labs/x/README.md, diagram 1: "Spare/A" has no arrow and the caption does not say why (name it in backticks)',
    'labs/x/README.md, diagram 1: "Spare/B" has no arrow and the caption does not say why (name it in backticks)',
  ]);
});

test('only flowcharts are checked, and a node without a quoted label is named by its id', () => {
  expect(unconnectedNodes('stateDiagram-v2\n  %% not a flowchart\n  Idle["Idle"]')).toEqual([]);
  expect(unconnectedNodes('flowchart LR\n  Lone[Lone box]\n  A --> B')).toEqual(['Lone']);
});

test('a node declared on an arrow (a workflow Start) counts as connected', () => {
  expect(unexplainedNodes(workflow)).toEqual([]);
});

test('a diagram that does not render or is too wide to read at page width fails with its place and numbers', () => {
  expect(problemsOf(workflow, { error: 'Parse error on line 3' })).toEqual(['labs/x/README.md, diagram 2: Mermaid cannot render it: Parse error on line 3']);
  expect(problemsOf(workflow, { width: 2500, height: 900 })).toEqual([
    `labs/x/README.md, diagram 2: 2500 px wide, shown at 40 % in a 1000 px column (at most ${MAX_DIAGRAM_WIDTH_PX} px)`,
  ]);
  expect(problemsOf(workflow, { width: MAX_DIAGRAM_WIDTH_PX, height: 900 })).toEqual([]);
});

test('a diagram rendered before with the same source, Mermaid and Chromium is read back, not rendered again', async () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'diagram-render-'));
  try {
    const sources = ['flowchart LR\n  a --> b', 'flowchart LR\n  a --> c'];
    const files = renderCacheFiles(sources, cacheDir);
    expect(new Set(files).size).toBe(2);
    // Results no browser would give: read back, they prove no browser ran.
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(files[0], JSON.stringify({ width: 1, height: 2 }));
    writeFileSync(files[1], JSON.stringify({ error: 'kept' }));
    expect(await renderMermaidCached(sources, cacheDir)).toEqual([{ width: 1, height: 2 }, { error: 'kept' }]);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

/**
 * Renders the Mermaid blocks of Markdown pages as a reader of GitHub would see them: with the real `mermaid` package in
 * headless Chromium (Debian's `chromium`, driven by `playwright-core`), one browser and one page for all diagrams.
 * A diagram fails when it does not render, when it is so wide that GitHub's ~1000 px column shrinks its text below a
 * legible size, or when a node has no arrow and the caption above the diagram does not name it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** GitHub's Markdown column; a wider diagram is scaled down to it. */
export const PAGE_WIDTH_PX = 1000;
/** Mermaid's 16 px labels shown at no less than ~9.4 px, about the smallest a reader can still read: 1000 / 0.59. */
export const MAX_DIAGRAM_WIDTH_PX = 1700;

export interface MermaidBlock {
  /** Where the block is, for messages: `labs/sqs/README.md, diagram 1`. */
  readonly where: string;
  readonly source: string;
  /** The Markdown paragraph just above the block: a node named there in backticks may stand alone. */
  readonly caption: string;
}

export interface RenderedSize {
  readonly width: number;
  readonly height: number;
}

/** Every ```mermaid block of a Markdown page, with the paragraph before it. */
export function mermaidBlocks(markdown: string, file: string): MermaidBlock[] {
  const blocks: MermaidBlock[] = [];
  for (const match of markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)) {
    const before = markdown.slice(0, match.index).trimEnd();
    const paragraph = before.slice(before.lastIndexOf('\n\n') + 2);
    // A diagram right after another has no caption of its own.
    const caption = paragraph.startsWith('```') ? '' : paragraph;
    blocks.push({ where: `${file}, diagram ${blocks.length + 1}`, source: match[1], caption });
  }
  return blocks;
}

const NODE = /^\s*([A-Za-z0-9_]+)\s*(\[|\(|\{|>)/;
const EDGE = /^\s*([A-Za-z0-9_]+)(?:\(\([^)]*\)\))?\s*(-->|-\.->|==>|---)(?:\|(?:"[^"]*"|[^|]*)\|)?\s*([A-Za-z0-9_]+)/;

/** Labels of a flowchart's nodes that no arrow touches (subgraphs are groups, not nodes). */
export function unconnectedNodes(source: string): string[] {
  if (!/^flowchart\b/.test(source)) return [];
  const labels = new Map<string, string>();
  const connected = new Set<string>();
  for (const line of source.split('\n')) {
    if (/^\s*subgraph\b/.test(line)) continue;
    const edge = line.match(EDGE);
    if (edge) {
      connected.add(edge[1]).add(edge[3]);
      continue;
    }
    const node = line.match(NODE);
    if (node) labels.set(node[1], line.match(/"([^"]*)"/)?.[1] ?? node[1]);
  }
  // A folded box ("2 × Table<br>Orders<br>Products") stands for each name it lists.
  // Its other lines, counts ("2 × Table") and relations written in the box ("→ Dlq"), have spaces; construct paths don't.
  const names = (text: string) => text.split('<br>').filter((line) => !/\s/.test(line));
  return [...labels].filter(([id]) => !connected.has(id)).flatMap(([, text]) => names(text));
}

/** Problems of one block that need no browser: nodes without arrows that the caption does not name. */
export function unexplainedNodes(block: MermaidBlock): string[] {
  return unconnectedNodes(block.source)
    .filter((name) => !block.caption.includes(`\`${name}\``))
    .map((name) => `${block.where}: "${name}" has no arrow and the caption does not say why (name it in backticks)`);
}

export class ChromiumMissingError extends Error {}

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new ChromiumMissingError(
      `no Chromium at ${CHROMIUM}: the diagram check renders with Debian's chromium. Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (as root), or set CHROMIUM_PATH to another Chromium.',
    );
  }
}

/** Renders each block to SVG in Chromium; a block that Mermaid rejects gives its error message instead of a size. */
export async function renderMermaid(sources: readonly string[]): Promise<RenderResult[]> {
  requireChromium();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: PAGE_WIDTH_PX, height: 800 } });
    await page.addScriptTag({ path: path.join(path.dirname(require.resolve('mermaid/package.json')), 'dist', 'mermaid.min.js') });
    return await page.evaluate(async (all) => {
      // Runs in the page, where the script tag above has set globalThis.mermaid.
      const mermaid = (globalThis as unknown as { mermaid: { initialize(c: object): void; render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
      // GitHub renders with the default theme and HTML labels; the viewBox is the size the browser laid out.
      mermaid.initialize({ startOnLoad: false });
      const results: ({ width: number; height: number } | { error: string })[] = [];
      for (const [index, text] of all.entries()) {
        try {
          const { svg } = await mermaid.render(`diagram${index}`, text);
          const [, width, height] = (svg.match(/viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"/) ?? []).map(Number);
          results.push({ width: Math.round(width), height: Math.round(height) });
        } catch (error) {
          results.push({ error: String((error as Error).message ?? error).split('\n').slice(0, 3).join(' ') });
        }
      }
      return results;
    }, [...sources]);
  } finally {
    await browser.close();
  }
}

export type RenderResult = RenderedSize | { readonly error: string };

/** What is wrong with one rendered block: it does not render, it is too wide to read, or a box stands unexplained. */
export function problemsOf(block: MermaidBlock, result: RenderResult): string[] {
  if ('error' in result) return [`${block.where}: Mermaid cannot render it: ${result.error}`];
  const tooWide =
    result.width > MAX_DIAGRAM_WIDTH_PX
      ? [
          `${block.where}: ${result.width} px wide, shown at ${Math.round((100 * PAGE_WIDTH_PX) / result.width)} % in a ` +
            `${PAGE_WIDTH_PX} px column (at most ${MAX_DIAGRAM_WIDTH_PX} px)`,
        ]
      : [];
  return [...tooWide, ...unexplainedNodes(block)];
}

/**
 * This machine's results, like jest's own cache: rendering every diagram takes ~17 CPU-s, and a result depends only on
 * the source, the Mermaid and Chromium versions and the page width. A fresh clone (CI) renders every diagram.
 */
export const RENDER_CACHE_DIR = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'diagram-render');

/** The file holding each source's result in `cacheDir`, named by what the result depends on. */
export function renderCacheFiles(sources: readonly string[], cacheDir = RENDER_CACHE_DIR): string[] {
  requireChromium();
  const versions = [
    JSON.parse(readFileSync(require.resolve('mermaid/package.json'), 'utf8')).version,
    execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    PAGE_WIDTH_PX,
  ];
  return sources.map((source) => path.join(cacheDir, `${createHash('sha256').update(JSON.stringify([...versions, source])).digest('hex')}.json`));
}

/** {@link renderMermaid}, rendering only the sources this machine has not rendered with the same Mermaid and Chromium. */
export async function renderMermaidCached(sources: readonly string[], cacheDir = RENDER_CACHE_DIR): Promise<RenderResult[]> {
  const files = renderCacheFiles(sources, cacheDir);
  const results = files.map((file) => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RenderResult) : undefined));
  const missing = results.flatMap((result, index) => (result ? [] : [index]));
  if (missing.length > 0) {
    const rendered = await renderMermaid(missing.map((index) => sources[index]));
    mkdirSync(cacheDir, { recursive: true });
    missing.forEach((index, i) => {
      results[index] = rendered[i];
      writeFileSync(files[index], JSON.stringify(rendered[i]));
    });
  }
  return results as RenderResult[];
}

/** Every problem of the blocks, rendered in one browser (or read from this machine's results), and the sizes of those that render. */
export async function checkMermaidBlocks(blocks: readonly MermaidBlock[]): Promise<{ problems: string[]; sizes: RenderedSize[] }> {
  const rendered = await renderMermaidCached(blocks.map((b) => b.source));
  return {
    problems: blocks.flatMap((block, index) => problemsOf(block, rendered[index])),
    sizes: rendered.filter((r): r is RenderedSize => !('error' in r)),
  };
}

/** Every Mermaid block of every lab page (`labs/<id>/README.md`, relative to `root`). */
export function labPageBlocks(root: string, labIds: readonly string[]): MermaidBlock[] {
  return labIds.flatMap((id) => {
    const page = path.join('labs', id, 'README.md');
    return mermaidBlocks(readFileSync(path.join(root, page), 'utf8'), page);
  });
}


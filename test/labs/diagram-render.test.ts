import { LABS } from '../../labs/catalogue';
import { checkMermaidBlocks, labPageBlocks } from '../../labs/support/diagram-check';
import { REPO_ROOT } from '../support/lab-template';

// One Chromium for every diagram: ~2 s to start and ~5 s to load Mermaid, run beside the other test files (a separate
// step after them would add it all to the suite's time). `npm run docs -- --check` does the same from the command line.
jest.setTimeout(120_000);

test('every diagram of every lab page renders in Chromium, is legible at page width, and leaves no box unexplained', async () => {
  const blocks = labPageBlocks(REPO_ROOT, LABS.map((lab) => lab.id));
  expect(blocks.length).toBeGreaterThanOrEqual(LABS.length);
  const { problems } = await checkMermaidBlocks(blocks);
  expect(problems).toEqual([]);
});

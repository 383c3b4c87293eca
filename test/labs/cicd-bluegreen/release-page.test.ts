import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ECS_APP_DIR } from '../../../labs/cicd-bluegreen/ecs';

// The ECS sample's entrypoint script, run with sh against a stand-in for the ECS task metadata endpoint v4: what it
// writes is what the AfterAllowTestTraffic hook reads on the test listener. `wget -qO- <url>` (busybox's, in the
// image) is played by a few lines of Node, so the test needs no wget on the machine.
const run = promisify(execFile);
const SCRIPT = path.join(ECS_APP_DIR, 'release-page.sh');

let metadata: Server;
let metadataUri: string;
let taskResponse = '';
let html: string;
let bin: string;
const WGET = `#!${process.execPath}
const url = process.argv.at(-1);
fetch(url).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); }, () => process.exit(1));
`;

beforeAll(async () => {
  metadata = createServer((request, response) => {
    if (request.url?.endsWith('/task')) response.writeHead(200, { 'content-type': 'application/json' }).end(taskResponse);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
  metadataUri = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4/0123456789abcdef-1234567890`;
  bin = mkdtempSync(path.join(tmpdir(), 'release-page-bin-'));
  writeFileSync(path.join(bin, 'wget'), WGET, { mode: 0o755 });
});
afterAll(async () => {
  rmSync(bin, { recursive: true, force: true });
  await new Promise((resolve) => metadata.close(resolve));
});
beforeEach(() => (html = mkdtempSync(path.join(tmpdir(), 'release-page-'))));
afterEach(() => rmSync(html, { recursive: true, force: true }));

async function releasePage(env: Record<string, string>) {
  const { stdout } = await run('sh', [SCRIPT], { env: { PATH: `${bin}${path.delimiter}${process.env.PATH}`, HTML_DIR: html, RELEASE: 'abc1234', ...env } });
  return { stdout, version: JSON.parse(readFileSync(path.join(html, 'version.json'), 'utf8')), index: readFileSync(path.join(html, 'index.html'), 'utf8') };
}

test.each([
  ['compact', JSON.stringify({ Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/lab', TaskARN: 'arn:aws:ecs:us-east-1:123456789012:task/lab/1', Family: 'web-family', Revision: '7', DesiredStatus: 'RUNNING' })],
  ['pretty-printed, Revision first', JSON.stringify({ Revision: '7', Family: 'web-family', Containers: [{ Name: 'web' }] }, null, 4)],
])('names the release and the task definition from %s task metadata', async (_name, body) => {
  taskResponse = body;
  const { version, index, stdout } = await releasePage({ ECS_CONTAINER_METADATA_URI_V4: metadataUri });
  expect(version).toEqual({ release: 'abc1234', taskDefinition: 'web-family:7' });
  expect(index).toContain('<h1>release abc1234</h1>');
  expect(index).toContain('task definition web-family:7');
  expect(stdout).toBe('release abc1234, task definition web-family:7\n');
});

test('outside ECS (no metadata endpoint) the page says unknown, which the hook refuses', async () => {
  const { version } = await releasePage({});
  expect(version).toEqual({ release: 'abc1234', taskDefinition: 'unknown' });
});

test('an unreachable metadata endpoint still writes the pages, so nginx starts and the hook can report why', async () => {
  const { version } = await releasePage({ ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:9/v4/gone' });
  expect(version.taskDefinition).toBe('unknown');
});

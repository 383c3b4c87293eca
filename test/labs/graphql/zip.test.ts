import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { zipFiles } from '../../../labs/graphql/zip';

const files = { 'index.html': '<!doctype html><p>héllo</p>\n', 'config.json': '{"graphqlUrl":"https://x"}', 'nested/empty.txt': '' };

test('another zip reader (fflate) reads back every file, name and content, UTF-8 included', () => {
  const entries = unzipSync(new Uint8Array(zipFiles(files)));
  expect(Object.fromEntries(Object.entries(entries).map(([name, data]) => [name, strFromU8(data)]))).toEqual(files);
});

test('Info-ZIP\'s unzip -t finds the archive and every CRC-32 correct', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'graphql-zip-')), 'site.zip');
  writeFileSync(file, zipFiles(files));
  const report = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
  expect(report).toContain('No errors detected');
  for (const name of Object.keys(files)) expect(report).toMatch(new RegExp(`testing: ${name.replace('.', '\\.')}\\s+OK`));
});

test('the same files give the same bytes (fixed timestamps), so a deployment is reproducible', () => {
  expect(zipFiles(files).equals(zipFiles({ ...files }))).toBe(true);
});

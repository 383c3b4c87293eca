/**
 * The Powertools log lines (JSON, one per line) written to stdout and stderr while `run` runs, at level INFO, and the
 * whole output. `run` imports the handler afresh (it runs in `jest.isolateModulesAsync`), so that its Logger reads
 * the level when the module loads, as in Lambda; the fresh module has its own SDK, which `run` mocks too.
 */
export async function loggedLines(run: () => Promise<void>): Promise<{ lines: Record<string, unknown>[]; output: string }> {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array) => written.push(String(chunk)) > 0;
  // Warnings and errors go to stderr.
  const writes = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  try {
    await jest.isolateModulesAsync(run);
  } finally {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    for (const write of writes) write.mockRestore();
  }
  const lines = written.flatMap((chunk) => chunk.split('\n')).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { lines, output: written.join('') };
}

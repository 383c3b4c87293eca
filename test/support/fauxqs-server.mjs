// fauxqs is ESM-only and jest runs tests as CommonJS, so tests start it in a child process of its own.
// Prints the endpoint as one JSON line, then serves until the parent closes stdin or kills it.
import process from 'node:process';
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
process.stdout.write(`${JSON.stringify({ address: server.address })}\n`);
const stop = () => server.stop().then(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);

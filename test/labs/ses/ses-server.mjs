// aws-ses-v2-local in a child process of its own, on a free loopback port. Prints the endpoint as one JSON line, then
// serves until the parent closes stdin. Each line read from stdin becomes the account GetAccount returns (the server
// reads AWS_SES_ACCOUNT at each request), answered with "ok".
import process from 'node:process';
import { createInterface } from 'node:readline';
import sesLocal from 'aws-ses-v2-local';

// stdout carries the protocol above; whatever the server logs goes to stderr.
globalThis.console.log = (...args) => process.stderr.write(`${args.join(' ')}\n`);
const start = sesLocal.default ?? sesLocal;
const server = await start({ host: '127.0.0.1', port: 0 });
const { port } = server.address();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  process.env.AWS_SES_ACCOUNT = line;
  process.stdout.write('ok\n');
});
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

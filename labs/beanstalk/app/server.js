// The lab's app: a web environment serves GET /, a worker environment receives each SQS message (and each
// cron.yaml job) as a POST from the SQS daemon. No dependencies, so the platform's npm install has nothing to fetch.
const http = require('node:http');

const port = Number(process.env.PORT ?? 8080);

const server = http.createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    if (request.method === 'POST') {
      // The daemon deletes the message on a 200 and lets it return to the queue (then the DLQ) on anything else.
      const job = request.headers['x-aws-sqsd-taskname'] ?? 'message';
      console.log(JSON.stringify({ received: job, messageId: request.headers['x-aws-sqsd-msgid'], bytes: body.length }));
      response.writeHead(200).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ greeting: process.env.GREETING, node: process.version }));
  });
});

server.listen(port, () => console.log(`listening on ${port}`));

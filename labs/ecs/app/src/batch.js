'use strict';
/**
 * The one-off job `RunTask` starts with `overrides.containerOverrides[].command = ["node", "src/batch.js"]`: sends
 * BATCH_SIZE job items for JOB_ID to the jobs queue with the TASK role, then exits. Its exit code is what the
 * exercise reads: 0 sent, 2 bad input (nothing sent), 3 SQS refused some.
 */
const { SendMessageBatchCommand, SQSClient } = require('@aws-sdk/client-sqs');
const { EXIT_CODES, planBatch, sendBatches } = require('./app');

const log = (fields) => console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));

async function main() {
  const { messages, problems } = planBatch(process.env);
  if (problems) {
    log({ event: 'bad input', problems });
    return EXIT_CODES.badInput;
  }
  const sqs = new SQSClient({});
  let failed = 0;
  for (const entries of sendBatches(messages)) {
    const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: process.env.QUEUE_URL, Entries: entries }));
    failed += Failed.length;
  }
  log({ event: 'sent', jobId: process.env.JOB_ID, sent: messages.length - failed, failed });
  return failed === 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log({ event: 'failed', error: error.message });
    process.exit(EXIT_CODES.failed);
  },
);

'use strict';
/** Drains the jobs queue with long polls: what the service's backlog-per-task scaling policy adds tasks for. */
const { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } = require('@aws-sdk/client-sqs');
const { parseJobItem } = require('./app');

function startWorker(queueUrl, log, onProcessed) {
  const sqs = new SQSClient({});
  let running = true;
  (async () => {
    while (running) {
      try {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }));
        for (const message of Messages) {
          const { item, problem } = parseJobItem(message.Body);
          log(item ? { event: 'processed', ...item } : { event: 'skipped', problem });
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
          if (item) onProcessed();
        }
      } catch (error) {
        log({ event: 'receive failed', error: error.message });
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }
  })();
  return { stop: () => (running = false) };
}

module.exports = { startWorker };

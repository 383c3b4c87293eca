import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The sns-fanout lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const snsFanoutLab = defineLab({
  id: 'sns-fanout',
  title: 'SNS fan-out: one topic, filtered queue, Lambda and email subscribers, subscription DLQs, a FIFO topic',
  stackName: 'SnsFanoutLab',
  seedTopics: ['002: SNS', '002: SQS (poll vs push)'],
  idleCostUsdPerMonth: 0,
  features: {
    cmk: {
      description: 'a customer managed KMS key (SSE-KMS) on the orders queues, whose key policy lets SNS use it',
      idleCostUsdPerMonth: 1,
    },
  },
  parameters: {
    email: {
      description: 'an email subscriber for orders of 1,000 or more (confirm the mail SNS sends)',
      pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
      expected: 'an email address',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).SnsFanoutLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The sqs lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const sqsLab = defineLab({
  id: 'sqs',
  title: 'SQS: standard, FIFO and delay queues with dead-letter queues and a Lambda consumer',
  stackName: 'SqsLab',
  seedTopics: ['002: SQS', '002: Serverless Computing (Lambda dead-letter queues)'],
  idleCostUsdPerMonth: 0,
  features: {
    alarms: {
      description: 'DLQ-depth and oldest-message alarms on the work queue, notifying an SNS topic',
      idleCostUsdPerMonth: 0.2,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).SqsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The stepfunctions-errors lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const stepfunctionsErrorsLab = defineLab({
  id: 'stepfunctions-errors',
  title: 'Step Functions: every state type, ordered Retry and Catch policies, Standard and Express workflows',
  stackName: 'StepfunctionsErrorsLab',
  seedTopics: [
    '000: AWS Step Functions',
    '000: Step function task states; Step function states',
    '000: Error handling in step functions (Retry, Catch, ResultPath)',
    '000: Step Functions - Standard vs Express',
  ],
  idleCostUsdPerMonth: 0,
  features: {
    alarms: {
      description: 'failed, timed-out and throttled execution alarms on the STANDARD order workflow, notifying an SNS topic',
      idleCostUsdPerMonth: 0.3,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).StepfunctionsErrorsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

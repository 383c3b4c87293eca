import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The stepfunctions-callback lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const stepfunctionsCallbackLab = defineLab({
  id: 'stepfunctions-callback',
  title: 'Step Functions: task-token callbacks through SQS, human approval by email link, and an activity worker',
  stackName: 'StepfunctionsCallbackLab',
  seedTopics: ['000: Step function - wait for task token', '000: Step function - activity tasks'],
  idleCostUsdPerMonth: 0,
  features: {
    'api-logs': {
      description:
        'access logs of the approval API; deploy only once the account has an API Gateway CloudWatch Logs role (README)',
      idleCostUsdPerMonth: 0,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).StepfunctionsCallbackLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The appconfig lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const appconfigLab = defineLab({
  id: 'appconfig',
  title: 'AppConfig: feature flags and validated configuration, tried in dev, rolled out gradually to live, with alarm rollback',
  stackName: 'AppconfigLab',
  seedTopics: ['000: AWS AppConfig'],
  idleCostUsdPerMonth: 0,
  features: {
    'rollback-alarm': {
      description: 'A CloudWatch alarm on the flag reader\'s errors, monitored by the environment: ALARM during a deployment rolls it back',
      idleCostUsdPerMonth: 0.1,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).AppconfigLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';
import { allowedValuesPattern, IAC_LAB, oneOf } from './constants';

const { stage, archive, stackSetRegions, owner } = IAC_LAB.parameters;

/** The iac lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const iacLab = defineLab({
  id: 'iac',
  title: 'Infrastructure as code: template anatomy, change sets, rollback, drift, nested stacks, StackSets, SAM and the CDK',
  stackName: IAC_LAB.stackName,
  seedTopics: [
    '000: AWS CLI, SDK and CDK; AWS CDK Constructs; Layer 1/2/3 Constructs; CDK important commands',
    '002: Cloud Formation; Serverless Application Model (SAM)',
  ],
  // SQS queues, IAM roles, a StackSet, nested stacks and Lambda functions bill per use only.
  idleCostUsdPerMonth: 0,
  features: {
    'cfn-init': {
      description:
        'an EC2 instance (t4g.nano, 8 GB gp3) configured by cfn-init from the template\'s metadata, which signals ' +
        'CloudFormation (creation policy); its public IPv4 address is billed too',
      // t4g.nano $0.0042/hour + public IPv4 address $0.005/hour over 730 hours, + 8 GB gp3 at $0.08/GB-month.
      idleCostUsdPerMonth: 7.36,
    },
  },
  parameters: {
    stage: {
      description: `default of the template parameter ${stage.parameter}, part of the Orders queue's name (default ${stage.defaultValue})`,
      pattern: allowedValuesPattern(stage.allowedValues),
      expected: oneOf(stage.allowedValues),
    },
    archive: {
      description: `default of ${archive.parameter}: the condition that creates the archive queue and its output (default ${archive.defaultValue})`,
      pattern: allowedValuesPattern(archive.allowedValues),
      expected: oneOf(archive.allowedValues),
    },
    owner: {
      description: `default of ${owner.parameter}, tagged on the anatomy queues (default ${owner.defaultValue})`,
      pattern: new RegExp(owner.allowedPattern),
      expected: '2 to 31 lowercase letters, digits or hyphens, starting with a letter',
    },
    'stackset-regions': {
      description: `default of ${stackSetRegions.parameter}: the StackSet deploys to this Region only (1) or to its neighbour too (2, default)`,
      pattern: allowedValuesPattern(stackSetRegions.allowedValues),
      expected: oneOf(stackSetRegions.allowedValues),
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).IacLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});

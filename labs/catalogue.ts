import type { Construct } from 'constructs';
import type { LabStack, LabStackProps } from './support/lab-stack';
import { SqsLabStack } from './sqs/stack';

/** An optional part of a lab that bills while idle; off unless its context flag is set. */
export interface LabFeature {
  /** Context flag `<lab-id>:<name>`. */
  readonly name: string;
  readonly description: string;
  /** What the feature costs per month while deployed and idle, in USD (us-east-1 list prices). */
  readonly idleCostUsdPerMonth: number;
}

export interface LabDefinition {
  /** Folder under labs/ and the id the lab CLI takes. */
  readonly id: string;
  readonly title: string;
  /** What a learner types: `npx cdk deploy <stackName>`. */
  readonly stackName: string;
  /** Sections of the notes in ../shared/seeds the lab teaches, as `<seed>: <section>`. */
  readonly seedTopics: readonly string[];
  /** Cost per month while deployed and idle with every feature off, in USD. */
  readonly idleCostUsdPerMonth: number;
  readonly features: readonly LabFeature[];
  readonly stack: new (scope: Construct, props: LabStackProps) => LabStack;
}

/** Every lab, in the order the README lists them. The app, the tests and the README table all read this. */
export const LABS: readonly LabDefinition[] = [
  {
    id: 'sqs',
    title: 'SQS: standard, FIFO and delay queues with dead-letter queues and a Lambda consumer',
    stackName: 'SqsLab',
    seedTopics: ['002: SQS', '002: Serverless Computing (Lambda dead-letter queues)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'alarms',
        description: 'DLQ-depth and oldest-message alarms on the work queue, notifying an SNS topic',
        idleCostUsdPerMonth: 0.2,
      },
    ],
    stack: SqsLabStack,
  },
];

export function findLab(id: string): LabDefinition | undefined {
  return LABS.find((lab) => lab.id === id);
}

/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** A template parameter of the lab whose default a `-c iac:<name>=<value>` sets, with the values it allows. */
interface ChoiceParameter {
  /** The CloudFormation parameter's logical id. */
  readonly parameter: string;
  readonly allowedValues: readonly string[];
  readonly defaultValue: string;
}

const stage: ChoiceParameter = { parameter: 'Stage', allowedValues: ['dev', 'prod'], defaultValue: 'dev' };
const archive: ChoiceParameter = { parameter: 'ArchiveEnabled', allowedValues: ['true', 'false'], defaultValue: 'false' };
const stackSetRegions: ChoiceParameter = { parameter: 'StackSetRegionCount', allowedValues: ['1', '2'], defaultValue: '2' };

/** A pattern accepting exactly the allowed values: what `-c iac:<name>` is checked against at synth. */
export const allowedValuesPattern = (values: readonly string[]) => new RegExp(`^(${values.join('|')})$`);
/** "dev or prod", "1 or 2": the allowed values as the synth error names them. */
export const oneOf = (values: readonly string[]) => `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;

export const IAC_LAB = {
  stackName: 'IacLab',
  parameters: {
    stage,
    archive,
    stackSetRegions,
    owner: {
      parameter: 'Owner',
      /** Also the pattern of `-c iac:owner`, so synth refuses what CloudFormation would refuse at deploy. */
      allowedPattern: '^[a-z][a-z0-9-]{1,30}$',
      defaultValue: 'learner',
    },
    signingSecret: {
      parameter: 'SigningSecret',
      allowedPattern: '^[A-Za-z0-9]{16,64}$',
      /**
       * A NoEcho parameter's default is stored in the template in plain text (GetTemplate shows it): the lab has one so
       * `npx cdk deploy IacLab` works without arguments; a real secret is passed with --parameters or, better, read
       * with a dynamic reference.
       */
      defaultValue: 'NotASecretChangeMe2026',
    },
  },
  /** Export of the lab's shared DLQ ARN, `<stack name>-SharedDlqArn`: what the consumer stack imports. */
  exportSuffix: '-SharedDlqArn',
  /** Stacks the exercise creates are named `<lab stack>-exercise-<what>`; the sweeper deletes what is left of them. */
  exerciseStackInfix: '-exercise-',
  /** Queue settings the playground stack declares and the drift step changes by hand. */
  playground: { visibilityTimeoutSeconds: 30, driftedVisibilityTimeoutSeconds: 45 },
  /** How long the custom resource may run before CloudFormation gives up on it (CustomResource serviceTimeout). */
  sweeperTimeoutSeconds: 600,
  /** The cfn-init feature: the file cfn-init writes, and how long CloudFormation waits for the instance's signal. */
  cfnInit: { configuredFile: '/etc/iac-lab/configured-by.txt', signalTimeoutMinutes: 10 },
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Between two DescribeStacks / DescribeChangeSet / DetectStackResourceDrift calls while waiting. */
    pollSeconds: 5,
    /** How long a stack create, update, rollback or delete may take before the step fails, naming its status. */
    stackDeadlineSeconds: 600,
    /** How long a change set may take to be computed. */
    changeSetDeadlineSeconds: 120,
    /**
     * How long drift detection may keep reporting a queue's old VisibilityTimeout: SQS takes up to 60 s to apply a
     * changed attribute (SetQueueAttributes), and drift detection reads the queue as SQS reports it.
     */
    driftDeadlineSeconds: 90,
  },
} as const;

/**
 * The consumer stack's template (beside this file), which the exercise deploys with CreateStack: written with the CDK
 * in consumer-stack.ts; test/labs/iac/stack.test.ts keeps the file equal to what that class synthesizes.
 */
export const CONSUMER_TEMPLATE_FILE = 'consumer.template.json';

import { Annotations, AspectPriority, Aspects, CfnOutput, CfnResource, Fn, IAspect, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import {
  ALL_FEATURES_CONTEXT,
  featureContextKey,
  FeatureName,
  LabConfigError,
  LabDefinition,
  ParameterName,
} from './define-lab';

// Declared where code that must not load aws-cdk-lib (the lab CLI) can read them; re-exported for the stacks.
export { ALL_FEATURES_CONTEXT, featureContextKey, LabConfigError };

/** How long lab log groups keep their events when a construct did not choose. */
export const LAB_LOG_RETENTION = logs.RetentionDays.ONE_WEEK;

function parseFlag(key: string, value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new LabConfigError(`context ${key} must be true or false, got ${JSON.stringify(value)}`);
}

/** Template metadata key that marks a resource kept on destroy, with the reason. */
export const KEEP_ON_DESTROY = 'labs:keep-on-destroy';

/**
 * Keeps the resources of `construct` when the lab is destroyed: only for account-wide settings that other stacks
 * rely on, and never for data. The reason is written into the template and the catalogue test requires it.
 */
export function keepOnDestroy(construct: IConstruct, reason: string): void {
  for (const child of construct.node.findAll()) {
    if (child instanceof CfnResource) child.addMetadata(KEEP_ON_DESTROY, reason);
  }
}

/**
 * Makes every resource of a lab disposable: `cdk destroy` leaves nothing behind, log groups included. Constructs
 * in lib/ keep production-safe removal policies; labs override them here, in one place.
 */
export class DisposableLab implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    node.applyRemovalPolicy(node.getMetadata(KEEP_ON_DESTROY) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    if (node instanceof logs.CfnLogGroup && node.retentionInDays === undefined) {
      node.retentionInDays = LAB_LOG_RETENTION;
    }
    if (node.cfnResourceType === 'AWS::Lambda::Function' && !(node instanceof lambda.CfnFunction)) {
      ownLogGroupOf(node);
    }
    if (node instanceof ecr.CfnRepository) {
      // CloudFormation deletes a repository that still holds images only when told to empty it.
      node.emptyOnDelete = true;
    }
    if (node instanceof s3.CfnBucket && !node.node.scope?.node.tryFindChild('AutoDeleteObjectsCustomResource')) {
      Annotations.of(node).addError(
        'Lab buckets must set autoDeleteObjects: true, or `cdk destroy` fails on a non-empty bucket and leaves it.',
      );
    }
  }
}

/**
 * CDK's own provider functions (bucket auto-delete, bucket notifications) are raw resources without a log group
 * of their own, so Lambda creates `/aws/lambda/<name>` when they run, and it outlives the stack. Declaring that log
 * group in the stack, with every custom resource depending on it, makes CloudFormation delete it last on destroy,
 * after the providers have run for the last time.
 */
function ownLogGroupOf(fn: CfnResource): void {
  const scope = fn.node.scope ?? fn;
  const id = `${fn.node.id}LogGroup`;
  if (scope.node.tryFindChild(id)) return; // aspects run again when an app is synthesized twice
  const logGroup = new logs.CfnLogGroup(scope, id, {
    logGroupName: Fn.join('', ['/aws/lambda/', fn.ref]),
    retentionInDays: LAB_LOG_RETENTION,
  });
  logGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);
  for (const resource of Stack.of(fn).node.findAll()) {
    if (resource instanceof CfnResource && isCustomResource(resource.cfnResourceType)) {
      resource.addResourceDependency(logGroup, 'its provider logs here until the stack is deleted');
    }
  }
}

const isCustomResource = (type: string) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

export interface LabStackProps extends StackProps {
  readonly lab: LabDefinition;
}

/**
 * Base of every lab stack: named after the lab so `npx cdk deploy <StackName>` is what a learner types,
 * tagged `lab=<id>` (the lab CLI refuses untagged stacks), disposable, environment-agnostic.
 * `L` is the lab's declaration (`class SqsLabStack extends LabStack<typeof sqsLab>`): `feature(name)` and
 * `parameter(name)` then take only the names it declares, so a misspelt one is a type error.
 */
export class LabStack<L extends LabDefinition = LabDefinition> extends Stack {
  public readonly lab: L;

  constructor(scope: Construct, props: LabStackProps) {
    const { lab, ...stackProps } = props;
    super(scope, lab.stackName, {
      description: `${lab.title} (lab "${lab.id}"; destroy with: npx cdk destroy ${lab.stackName})`,
      ...stackProps,
      tags: { ...stackProps.tags, lab: lab.id },
    });
    this.lab = lab as L;
    Aspects.of(this).add(new DisposableLab(), { priority: AspectPriority.MUTATING });
  }

  /** The stack outputs the exercise and the README name, one `CfnOutput` each, named by its key. */
  protected addOutputs(outputs: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }

  /**
   * Whether an optional part of this lab is on: context `<lab-id>:<feature>` or `labs:all-features`.
   * The feature must be declared in the lab's `lab.ts`, with its idle cost.
   */
  feature(name: FeatureName<L>): boolean {
    if (!this.lab.features.some((f) => f.name === name)) {
      const known = this.lab.features.map((f) => f.name).join(', ') || 'none';
      throw new LabConfigError(`lab ${this.lab.id} declares no feature "${name}" in labs/${this.lab.id}/lab.ts (declared: ${known})`);
    }
    const key = featureContextKey(this.lab.id, name);
    return parseFlag(ALL_FEATURES_CONTEXT, this.node.tryGetContext(ALL_FEATURES_CONTEXT)) ||
      parseFlag(key, this.node.tryGetContext(key));
  }

  /**
   * A value given with `-c <lab-id>:<name>=<value>`, or undefined when none was given. The parameter must be
   * declared in the lab's `lab.ts`; a value that does not match its pattern is refused.
   */
  parameter(name: ParameterName<L>): string | undefined {
    const declared = this.lab.parameters.find((p) => p.name === name);
    if (!declared) {
      const known = this.lab.parameters.map((p) => p.name).join(', ') || 'none';
      throw new LabConfigError(`lab ${this.lab.id} declares no parameter "${name}" in labs/${this.lab.id}/lab.ts (declared: ${known})`);
    }
    const key = featureContextKey(this.lab.id, name);
    const value: unknown = this.node.tryGetContext(key);
    if (value === undefined) return undefined;
    if (!['string', 'number'].includes(typeof value) || !declared.pattern.test(String(value))) {
      throw new LabConfigError(`context ${key} must be ${declared.expected}, got ${JSON.stringify(value)}`);
    }
    return String(value);
  }
}

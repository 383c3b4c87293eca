import { existsSync } from 'node:fs';
import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_MODULE, bundledHandlerCode } from './bundling';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from './logs';
import { ConstructValidationError, ValidationProblem } from './validation';

export interface SafeNodejsFunctionProps extends Omit<lambda.FunctionOptions, 'architecture' | 'logGroup' | 'role' | 'tracing'> {
  /**
   * Path of the handler's entry file (TypeScript or JavaScript), bundled with what it imports by esbuild in the synth
   * process. Its folder is the asset's source: one folder per handler, `lambda/<handler>/index.ts`.
   */
  readonly entry: string;
  /**
   * Name of the function the entry file exports for Lambda to call (`handler`, not NodejsFunction's `index.handler`:
   * the bundle is always `index.js`). @default 'handler'
   */
  readonly handler?: string;
  /** Settings of the function's own log group. @default retention of one month */
  readonly logGroupProps?: CreatedLogGroupProps;
}

/**
 * A Node.js function with the defaults this library wants everywhere: its handler bundled by esbuild in the synth
 * process (minified, with a source map, the AWS SDK left to the runtime), latest Node.js runtime on arm64,
 * its own log group with retention, an execution role without AWS managed policies (write access to
 * that log group only) and active X-Ray tracing whose wildcard permission sits in a policy of its own.
 */
export class SafeNodejsFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: SafeNodejsFunctionProps) {
    const { entry, handler = 'handler', logGroupProps, ...functionProps } = props;
    checkProps(`${scope.node.path}/${id}`, entry, handler);
    const bundled = bundledHandlerCode(scope, id, entry);
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logGroupProps?.retention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${scope.node.path}/${id}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      timeout: Duration.seconds(10),
      memorySize: 256,
      ...functionProps,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: bundled.code,
      handler: `${BUNDLE_MODULE}.${handler}`,
      logGroup,
      role,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...functionProps.environment },
    });

    for (const warning of bundled.warnings) Annotations.of(this).addWarningV2('SafeNodejsFunction.EsbuildWarning', warning);

    (this.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
    const xray = new iam.Policy(this, 'XRayWrite', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      ],
    });
    this.node.addDependency(xray);
    Validations.of(xray).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords have no resource ARN; the X-Ray docs require "*".',
    });
  }
}

/** A JavaScript identifier: what a module can export and Lambda can call. */
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/** Problems of the props that need no bundling to find, all at once. */
function checkProps(constructPath: string, entry: string, handler: string): void {
  const problems: ValidationProblem[] = [];
  if (!existsSync(entry)) problems.push({ code: 'SafeNodejsFunction.EntryNotFound', message: `entry ${entry} does not exist` });
  if (!EXPORT_NAME.test(handler)) {
    problems.push({
      code: 'SafeNodejsFunction.HandlerNotAnExportName',
      message: `handler ${handler} is not the name of an exported function: give the name alone (the bundle is always ${BUNDLE_MODULE}.js)`,
    });
  }
  if (problems.length > 0) throw new ConstructValidationError(constructPath, problems);
}

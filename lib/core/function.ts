import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from './logs';

export interface SafeNodejsFunctionProps
  extends Omit<NodejsFunctionProps, 'entry' | 'runtime' | 'architecture' | 'logGroup' | 'role' | 'tracing'> {
  /** Path of the handler's TypeScript entry file, bundled locally by esbuild. */
  readonly entry: string;
  /** Settings of the function's own log group. @default retention of one month */
  readonly logGroupProps?: CreatedLogGroupProps;
}

/**
 * A NodejsFunction with the defaults this library wants everywhere: latest Node.js runtime on arm64,
 * its own log group with retention, an execution role without AWS managed policies (write access to
 * that log group only) and active X-Ray tracing whose wildcard permission sits in a policy of its own.
 */
export class SafeNodejsFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SafeNodejsFunctionProps) {
    const { logGroupProps, ...functionProps } = props;
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
      logGroup,
      role,
      bundling: { minify: true, sourceMap: true, target: 'node24', ...functionProps.bundling },
      environment: { NODE_OPTIONS: '--enable-source-maps', ...functionProps.environment },
    });

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

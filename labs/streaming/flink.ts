import { Fn, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import { Construct } from 'constructs';
import { FLINK_LAB } from './constants';

export interface ClickNotebook {
  readonly application: kda.CfnApplication;
  readonly database: glue.CfnDatabase;
}

/**
 * A Managed Service for Apache Flink Studio notebook (ApplicationMode INTERACTIVE: Zeppelin with Flink SQL, no code to
 * build) whose tables live in a Glue database, allowed to read the clicks stream. CloudFormation creates it in READY
 * state: it runs, and bills KPUs, only between StartApplication and StopApplication.
 */
export function clickNotebook(scope: Construct, { stream }: { stream: kinesis.IStream }): ClickNotebook {
  const stack = Stack.of(scope);
  const suffix = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
  // Glue database names take lowercase letters, digits and underscores.
  const databaseName = Fn.join('_', [FLINK_LAB.namePrefix, suffix]);
  const database = new glue.CfnDatabase(scope, 'NotebookDatabase', {
    catalogId: stack.account,
    databaseInput: { name: databaseName, description: 'Tables of the streaming lab\'s Flink Studio notebook (CREATE TABLE ... WITH (\'connector\' = \'kinesis\'))' },
  });
  const glueArn = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
  const role = new iam.Role(scope, 'NotebookRole', {
    assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    description: 'Flink Studio notebook of the streaming lab: reads the clicks stream, keeps its tables in its Glue database',
    inlinePolicies: {
      Notebook: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
            resources: [stream.streamArn],
          }),
          new iam.PolicyStatement({
            actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:CreateTable', 'glue:UpdateTable', 'glue:DeleteTable', 'glue:GetPartitions'],
            resources: [glueArn('catalog'), glueArn('database', database.ref), glueArn('table', `${database.ref}/*`)],
          }),
        ],
      }),
    },
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/<NotebookDatabase>/*]',
    reason: 'The tables of the notebook\'s own Glue database: the learner creates them from the notebook (CREATE TABLE), so their names are not known at deploy time.',
  });
  const application = new kda.CfnApplication(scope, 'Notebook', {
    applicationName: Fn.join('-', [FLINK_LAB.namePrefix, 'notebook', suffix]),
    applicationDescription: 'Flink SQL over the clicks stream (Studio notebook); start it to use it, stop it when done: it bills KPUs while running',
    applicationMode: 'INTERACTIVE',
    runtimeEnvironment: FLINK_LAB.runtime,
    serviceExecutionRole: role.roleArn,
    applicationConfiguration: {
      flinkApplicationConfiguration: {
        parallelismConfiguration: { configurationType: 'CUSTOM', parallelism: FLINK_LAB.parallelism, parallelismPerKpu: 1, autoScalingEnabled: false },
      },
      zeppelinApplicationConfiguration: {
        catalogConfiguration: { glueDataCatalogConfiguration: { databaseArn: glueArn('database', database.ref) } },
        monitoringConfiguration: { logLevel: 'INFO' },
      },
    },
  });
  // The role's policy is inline, so it exists when the service first assumes the role.
  application.node.addDependency(role);
  return { application, database };
}

import { Match, Template } from 'aws-cdk-lib/assertions';
import { streamingLab } from '../../../labs/streaming/lab';
import { StreamingLabStack } from '../../../labs/streaming/stack';
import { STREAMING_LAB } from '../../../labs/streaming/constants';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(streamingLab, StreamingLabStack);
const template = labTemplate(lab);
const logicalId = (type: string, prefix: string) => Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix))!;
/** One synth for the flags: on demand, enhanced fan-out, MSK and Flink together (each test reads its own part). */
let flagged: Template | undefined;
const variant = () =>
  (flagged ??= Template.fromStack(
    new lab.stack(testApp({ 'streaming:capacityMode': 'on-demand', 'streaming:enhancedFanOut': true, 'streaming:msk': true, 'streaming:flink': true }, { builtinCloudFormationValidation: false }), { lab }),
  ));

describe('Data Streams', () => {
  test('one provisioned shard, 24 hours, encrypted at rest with aws/kinesis', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 1,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    template.resourceCountIs('AWS::Kinesis::StreamConsumer', 0);
  });

  test('-c streaming:capacityMode=on-demand and -c streaming:enhancedFanOut=true: an on-demand stream read through a fan-out consumer', () => {
    const [stream] = Object.values(variant().findResources('AWS::Kinesis::Stream'));
    expect(stream.Properties.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream.Properties.ShardCount).toBeUndefined();
    const consumerId = Object.keys(variant().findResources('AWS::Kinesis::StreamConsumer'))[0];
    variant().hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: { 'Fn::GetAtt': [consumerId, 'ConsumerARN'] } });
    expect(Object.keys(variant().toJSON().Outputs)).toContain('FanOutConsumerArn');
  });

  test('a parameter outside its pattern, or a shard count for an on-demand stream, is refused with what it expects', () => {
    const build = (context: Record<string, unknown>) => () => new lab.stack(testApp(context, { builtinCloudFormationValidation: false }), { lab });
    expect(build({ 'streaming:capacityMode': 'serverless' })).toThrow(new LabConfigError('context streaming:capacityMode must be provisioned or on-demand, got "serverless"'));
    expect(build({ 'streaming:shardCount': 0 })).toThrow(new LabConfigError('context streaming:shardCount must be a whole number from 1 to 10, got 0'));
    expect(build({ 'streaming:shardCount': 2, 'streaming:capacityMode': 'on-demand' })).toThrow(
      new LabConfigError('context streaming:shardCount applies to a provisioned stream: an on-demand stream manages its shards'),
    );
  });
});

describe('the Lambda consumer', () => {
  test('reads the stream with bisect, 2 retries, 1 hour, a 1 s batching window, 2 batches per shard, failures to a queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: STREAMING_LAB.batchSize,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('OnFailureQueue'), 'Arn'] } } },
    });
  });

  test('may only update and read items of the progress table; the window counter may only update them', () => {
    const table = logicalId('AWS::DynamoDB::GlobalTable', 'KeyProgress');
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
    const actionsOf = (rolePrefix: string) =>
      policies
        .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith(rolePrefix)))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(table))
        .flatMap((s: { Action: string | string[] }) => s.Action);
    expect(actionsOf('ConsumerRole')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(actionsOf('WindowCounterRole')).toEqual(['dynamodb:UpdateItem']);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ PROGRESS_TABLE_NAME: { Ref: table } }) } });
  });

  test('a second mapping on the stream counts clicks in 30 s tumbling windows, with its own on-failure queue', () => {
    const counter = logicalId('AWS::Lambda::Function', 'WindowCounter');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: counter },
      EventSourceArn: { 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] },
      TumblingWindowInSeconds: STREAMING_LAB.tumblingWindow.toSeconds(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClicksPerWindowOnFailureQueue'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: logicalId('AWS::Lambda::Function', 'Consumer') }, TumblingWindowInSeconds: Match.absent() });
  });
});

describe('Firehose to S3', () => {
  const [delivery] = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
  const destination = delivery.Properties.ExtendedS3DestinationConfiguration;

  test('reads the stream and writes gzip objects under a date prefix, failures under an error prefix, every 60 s or 1 MiB', () => {
    expect(delivery.Properties.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(delivery.Properties.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual({ 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] });
    expect(destination).toMatchObject({
      Prefix: 'clicks/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
      ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/',
      CompressionFormat: 'GZIP',
      BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 1 },
      CloudWatchLoggingOptions: { Enabled: true },
    });
  });

  test('transforms every record with the Lambda function', () => {
    const [processor] = destination.ProcessingConfiguration.Processors;
    expect(destination.ProcessingConfiguration.Enabled).toBe(true);
    expect(processor.Type).toBe('Lambda');
    expect(processor.Parameters).toEqual([
      { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'Transform'), 'Arn'] } },
      { ParameterName: 'BufferSizeInMBs', ParameterValue: '1' },
      { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '60' },
      { ParameterName: 'NumberOfRetries', ParameterValue: '1' },
    ]);
  });

  test('its role reads the stream, invokes the transform, writes the bucket and one log stream: no wildcard actions', () => {
    const role = Object.values(template.findResources('AWS::IAM::Role')).find((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('firehose.amazonaws.com'));
    const actions = role?.Properties.Policies[0].PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action);
    expect(actions).toEqual([
      'kinesis:DescribeStream', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards',
      'lambda:GetFunctionConfiguration', 'lambda:InvokeFunction',
      's3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads',
      's3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject',
      'logs:PutLogEvents',
    ]);
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  test('the bucket is private, TLS only, expires deliveries after 7 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
    });
  });
});

test('outputs what the exercise uses; no fan-out consumer unless asked', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ConsumerFunctionName', 'DeliveryBucketName', 'DeliveryStreamName', 'OnFailureQueueUrl', 'ProgressTableName', 'StreamArn', 'StreamName', 'TransformFunctionName',
    'WindowCounterFunctionName',
  ]);
});

describe('-c streaming:msk=true', () => {
  const kafkaId = (type: string, prefix: string) => Object.keys(variant().findResources(type)).find((id) => id.startsWith(prefix))!;

  test('not deployed by default', () => {
    for (const type of ['AWS::MSK::ServerlessCluster', 'AWS::EC2::VPC', 'AWS::EC2::VPCEndpoint']) template.resourceCountIs(type, 0);
  });

  test('an MSK Serverless cluster with IAM authentication only, in two isolated subnets, and no route out', () => {
    const [cluster] = Object.values(variant().findResources('AWS::MSK::ServerlessCluster'));
    expect(cluster.Properties.ClientAuthentication).toEqual({ Sasl: { Iam: { Enabled: true } } });
    expect(cluster.Properties.VpcConfigs[0].SubnetIds).toHaveLength(2);
    for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::InternetGateway', 'AWS::EC2::Route']) variant().resourceCountIs(type, 0);
    variant().hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  test('STS and Lambda interface endpoints in both subnets, reachable on 443 from the cluster\'s group only', () => {
    const endpoints = Object.values(variant().findResources('AWS::EC2::VPCEndpoint')).map((e) => e.Properties);
    expect(endpoints.map((e) => JSON.stringify(e.ServiceName)).sort()).toEqual([expect.stringContaining('.lambda'), expect.stringContaining('.sts')]);
    expect(endpoints.every((e) => e.VpcEndpointType === 'Interface' && e.PrivateDnsEnabled === true && e.SubnetIds.length === 2)).toBe(true);
    const clusterGroup = kafkaId('AWS::EC2::SecurityGroup', 'KafkaClusterSecurityGroup');
    const ingress = Object.values(variant().findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [clusterGroup, 'GroupId'] } }),
        expect.objectContaining({ FromPort: 9098, ToPort: 9098, SourceSecurityGroupId: { 'Fn::GetAtt': [clusterGroup, 'GroupId'] } }),
      ]),
    );
    variant().hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('^MSK Serverless'), SecurityGroupEgress: Match.absent() });
  });

  test('a mapping reads the clicks topic from the oldest message as its own consumer group', () => {
    variant().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': ['KafkaCluster', 'Arn'] },
      FunctionName: { Ref: kafkaId('AWS::Lambda::Function', 'KafkaConsumer') },
      Topics: ['clicks'],
      StartingPosition: 'TRIM_HORIZON',
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'streaming-lab-consumer' },
    });
  });

  test('the consumer\'s role: the cluster, its topic and group by ARN, interfaces in the lab\'s VPC; no managed policy', () => {
    const [access] = Object.values(variant().findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.PolicyName).includes('KafkaConsumerAccess'));
    const statements = access.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    expect(statements.map((s) => s.Action)).toEqual([
      ['kafka-cluster:Connect', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'],
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
    ]);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/:topic\/.*clicks/);
    expect(JSON.stringify(statements[2].Resource)).toMatch(/:group\/.*streaming-lab-consumer/);
    const role = variant().findResources('AWS::IAM::Role')[kafkaId('AWS::IAM::Role', 'KafkaConsumerRole')];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(Object.keys(variant().toJSON().Outputs)).toEqual(expect.arrayContaining(['KafkaClusterArn', 'KafkaConsumerFunctionName', 'KafkaMappingId']));
  });

  test('the producer function runs in the isolated subnets with the cluster\'s group; its role connects and creates, describes and writes the clicks topic only', () => {
    const producerId = kafkaId('AWS::Lambda::Function', 'KafkaProducer');
    const producer = variant().findResources('AWS::Lambda::Function')[producerId];
    expect(producer.Properties.VpcConfig).toEqual({
      SubnetIds: [expect.objectContaining({ Ref: expect.stringMatching(/^KafkaVpcisolatedSubnet1/) }), expect.objectContaining({ Ref: expect.stringMatching(/^KafkaVpcisolatedSubnet2/) })],
      SecurityGroupIds: [{ 'Fn::GetAtt': [kafkaId('AWS::EC2::SecurityGroup', 'KafkaClusterSecurityGroup'), 'GroupId'] }],
    });
    expect(producer.Properties.Timeout).toBe(60);
    const [accessId, access] = Object.entries(variant().findResources('AWS::IAM::Policy')).find(([, p]) => JSON.stringify(p.Properties.PolicyName).includes('KafkaProducerAccess'))!;
    const statements = access.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
    expect(statements.map((s) => s.Action)).toEqual([
      'kafka-cluster:Connect',
      ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      'ec2:CreateNetworkInterface',
      ['ec2:AssignPrivateIpAddresses', 'ec2:DeleteNetworkInterface', 'ec2:UnassignPrivateIpAddresses'],
    ]);
    expect(statements[0].Resource).toEqual({ 'Fn::GetAtt': ['KafkaCluster', 'Arn'] });
    expect(JSON.stringify(statements[1].Resource)).toMatch(/:topic\/.*"clicks"/);
    expect(statements.slice(3).every((s) => JSON.stringify(s.Condition).includes('ec2:Vpc'))).toBe(true);
    // Lambda checks the role's rights on the VPC when it creates the function.
    expect(producer.DependsOn).toContain(accessId);
    expect(Object.keys(variant().toJSON().Outputs)).toContain('KafkaProducerFunctionName');
  });
});

describe('-c streaming:flink=true', () => {
  test('not deployed by default', () => {
    template.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 0);
  });

  test('a Studio notebook (INTERACTIVE, no code to build) on 1 KPU, its tables in its own Glue database', () => {
    const [notebook] = Object.values(variant().findResources('AWS::KinesisAnalyticsV2::Application'));
    const databaseId = Object.keys(variant().findResources('AWS::Glue::Database'))[0];
    expect(notebook.Properties).toMatchObject({
      ApplicationMode: 'INTERACTIVE',
      RuntimeEnvironment: 'ZEPPELIN-FLINK-3_0',
      ApplicationConfiguration: {
        FlinkApplicationConfiguration: { ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 1, ParallelismPerKPU: 1, AutoScalingEnabled: false } },
        ZeppelinApplicationConfiguration: { CatalogConfiguration: { GlueDataCatalogConfiguration: { DatabaseARN: expect.anything() } } },
      },
    });
    expect(JSON.stringify(notebook.Properties.ApplicationConfiguration.ZeppelinApplicationConfiguration)).toContain(`{"Ref":"${databaseId}"}`);
    expect(Object.keys(variant().toJSON().Outputs)).toContain('NotebookName');
  });

  test('its role reads the clicks stream and the tables of its database, assumed by the service for this account only', () => {
    const role = Object.values(variant().findResources('AWS::IAM::Role')).find((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('kinesisanalytics.amazonaws.com'));
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
    const [kinesis, glue] = role?.Properties.Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
    expect(kinesis.Action).toEqual(['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']);
    expect(kinesis.Resource).toEqual({ 'Fn::GetAtt': [logicalId('AWS::Kinesis::Stream', 'ClicksStream'), 'Arn'] });
    expect(glue.Action).toEqual(['glue:CreateTable', 'glue:DeleteTable', 'glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable', 'glue:GetTables', 'glue:UpdateTable']);
    expect(JSON.stringify(glue.Resource)).toMatch(/:catalog".*:database\/.*:table\//);
  });
});

import { ArnFormat, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { lambdaTransform, SEARCH_LAB, STREAMING_LAB } from './constants';

/** The HTTP methods of the OpenSearch REST API the two principals use: read, search, index, map roles. */
const HTTP_ACTIONS = ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut'];

export interface ClickSearch {
  readonly domain: opensearch.CfnDomain;
  readonly delivery: firehose.CfnDeliveryStream;
  /** The fine-grained access control master user: the exercise assumes it to map the Firehose role and to search. */
  readonly adminRole: iam.Role;
  readonly firehoseRole: iam.Role;
}

/**
 * An OpenSearch domain (one t3.small.search node, fine-grained access control with an IAM master role, encrypted at
 * rest and in transit, HTTPS only) and a second Firehose stream from the clicks stream to its `clicks` index, through
 * the same transform, documents it cannot index going to S3. Only two IAM roles of the account may send it requests.
 */
export function clickSearch(
  scope: Construct,
  { stream, bucket, transform }: { stream: kinesis.IStream; bucket: s3.IBucket; transform: lambda.IFunction },
): ClickSearch {
  const stack = Stack.of(scope);
  // A name known before the domain exists, since its access policy names it (a generated one would be circular):
  // `clicks-` and the first 8 hex digits of the stack's id, lowercase as a domain name must be.
  const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
  const domainName = Fn.join('-', [SEARCH_LAB.domainNamePrefix, Fn.select(0, Fn.split('-', stackUuid))]);
  const domainArn = stack.formatArn({ service: 'es', resource: 'domain', resourceName: domainName });
  const adminRole = new iam.Role(scope, 'SearchAdminRole', {
    assumedBy: new iam.AccountPrincipal(stack.account),
    description: 'Master user of the streaming lab\'s OpenSearch domain: maps the Firehose role to its OpenSearch role and searches',
  });

  // Short ids: the construct path is the box's label in the README's diagram, which the house keeps under 1700 px.
  const logGroup = new logs.LogGroup(scope, 'SearchLogs', { retention: logs.RetentionDays.ONE_WEEK });
  const logStream = logGroup.addStream('Delivery');
  const logStreamArn = stack.formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const firehoseRole = new iam.Role(scope, 'SearchFirehoseRole', {
    assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    description: 'Firehose of the streaming lab to OpenSearch: reads the clicks stream, invokes the transform, indexes, backs up failures',
  });

  const domain = new opensearch.CfnDomain(scope, 'ClickSearch', {
    domainName,
    engineVersion: 'OpenSearch_2.19',
    clusterConfig: { instanceType: SEARCH_LAB.instanceType, instanceCount: 1, dedicatedMasterEnabled: false, zoneAwarenessEnabled: false },
    ebsOptions: { ebsEnabled: true, volumeType: 'gp3', volumeSize: SEARCH_LAB.volumeGiB },
    encryptionAtRestOptions: { enabled: true },
    nodeToNodeEncryptionOptions: { enabled: true },
    domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
    advancedSecurityOptions: {
      enabled: true,
      internalUserDatabaseEnabled: false,
      masterUserOptions: { masterUserArn: adminRole.roleArn },
    },
    // Signed requests of these two roles only: an anonymous request is refused before fine-grained access control.
    accessPolicies: new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          principals: [new iam.ArnPrincipal(adminRole.roleArn), new iam.ArnPrincipal(firehoseRole.roleArn)],
          actions: HTTP_ACTIONS,
          resources: [`${domainArn}/*`],
        }),
      ],
    }).toJSON(),
  });
  Validations.of(domain).acknowledge(
    {
      id: 'AwsSolutions-OS1',
      reason:
        'A public endpoint so the exercise can search from the learner\'s machine; its access policy admits two IAM roles\' ' +
        'signed requests only. A VPC domain would need a bastion or a VPN for the same lesson.',
    },
    {
      id: 'AwsSolutions-OS3',
      reason: 'Access is by IAM identity (signed requests of two roles) and fine-grained access control, not by source IP: a learner\'s IP changes.',
    },
    { id: 'AwsSolutions-OS4', reason: 'One data node for a lab ($26.28/month): dedicated master nodes would triple the figure for no lesson.' },
    { id: 'AwsSolutions-OS7', reason: 'One data node in one AZ for a lab: zone awareness needs two nodes at least, twice the figure.' },
    ...['SEARCH_SLOW_LOGS', 'INDEX_SLOW_LOGS'].map((log) => ({
      id: `AwsSolutions-OS9[LogExport::${log}]`,
      reason: 'Slow logs would need a log group resource policy (a custom resource) for no lesson here; Firehose logs its deliveries to CloudWatch Logs.',
    })),
  );

  // A policy of its own, not inline: the domain's access policy names the role, and this policy names the domain.
  const firehosePolicy = new iam.Policy(scope, 'SearchFirehosePolicy', {
    roles: [firehoseRole],
    statements: [
      new iam.PolicyStatement({
        actions: ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
        resources: [stream.streamArn],
      }),
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], resources: [transform.functionArn] }),
      new iam.PolicyStatement({ actions: ['es:DescribeDomain', 'es:DescribeDomains', 'es:DescribeDomainConfig'], resources: [domain.attrArn] }),
      new iam.PolicyStatement({ actions: HTTP_ACTIONS, resources: [`${domain.attrArn}/*`] }),
      new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucket.bucketArn] }),
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [bucket.arnForObjects(`${SEARCH_LAB.failedDocumentsPrefix}*`)],
      }),
      new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logStreamArn] }),
    ],
  });
  Validations.of(firehosePolicy).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::<ClickSearch.Arn>/*]',
      reason: 'The REST paths of the lab\'s domain (_bulk, the clicks index, its mapping): Firehose chooses them, and the domain holds only this index.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::<DeliveriesBF2F7293.Arn>/opensearch-failed/*]',
      reason: 'The failed-documents objects of the deliveries bucket: Firehose names each object under this prefix, so no narrower ARN exists.',
    },
  );

  const delivery = new firehose.CfnDeliveryStream(scope, 'ToOpenSearch', {
    deliveryStreamType: 'KinesisStreamAsSource',
    kinesisStreamSourceConfiguration: { kinesisStreamArn: stream.streamArn, roleArn: firehoseRole.roleArn },
    amazonopensearchserviceDestinationConfiguration: {
      domainArn: domain.attrArn,
      indexName: SEARCH_LAB.indexName,
      indexRotationPeriod: 'NoRotation',
      roleArn: firehoseRole.roleArn,
      bufferingHints: {
        intervalInSeconds: STREAMING_LAB.firehoseBufferInterval.toSeconds(),
        sizeInMBs: STREAMING_LAB.firehoseBufferMiB,
      },
      retryOptions: { durationInSeconds: SEARCH_LAB.retrySeconds },
      s3BackupMode: 'FailedDocumentsOnly',
      s3Configuration: {
        bucketArn: bucket.bucketArn,
        roleArn: firehoseRole.roleArn,
        prefix: SEARCH_LAB.failedDocumentsPrefix,
        compressionFormat: 'GZIP',
      },
      cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
      processingConfiguration: lambdaTransform(transform.functionArn),
    },
  });
  // Firehose checks its permissions when the stream is created: the policy must be attached by then.
  delivery.node.addDependency(firehosePolicy);
  Validations.of(delivery).acknowledge({
    id: 'AwsSolutions-KDF1',
    reason:
      'Firehose server-side encryption applies to Direct PUT sources only; this stream reads a Kinesis stream that is ' +
      'encrypted at rest (aws/kinesis) and writes to a domain encrypted at rest.',
  });
  return { domain, delivery, adminRole, firehoseRole };
}

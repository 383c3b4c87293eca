import * as path from 'node:path';
import { Fn, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { withCdkDurations } from '../support/cdk-duration';
import { KAFKA_LAB as KAFKA_LAB_SPEC, STREAMING_LAB as STREAMING_LAB_SPEC } from './constants';
import { vpcFunctionInterfaces } from '../support/vpc-function-interfaces';
import { labVpc } from '../support/lab-vpc';

/** The shared constants (./constants.ts) with CDK durations. */
const STREAMING_LAB = withCdkDurations(STREAMING_LAB_SPEC);
const KAFKA_LAB = withCdkDurations(KAFKA_LAB_SPEC);

export interface ClickKafka {
  readonly cluster: msk.CfnServerlessCluster;
  readonly consumer: SafeNodejsFunction;
  readonly mapping: lambda.EventSourceMapping;
  /** The function the exercise's msk step invokes to create the topic and produce, from inside the VPC. */
  readonly producer: SafeNodejsFunction;
}

/** The ARN of a topic or group of the cluster: `<resource>/<cluster name>/<cluster uuid>/<name>`. */
type KafkaArn = (resource: 'topic' | 'group', name: string) => string;

/**
 * MSK Serverless (IAM authentication only, reachable only inside its VPC) in two isolated subnets without a NAT
 * gateway, a Lambda function consuming its `clicks` topic through an event source mapping, and a Lambda function in
 * the VPC that creates the topic and produces to it for the exercise. The mapping polls the brokers from network
 * interfaces Lambda creates in the cluster's subnets with the cluster's security group; from there it reaches STS and
 * Lambda through interface endpoints, which the Lambda developer guide asks for when the mapping's pollers run in the
 * default (on-demand) mode and there is no NAT gateway.
 */
export function clickKafka(scope: Construct, { progress }: { progress: dynamodb.TableV2 }): ClickKafka {
  const stack = Stack.of(scope);
  const vpc = labVpc(scope, 'KafkaVpc', { subnets: 'isolated', maxAzs: KAFKA_LAB.availabilityZones });

  // The brokers, the mapping's interfaces and the producer function share this group: they reach the brokers on the
  // IAM port (the mapping also the endpoints on 443), nothing else.
  const clusterGroup = new ec2.SecurityGroup(scope, 'KafkaClusterSecurityGroup', {
    vpc,
    description: 'MSK Serverless brokers, the Lambda event source mapping interfaces that poll them and the producer function',
    allowAllOutbound: false,
  });
  clusterGroup.addIngressRule(clusterGroup, ec2.Port.tcp(KAFKA_LAB.iamPort), 'The mapping and the producer reach the brokers (SASL/IAM over TLS)');
  clusterGroup.addEgressRule(clusterGroup, ec2.Port.tcp(KAFKA_LAB.iamPort), 'The mapping and the producer reach the brokers (SASL/IAM over TLS)');
  const endpointGroup = new ec2.SecurityGroup(scope, 'KafkaEndpointSecurityGroup', {
    vpc,
    description: 'Interface endpoints for STS and Lambda, used by the MSK event source mapping',
    allowAllOutbound: false,
  });
  endpointGroup.addIngressRule(clusterGroup, ec2.Port.tcp(443), 'The mapping calls STS and Lambda');
  clusterGroup.addEgressRule(endpointGroup, ec2.Port.tcp(443), 'The mapping calls STS and Lambda');
  const services = { sts: ec2.InterfaceVpcEndpointAwsService.STS, lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA };
  for (const name of KAFKA_LAB.endpointServices) {
    vpc.addInterfaceEndpoint(`Kafka${name === 'sts' ? 'Sts' : 'Lambda'}Endpoint`, { service: services[name], securityGroups: [endpointGroup], open: false });
  }

  // A name known before the cluster exists, since the consumer's policy names its topic and group ARNs.
  const stackUuid = Fn.select(2, Fn.split('/', stack.stackId));
  const clusterName = Fn.join('-', [KAFKA_LAB.clusterNamePrefix, Fn.select(0, Fn.split('-', stackUuid))]);
  const cluster = new msk.CfnServerlessCluster(scope, 'KafkaCluster', {
    clusterName,
    clientAuthentication: { sasl: { iam: { enabled: true } } },
    vpcConfigs: [{ subnetIds: vpc.isolatedSubnets.map((subnet) => subnet.subnetId), securityGroups: [clusterGroup.securityGroupId] }],
  });

  const consumer = new SafeNodejsFunction(scope, 'KafkaConsumer', {
    entry: path.join(__dirname, '..', '..', 'lambda', 'kafka-consumer', 'index.ts'),
    description: 'Records each message of the clicks topic it receives (partition and offset) in the progress table',
    timeout: STREAMING_LAB.consumerTimeout,
    environment: { PROGRESS_TABLE_NAME: progress.tableName },
  });
  // One UpdateItem per run and batch: nothing else.
  progress.grant(consumer, 'dynamodb:UpdateItem');
  const clusterUuid = Fn.select(2, Fn.split('/', cluster.attrArn));
  const kafkaArn: KafkaArn = (resource, name) => stack.formatArn({ service: 'kafka', resource, resourceName: Fn.join('/', [clusterName, clusterUuid, name]) });
  const policy = consumerPolicy(scope, { consumer, cluster, kafkaArn, vpc, clusterGroup });

  // The L2 mapping, not ManagedKafkaEventSource: that one attaches the AWSLambdaMSKExecutionRole managed policy
  // (every action on every resource) and kafka:DescribeCluster, which a serverless cluster does not answer.
  const mapping = new lambda.EventSourceMapping(scope, 'KafkaMapping', {
    target: consumer,
    eventSourceArn: cluster.attrArn,
    kafkaTopic: KAFKA_LAB.topic,
    kafkaConsumerGroupId: KAFKA_LAB.consumerGroupId,
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: STREAMING_LAB.batchSize,
  });
  // Lambda checks the role's permissions when it creates the mapping.
  mapping.node.addDependency(policy);
  const producer = kafkaProducer(scope, { cluster, kafkaArn, vpc, clusterGroup });
  return { cluster, consumer, mapping, producer };
}

/**
 * The function the exercise invokes with the topic and messages: in the cluster's subnets and security group, it
 * connects with kafkajs and an IAM token it signs with its role's credentials (no STS call: the runtime hands it the
 * credentials), creates the topic and produces. Its role may connect, create, describe and write the clicks topic.
 */
function kafkaProducer(
  scope: Construct,
  { cluster, kafkaArn, vpc, clusterGroup }: { cluster: msk.CfnServerlessCluster; kafkaArn: KafkaArn; vpc: ec2.Vpc; clusterGroup: ec2.SecurityGroup },
): SafeNodejsFunction {
  const producer = new SafeNodejsFunction(scope, 'KafkaProducer', {
    entry: path.join(__dirname, '..', '..', 'lambda', 'kafka-producer', 'index.ts'),
    description: 'Creates the clicks topic and produces the msk step\'s messages from inside the VPC, signed in with IAM',
    timeout: KAFKA_LAB.producerTimeout,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [clusterGroup],
  });
  const access = vpcFunctionInterfaces(scope, { vpc, subnets: vpc.isolatedSubnets, securityGroups: [clusterGroup] });
  const policy = new iam.Policy(scope, 'KafkaProducerAccess', {
    roles: [producer.role as iam.IRole],
    statements: [
      // Create a topic: Connect and CreateTopic; produce: Connect, DescribeTopic and WriteData (MSK developer guide).
      new iam.PolicyStatement({ actions: ['kafka-cluster:Connect'], resources: [cluster.attrArn] }),
      new iam.PolicyStatement({
        actions: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resources: [kafkaArn('topic', KAFKA_LAB.topic)],
      }),
      ...access.statements,
    ],
  });
  // Lambda checks the role's permissions on the VPC when it creates the function.
  producer.node.addDependency(policy);
  access.acknowledge(policy);
  return producer;
}

/**
 * What the mapping does as the consumer's role, the same actions AWSLambdaMSKExecutionRole gives plus the Kafka
 * actions of IAM authentication, each on the narrowest resource: the cluster, its clicks topic and the mapping's
 * consumer group (ARNs built from the cluster's ARN, `cluster/<name>/<uuid>`), and network interfaces in the lab's VPC.
 */
function consumerPolicy(
  scope: Construct,
  { consumer, cluster, kafkaArn, vpc, clusterGroup }: { consumer: SafeNodejsFunction; cluster: msk.CfnServerlessCluster; kafkaArn: KafkaArn; vpc: ec2.Vpc; clusterGroup: ec2.SecurityGroup },
): iam.Policy {
  const stack = Stack.of(scope);
  const ec2Arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ec2', resource, resourceName });
  const interfaces = ec2Arn('network-interface', '*');
  const inVpc = { ArnEqualsIfExists: { 'ec2:Vpc': ec2Arn('vpc', vpc.vpcId) } };
  const policy = new iam.Policy(scope, 'KafkaConsumerAccess', {
    roles: [consumer.role as iam.IRole],
    statements: [
      new iam.PolicyStatement({
        actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers', 'kafka-cluster:Connect'],
        resources: [cluster.attrArn],
      }),
      new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: [kafkaArn('topic', KAFKA_LAB.topic)] }),
      new iam.PolicyStatement({ actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'], resources: [kafkaArn('group', KAFKA_LAB.consumerGroupId)] }),
      new iam.PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [interfaces, ...vpc.isolatedSubnets.map((subnet) => ec2Arn('subnet', subnet.subnetId)), ec2Arn('security-group', clusterGroup.securityGroupId)],
        conditions: inVpc,
      }),
      new iam.PolicyStatement({ actions: ['ec2:DeleteNetworkInterface'], resources: [interfaces], conditions: inVpc }),
    ],
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ec2:DescribeNetworkInterfaces, DescribeSecurityGroups, DescribeSubnets and DescribeVpcs have no resource ARN; Lambda calls them to manage the mapping\'s interfaces.',
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
    reason: 'Lambda creates the mapping\'s network interfaces, whose ids do not exist at deploy time; the ec2:Vpc condition keeps them in the lab\'s VPC.',
  });
  return policy;
}

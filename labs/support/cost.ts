import type { CfnTemplate } from './diagram';

/** AWS bills hourly resources over 730 hours a month in its price pages. */
export const HOURS_PER_MONTH = 730;
/** When the prices below were checked against the us-east-1 price pages. */
export const PRICES_CHECKED = '2026-11';

export const perMonth = (usd: number) => `$${usd.toFixed(2)}/month`;
export const perHour = (usdPerMonth: number) => `$${(usdPerMonth / HOURS_PER_MONTH).toFixed(4)}/hour`;

type Properties = Record<string, unknown>;
type Pricer = (properties: Properties, template: CfnTemplate) => number;

const hourly = (usdPerHour: number) => usdPerHour * HOURS_PER_MONTH;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

/** us-east-1 on-demand node prices per hour. */
const DAX_NODE_PER_HOUR: Record<string, number> = { 'dax.t3.small': 0.04, 'dax.t3.medium': 0.08, 'dax.r5.large': 0.269 };
/**
 * ElastiCache on-demand node prices per hour, by node type and engine (us-east-1): Valkey nodes are priced 20% below
 * Redis OSS and Memcached ones.
 */
const ELASTICACHE_NODE_PER_HOUR: Record<string, Record<string, number>> = {
  'cache.t4g.micro': { valkey: 0.0128, redis: 0.016, memcached: 0.016 },
};

/** A node of `type` running `engine`, per month. */
const elastiCacheNode = (type: unknown, engine: unknown) =>
  hourly(named(ELASTICACHE_NODE_PER_HOUR[String(type)] ?? {}, String(engine).toLowerCase(), `ElastiCache ${String(type)} node of engine`));

/** A replication group bills every node: its primaries and their replicas. */
function elastiCacheReplicationGroup(properties: Properties): number {
  const nodes =
    properties.NumCacheClusters !== undefined
      ? Number(properties.NumCacheClusters)
      : Number(properties.NumNodeGroups ?? 1) * (1 + Number(properties.ReplicasPerNodeGroup ?? 0));
  return nodes * elastiCacheNode(properties.CacheNodeType, properties.Engine);
}

/** API Gateway REST cache sizes (GB) and their price per hour. */
const API_CACHE_PER_HOUR: Record<string, number> = { '0.5': 0.02, '1.6': 0.038, '6.1': 0.2, '13.5': 0.25 };
/** Lambda provisioned concurrency, per GB-second while configured (x86_64 / arm64). */
const PROVISIONED_CONCURRENCY_PER_GB_SECOND = { x86_64: 0.0000041667, arm64: 0.0000033334 };

function refId(value: unknown): string | undefined {
  const record = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return record?.Ref ?? record?.['Fn::GetAtt']?.[0];
}

function provisionedConcurrency(properties: Properties, template: CfnTemplate): number {
  const executions = (properties.ProvisionedConcurrencyConfig as { ProvisionedConcurrentExecutions?: number })
    ?.ProvisionedConcurrentExecutions;
  if (!executions) return 0;
  const fn = template.Resources[refId(properties.FunctionName) ?? '']?.Properties ?? {};
  const memoryGb = ((fn.MemorySize as number | undefined) ?? 128) / 1024;
  const arm = ((fn.Architectures as string[] | undefined) ?? []).includes('arm64');
  return executions * memoryGb * PROVISIONED_CONCURRENCY_PER_GB_SECOND[arm ? 'arm64' : 'x86_64'] * SECONDS_PER_MONTH;
}

/** us-east-1 on-demand Linux instance prices per hour. */
const EC2_INSTANCE_PER_HOUR: Record<string, number> = { 't4g.nano': 0.0042, 't4g.micro': 0.0084 };
/** A public IPv4 address, per hour, attached or idle. */
const PUBLIC_IPV4_PER_HOUR = 0.005;
/** EBS volumes per GB-month. */
const EBS_PER_GB_MONTH: Record<string, number> = { gp3: 0.08, gp2: 0.1 };

/** An instance bills its type per hour, its public IPv4 address, and the EBS volumes of its block device mappings. */
function ec2Instance(properties: Properties): number {
  const publicIp = ((properties.NetworkInterfaces as { AssociatePublicIpAddress?: boolean }[] | undefined) ?? []).some((n) => n.AssociatePublicIpAddress);
  const volumes = ((properties.BlockDeviceMappings as { Ebs?: { VolumeSize?: number; VolumeType?: string } }[] | undefined) ?? [])
    .flatMap((mapping) => (mapping.Ebs ? [mapping.Ebs] : []))
    .reduce((sum, ebs) => sum + Number(ebs.VolumeSize) * named(EBS_PER_GB_MONTH, ebs.VolumeType ?? 'gp2', 'EBS volume type'), 0);
  return hourly(named(EC2_INSTANCE_PER_HOUR, String(properties.InstanceType), 'EC2 instance type') + (publicIp ? PUBLIC_IPV4_PER_HOUR : 0)) + volumes;
}

/**
 * An Auto Scaling group bills its desired instances, each priced as the instance its launch template (in the stack)
 * describes; an instance in a subnet that maps public IPv4 addresses on launch bills one, unless its launch template's
 * network interface says otherwise.
 */
function autoScalingGroup(properties: Properties, template: CfnTemplate): number {
  const instances = Number(properties.DesiredCapacity ?? properties.MinSize ?? 0);
  if (instances === 0) return 0;
  const launchTemplateId = (properties.LaunchTemplate as { LaunchTemplateId?: unknown } | undefined)?.LaunchTemplateId;
  const data = template.Resources[refId(launchTemplateId) ?? '']?.Properties?.LaunchTemplateData as Properties | undefined;
  if (!data) return unpriced('an Auto Scaling group without a launch template in the stack');
  // Without mappings the root volume's size and type come from the image, which the template does not show.
  if (!Array.isArray(data.BlockDeviceMappings) || data.BlockDeviceMappings.length === 0) {
    return unpriced('an Auto Scaling group whose launch template leaves the root volume to the image');
  }
  const subnets = (properties.VPCZoneIdentifier as unknown[] | undefined) ?? [];
  const publicSubnet = subnets.some((subnet) => template.Resources[refId(subnet) ?? '']?.Properties?.MapPublicIpOnLaunch === true);
  // The interface's own AssociatePublicIpAddress, true or false, overrides the subnet's MapPublicIpOnLaunch.
  const interfaceSetting = ((data.NetworkInterfaces as { AssociatePublicIpAddress?: boolean }[] | undefined) ?? [])[0]?.AssociatePublicIpAddress;
  return instances * ec2Instance({ ...data, NetworkInterfaces: [{ AssociatePublicIpAddress: interfaceSetting ?? publicSubnet }] });
}

/**
 * An Elastic Beanstalk environment's instances are created by the environment's own stack, not the template: priced
 * from its option settings (the saved configuration's under the environment's own). A single instance bills its type,
 * its public IPv4 address and its root volume; a load-balanced one its MinSize such instances (a public address each
 * with AssociatePublicIpAddress) and, for a web tier, its Application Load Balancer in the ELBSubnets.
 */
function beanstalkEnvironment(properties: Properties, template: CfnTemplate): number {
  type Setting = { Namespace: string; OptionName: string; Value?: unknown };
  const saved = (template.Resources[refId(properties.TemplateName) ?? '']?.Properties?.OptionSettings as Setting[] | undefined) ?? [];
  const settings = [...saved, ...((properties.OptionSettings as Setting[] | undefined) ?? [])];
  const option = (namespace: string, name: string) => settings.filter((s) => s.Namespace === namespace && s.OptionName === name).at(-1)?.Value;
  const single = option('aws:elasticbeanstalk:environment', 'EnvironmentType') === 'SingleInstance';
  const worker = (properties.Tier as { Name?: string } | undefined)?.Name === 'Worker';
  const instanceType = String(option('aws:ec2:instances', 'InstanceTypes') ?? '').split(',')[0];
  const volumeSize = option('aws:autoscaling:launchconfiguration', 'RootVolumeSize');
  const volumeType = option('aws:autoscaling:launchconfiguration', 'RootVolumeType');
  if (volumeSize === undefined || volumeType === undefined) return unpriced('an Elastic Beanstalk environment without RootVolumeSize and RootVolumeType');
  const instance = ec2Instance({
    InstanceType: instanceType,
    // A single-instance web environment gets an Elastic IP; otherwise an instance has a public address only when asked.
    NetworkInterfaces: [{ AssociatePublicIpAddress: (single && !worker) || option('aws:ec2:vpc', 'AssociatePublicIpAddress') === 'true' }],
    BlockDeviceMappings: [{ Ebs: { VolumeSize: Number(volumeSize), VolumeType: String(volumeType) } }],
  });
  if (single) return instance;
  const instances = Number(option('aws:autoscaling:asg', 'MinSize') ?? 1) * instance;
  if (worker) return instances;
  const balancerType = option('aws:elasticbeanstalk:environment', 'LoadBalancerType') ?? 'classic';
  if (balancerType !== 'application') return unpriced(`an Elastic Beanstalk environment with a ${String(balancerType)} load balancer`);
  // ELBSubnets is one comma-separated string, joined from subnet references when the VPC is in the stack.
  const flat = (value: unknown): string => {
    const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
    return typeof value === 'string' ? value : join ? join[1].map(flat).join(join[0]) : 'subnet';
  };
  const subnets = option('aws:ec2:vpc', 'ELBSubnets');
  const scheme = option('aws:ec2:vpc', 'ELBScheme') === 'internal' ? 'internal' : 'internet-facing';
  return instances + loadBalancer({ Scheme: scheme, Subnets: subnets === undefined ? undefined : flat(subnets).split(',') });
}

/** Kinesis Data Streams, per hour: a provisioned shard, extended retention (24 h – 7 days) per shard, an on-demand stream, an enhanced fan-out consumer per shard. */
const KINESIS_PER_HOUR = { shard: 0.015, extendedRetentionShard: 0.02, onDemandStream: 0.04, fanOutConsumerShard: 0.015 };

const isOnDemand = (properties: Properties) => (properties.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode === 'ON_DEMAND';

/** A stream bills its shards (provisioned) or itself (on demand) whatever the traffic; retention beyond 24 h adds per shard. */
function kinesisStream(properties: Properties): number {
  if (isOnDemand(properties)) return hourly(KINESIS_PER_HOUR.onDemandStream);
  const shards = Number(properties.ShardCount ?? 1);
  const extended = Number(properties.RetentionPeriodHours ?? 24) > 24 ? KINESIS_PER_HOUR.extendedRetentionShard : 0;
  return hourly(shards * (KINESIS_PER_HOUR.shard + extended));
}

/** An enhanced fan-out consumer bills per shard of the provisioned stream it is registered on. */
function kinesisStreamConsumer(properties: Properties, template: CfnTemplate): number {
  const stream = template.Resources[refId(properties.StreamARN) ?? '']?.Properties;
  if (!stream || isOnDemand(stream)) return unpriced('an enhanced fan-out consumer of an on-demand or imported stream');
  return hourly(Number(stream.ShardCount ?? 1) * KINESIS_PER_HOUR.fanOutConsumerShard);
}

/** OpenSearch Service: on-demand data node prices per hour, and EBS storage per GB-month. */
const OPENSEARCH_NODE_PER_HOUR: Record<string, number> = { 't3.small.search': 0.036 };
const OPENSEARCH_EBS_PER_GB_MONTH: Record<string, number> = { gp3: 0.122 };

/** A domain bills its data nodes (and dedicated masters) per hour and their EBS volumes per GB-month. */
function openSearchDomain(properties: Properties): number {
  const cluster = (properties.ClusterConfig ?? {}) as { InstanceType?: string; InstanceCount?: number; DedicatedMasterEnabled?: boolean };
  if (cluster.DedicatedMasterEnabled) return unpriced('an OpenSearch domain with dedicated master nodes');
  const nodes = Number(cluster.InstanceCount ?? 1);
  const ebs = (properties.EBSOptions ?? {}) as { EBSEnabled?: boolean; VolumeSize?: number; VolumeType?: string };
  const storage = ebs.EBSEnabled ? Number(ebs.VolumeSize) * named(OPENSEARCH_EBS_PER_GB_MONTH, ebs.VolumeType ?? 'gp2', 'OpenSearch volume type') : 0;
  return nodes * (hourly(named(OPENSEARCH_NODE_PER_HOUR, cluster.InstanceType ?? 'r5.large.search', 'OpenSearch instance type')) + storage);
}

/** A serverless collection never goes under 0.5 OCU indexing + 0.5 search, twice that with standby replicas (the default). */
const openSearchCollection = (properties: Properties) => hourly(0.24 * (properties.StandbyReplicas === 'DISABLED' ? 1 : 2));

/** Fargate on Linux/arm64 (Graviton), per vCPU-hour and per GB-hour of memory. */
const FARGATE_ARM64_PER_HOUR = { vcpu: 0.03238, gb: 0.00356 };

/** A Fargate service bills its running tasks: the task definition's CPU (units of 1/1024 vCPU) and memory (MiB). */
function ecsService(properties: Properties, template: CfnTemplate): number {
  const tasks = Number(properties.DesiredCount ?? 1);
  if (tasks === 0) return 0;
  // A Ref or, with the CODE_DEPLOY deployment controller, the task definition's family name.
  const taskDefinition =
    template.Resources[refId(properties.TaskDefinition) ?? '']?.Properties ??
    Object.values(template.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties?.Family === properties.TaskDefinition)
      ?.Properties ??
    {};
  const fargate = properties.LaunchType === 'FARGATE' || ((taskDefinition.RequiresCompatibilities as string[] | undefined) ?? []).includes('FARGATE');
  if (!fargate) return unpriced('an ECS service on EC2 or external capacity');
  const architecture = (taskDefinition.RuntimePlatform as { CpuArchitecture?: string } | undefined)?.CpuArchitecture ?? 'X86_64';
  if (architecture !== 'ARM64') return unpriced(`a Fargate ${architecture} task`);
  const vcpu = Number(taskDefinition.Cpu) / 1024;
  const gb = Number(taskDefinition.Memory) / 1024;
  if (!(vcpu > 0 && gb > 0)) return unpriced('a Fargate task without a literal Cpu and Memory');
  const publicIp = (properties.NetworkConfiguration as { AwsvpcConfiguration?: { AssignPublicIp?: string } } | undefined)
    ?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED';
  return tasks * hourly(vcpu * FARGATE_ARM64_PER_HOUR.vcpu + gb * FARGATE_ARM64_PER_HOUR.gb + (publicIp ? PUBLIC_IPV4_PER_HOUR : 0));
}

/** An Application Load Balancer bills per hour, and an internet-facing one a public IPv4 address per subnet (one per AZ). */
function loadBalancer(properties: Properties): number {
  const internetFacing = (properties.Scheme ?? 'internet-facing') === 'internet-facing';
  const subnets = ((properties.Subnets ?? properties.SubnetMappings) as unknown[] | undefined)?.length ?? 2;
  return hourly(0.0225 + (internetFacing ? subnets * PUBLIC_IPV4_PER_HOUR : 0));
}

/** A metric alarm bills per metric it reads: $0.10 at standard resolution, $0.30 at high resolution (a period under 60 s). */
const ALARM_PER_METRIC = { standard: 0.1, highResolution: 0.3 };

/** An anomaly-detection alarm reads 3 metrics: the metric and the band's upper and lower bounds. */
function metricAlarm(properties: Properties): number {
  const perMetric = (period: unknown) => (Number(period) < 60 ? ALARM_PER_METRIC.highResolution : ALARM_PER_METRIC.standard);
  const metrics = (properties.Metrics as { MetricStat?: { Period?: number }; Expression?: string }[] | undefined) ?? [];
  if (metrics.length === 0) return perMetric(properties.Period);
  const read = metrics.reduce((sum, m) => sum + (m.MetricStat ? perMetric(m.MetricStat.Period) : 0), 0);
  return metrics.some((m) => m.Expression?.includes('ANOMALY_DETECTION_BAND')) ? 3 * read : read;
}

/**
 * Target tracking creates its own CloudWatch alarms: 4 per policy on a DynamoDB dimension, 2 elsewhere. Each bills
 * per metric it reads: one, or every metric a customized metric's math (`Metrics`) reads.
 */
function targetTrackingAlarms(properties: Properties, template: CfnTemplate): number {
  if (properties.PolicyType !== 'TargetTrackingScaling') return 0;
  const alarms = template.Resources[refId(properties.ScalingTargetId) ?? '']?.Properties?.ServiceNamespace === 'dynamodb' ? 4 : 2;
  const customized = (properties.TargetTrackingScalingPolicyConfiguration as { CustomizedMetricSpecification?: { Metrics?: { MetricStat?: unknown }[] } } | undefined)
    ?.CustomizedMetricSpecification;
  const metricsRead = Math.max(1, (customized?.Metrics ?? []).filter((metric) => metric.MetricStat).length);
  return alarms * metricsRead * ALARM_PER_METRIC.standard;
}

/**
 * AWS Private CA bills each CA per month by its usage mode, prorated from creation to deletion, whatever it issues
 * (aws.amazon.com/private-ca/pricing; the first CA of an account and Region is free for 30 days).
 */
const PRIVATE_CA_PER_MONTH: Record<string, number> = { GENERAL_PURPOSE: 400, SHORT_LIVED_CERTIFICATE: 50 };

function provisionedThroughput(throughput: unknown): number {
  const { ReadCapacityUnits = 0, WriteCapacityUnits = 0 } = (throughput ?? {}) as Record<string, number>;
  return hourly(ReadCapacityUnits * 0.00013 + WriteCapacityUnits * 0.00065);
}

function named(table: Record<string, number>, key: string, what: string): number {
  return table[key] ?? unpriced(`${what} ${key}`);
}

/**
 * What each resource type costs per month while deployed and unused, at us-east-1 list prices, before free tiers.
 * Types not listed bill per use only ($0 idle); types in BILLED_BUT_UNPRICED must get a price before a lab uses them.
 */
const IDLE_PRICES: Record<string, Pricer> = {
  'AWS::CloudWatch::Alarm': metricAlarm,
  'AWS::CloudWatch::CompositeAlarm': () => 0.5,
  // Before the free tier of 3 dashboards (up to 50 metrics each) per account.
  'AWS::CloudWatch::Dashboard': () => 3,
  'AWS::KMS::Key': () => 1,
  'AWS::SecretsManager::Secret': () => 0.4,
  'AWS::Route53::HostedZone': () => 0.5,
  'AWS::EC2::NatGateway': () => hourly(0.045),
  'AWS::EC2::EIP': () => hourly(0.005),
  'AWS::ElasticLoadBalancingV2::LoadBalancer': loadBalancer,
  'AWS::ECS::Service': ecsService,
  'AWS::Kinesis::Stream': kinesisStream,
  'AWS::Kinesis::StreamConsumer': kinesisStreamConsumer,
  'AWS::OpenSearchService::Domain': openSearchDomain,
  'AWS::OpenSearchServerless::Collection': openSearchCollection,
  // MSK Serverless: $0.75 per cluster-hour; its $0.0015 per partition-hour is for topics clients create, not in a template.
  'AWS::MSK::ServerlessCluster': () => hourly(0.75),
  'AWS::EC2::Instance': ec2Instance,
  'AWS::ElasticBeanstalk::Environment': beanstalkEnvironment,
  'AWS::AutoScaling::AutoScalingGroup': autoScalingGroup,
  'AWS::EC2::VPCEndpoint': (p) => (p.VpcEndpointType === 'Interface' ? hourly(0.01) * ((p.SubnetIds as unknown[])?.length ?? 1) : 0),
  'AWS::ElastiCache::ReplicationGroup': elastiCacheReplicationGroup,
  'AWS::ElastiCache::CacheCluster': (p) => Number(p.NumCacheNodes ?? 1) * elastiCacheNode(p.CacheNodeType, p.Engine),
  'AWS::DAX::Cluster': (p) => hourly(named(DAX_NODE_PER_HOUR, String(p.NodeType), 'DAX node type')) * Number(p.ReplicationFactor ?? 1),
  'AWS::ApiGateway::Stage': (p) => (p.CacheClusterEnabled ? hourly(named(API_CACHE_PER_HOUR, String(p.CacheClusterSize ?? '0.5'), 'API cache size')) : 0),
  'AWS::Lambda::Alias': provisionedConcurrency,
  'AWS::Lambda::Version': provisionedConcurrency,
  'AWS::DynamoDB::Table': (p) =>
    p.BillingMode === 'PAY_PER_REQUEST'
      ? 0
      : provisionedThroughput(p.ProvisionedThroughput) +
        ((p.GlobalSecondaryIndexes as { ProvisionedThroughput?: unknown }[] | undefined) ?? []).reduce(
          (sum, index) => sum + provisionedThroughput(index.ProvisionedThroughput),
          0,
        ),
  'AWS::DynamoDB::GlobalTable': (p) => (p.BillingMode === 'PAY_PER_REQUEST' ? 0 : unpriced('a provisioned global table')),
  'AWS::CodePipeline::Pipeline': (p) => (p.PipelineType === 'V2' ? 0 : 1),
  'AWS::ApplicationAutoScaling::ScalingPolicy': targetTrackingAlarms,
  'AWS::ACMPCA::CertificateAuthority': (p) => named(PRIVATE_CA_PER_MONTH, String(p.UsageMode ?? 'GENERAL_PURPOSE'), 'Private CA usage mode'),
};

/** Resource types that bill while idle and have no price above yet: refuse to guess. */
const BILLED_BUT_UNPRICED = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::MSK::Cluster',
];

function unpriced(what: string): never {
  throw new Error(`${what} bills while idle: give it a price in labs/support/cost.ts`);
}

export interface IdleCost {
  readonly usdPerMonth: number;
  /** Resource logical id → its idle cost per month, for the ones that have one. */
  readonly items: Readonly<Record<string, number>>;
}

/** The idle cost of a synthesized template, from the resource types and properties in it. */
export function idleCostOf(template: CfnTemplate): IdleCost {
  const items: Record<string, number> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (BILLED_BUT_UNPRICED.includes(resource.Type)) unpriced(`${id} (${resource.Type})`);
    const cost = IDLE_PRICES[resource.Type]?.(resource.Properties ?? {}, template) ?? 0;
    if (cost > 0) items[id] = cost;
  }
  const usdPerMonth = Object.values(items).reduce((a, b) => a + b, 0);
  return { usdPerMonth: Math.round(usdPerMonth * 100) / 100, items };
}

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
  return tasks * hourly(vcpu * FARGATE_ARM64_PER_HOUR.vcpu + gb * FARGATE_ARM64_PER_HOUR.gb);
}

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
  'AWS::CloudWatch::Alarm': (p) => 0.1 * Math.max(1, ((p.Metrics as { MetricStat?: unknown }[] | undefined) ?? []).filter((m) => m.MetricStat).length),
  'AWS::CloudWatch::CompositeAlarm': () => 0.5,
  'AWS::KMS::Key': () => 1,
  'AWS::SecretsManager::Secret': () => 0.4,
  'AWS::Route53::HostedZone': () => 0.5,
  'AWS::EC2::NatGateway': () => hourly(0.045),
  'AWS::EC2::EIP': () => hourly(0.005),
  'AWS::ElasticLoadBalancingV2::LoadBalancer': () => hourly(0.0225),
  'AWS::ECS::Service': ecsService,
  'AWS::EC2::VPCEndpoint': (p) => (p.VpcEndpointType === 'Interface' ? hourly(0.01) * ((p.SubnetIds as unknown[])?.length ?? 1) : 0),
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
  // Target tracking creates its own CloudWatch alarms: 4 per policy on a DynamoDB dimension, 2 elsewhere.
  'AWS::ApplicationAutoScaling::ScalingPolicy': (p, template) =>
    p.PolicyType !== 'TargetTrackingScaling'
      ? 0
      : 0.1 * (template.Resources[refId(p.ScalingTargetId) ?? '']?.Properties?.ServiceNamespace === 'dynamodb' ? 4 : 2),
};

/** Resource types that bill while idle and have no price above yet: refuse to guess. */
const BILLED_BUT_UNPRICED = [
  'AWS::EC2::Instance',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::OpenSearchService::Domain',
  'AWS::MSK::Cluster',
  'AWS::ACMPCA::CertificateAuthority',
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

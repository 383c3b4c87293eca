import { CfnTemplate } from '../../labs/support/diagram';
import { HOURS_PER_MONTH, idleCostOf, perHour, perMonth } from '../../labs/support/cost';

const template = (resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>): CfnTemplate => ({
  Resources: resources,
});

test('services billed per use cost nothing while idle', () => {
  const idle = idleCostOf(
    template({
      Queue: { Type: 'AWS::SQS::Queue' },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
      Pipeline: { Type: 'AWS::CodePipeline::Pipeline', Properties: { PipelineType: 'V2' } },
    }),
  );
  expect(idle).toEqual({ usdPerMonth: 0, items: {} });
});

test('alarms, keys and secrets cost their monthly price', () => {
  const idle = idleCostOf(
    template({
      Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
      Key: { Type: 'AWS::KMS::Key' },
      Secret: { Type: 'AWS::SecretsManager::Secret' },
    }),
  );
  expect(idle.items).toEqual({ Alarm: 0.1, Key: 1, Secret: 0.4 });
  expect(idle.usdPerMonth).toBe(1.5);
});

test('hourly resources cost their hourly price over 730 hours', () => {
  const dax = { Type: 'AWS::DAX::Cluster', Properties: { NodeType: 'dax.t3.small', ReplicationFactor: 3 } };
  expect(idleCostOf(template({ Dax: dax })).usdPerMonth).toBe(87.6);
  expect(idleCostOf(template({ Nat: { Type: 'AWS::EC2::NatGateway' } })).usdPerMonth).toBe(32.85);
  const cachedStage = { Type: 'AWS::ApiGateway::Stage', Properties: { CacheClusterEnabled: true, CacheClusterSize: '0.5' } };
  expect(idleCostOf(template({ Stage: cachedStage })).usdPerMonth).toBe(14.6);
});

test('provisioned capacity is priced from the table and the function it configures', () => {
  const table = { Type: 'AWS::DynamoDB::Table', Properties: { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } } };
  expect(idleCostOf(template({ Table: table })).usdPerMonth).toBe(2.85);
  const alias = {
    Type: 'AWS::Lambda::Alias',
    Properties: { FunctionName: { Ref: 'Fn' }, ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 1 } },
  };
  const fn = { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256, Architectures: ['arm64'] } };
  expect(idleCostOf(template({ Alias: alias, Fn: fn })).usdPerMonth).toBe(2.19);
});

test('target tracking on DynamoDB capacity pays for the 4 alarms it creates', () => {
  const target = { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { ServiceNamespace: 'dynamodb' } };
  const policy = { Type: 'AWS::ApplicationAutoScaling::ScalingPolicy', Properties: { PolicyType: 'TargetTrackingScaling', ScalingTargetId: { Ref: 'Target' } } };
  expect(idleCostOf(template({ Target: target, Policy: policy })).items).toEqual({ Policy: 0.4 });
});

test('a Fargate service costs its tasks: CPU and memory of the task definition it references, times DesiredCount', () => {
  const taskDefinition = (architecture: string) => ({
    Type: 'AWS::ECS::TaskDefinition',
    Properties: { Cpu: '256', Memory: '512', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: architecture } },
  });
  const service = (desiredCount: number) => ({
    Type: 'AWS::ECS::Service',
    Properties: { DesiredCount: desiredCount, LaunchType: 'FARGATE', TaskDefinition: { Ref: 'TaskDef' } },
  });
  // (0.25 vCPU x $0.03238 + 0.5 GB x $0.00356) per hour over 730 hours = $7.21 per task
  const one = idleCostOf(template({ Service: service(1), TaskDef: taskDefinition('ARM64') }));
  expect(one.items.Service).toBeCloseTo(7.20875, 5);
  expect(one.usdPerMonth).toBe(7.21);
  expect(idleCostOf(template({ Service: service(2), TaskDef: taskDefinition('ARM64') })).usdPerMonth).toBe(14.42);
  expect(idleCostOf(template({ Service: service(0), TaskDef: taskDefinition('ARM64') })).usdPerMonth).toBe(0);
  expect(() => idleCostOf(template({ Service: service(1), TaskDef: taskDefinition('X86_64') }))).toThrow('a Fargate X86_64 task bills while idle');
  // With the CODE_DEPLOY deployment controller, CDK references the task definition by its family name.
  const byFamily = { ...taskDefinition('ARM64'), Properties: { ...taskDefinition('ARM64').Properties, Family: 'web' } };
  const codeDeployed = { ...service(1), Properties: { ...service(1).Properties, TaskDefinition: 'web' } };
  expect(idleCostOf(template({ Service: codeDeployed, TaskDef: byFamily })).usdPerMonth).toBe(7.21);
});

test('a resource that bills while idle without a price is refused, not guessed', () => {
  expect(() => idleCostOf(template({ Web: { Type: 'AWS::EC2::Instance' } }))).toThrow(
    'Web (AWS::EC2::Instance) bills while idle: give it a price in labs/support/cost.ts',
  );
  const bigDax = { Type: 'AWS::DAX::Cluster', Properties: { NodeType: 'dax.r6g.16xlarge' } };
  expect(() => idleCostOf(template({ Dax: bigDax }))).toThrow('DAX node type dax.r6g.16xlarge bills while idle');
});

test('costs print per month and per hour', () => {
  expect(perMonth(14.6)).toBe('$14.60/month');
  expect(perHour(HOURS_PER_MONTH * 0.02)).toBe('$0.0200/hour');
});

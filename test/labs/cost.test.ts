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

test('an alarm costs per metric it reads, three for an anomaly band, more at high resolution; a dashboard $3', () => {
  const stat = (period: number) => ({ Id: `m${period}`, MetricStat: { Metric: { MetricName: 'Errors' }, Period: period, Stat: 'Sum' } });
  const idle = idleCostOf(
    template({
      Standard: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Period: 60 } },
      HighResolution: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Latency', Period: 10 } },
      ErrorRate: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [stat(60), stat(300), { Id: 'rate', Expression: 'm60 / m300' }] } },
      FastMath: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [stat(30), { Id: 'x', Expression: 'm30 * 2' }] } },
      Anomaly: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [stat(60), { Id: 'band', Expression: 'ANOMALY_DETECTION_BAND(m60, 2)' }] } },
      Board: { Type: 'AWS::CloudWatch::Dashboard' },
    }),
  );
  expect(idle.items).toEqual({ Standard: 0.1, HighResolution: 0.3, ErrorRate: 0.2, FastMath: 0.3, Anomaly: expect.closeTo(0.3, 10), Board: 3 });
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

test('composite alarms, hosted zones, Elastic IPs, interface endpoints per subnet and V1 pipelines cost their price', () => {
  const idle = idleCostOf(
    template({
      Composite: { Type: 'AWS::CloudWatch::CompositeAlarm' },
      Zone: { Type: 'AWS::Route53::HostedZone' },
      Ip: { Type: 'AWS::EC2::EIP' },
      Interface: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] } },
      Gateway: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway' } },
      PipelineV1: { Type: 'AWS::CodePipeline::Pipeline', Properties: { PipelineType: 'V1' } },
      OnDemandGlobal: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
    }),
  );
  expect(idle.items).toEqual({ Composite: 0.5, Zone: 0.5, Ip: 3.65, Interface: 14.6, PipelineV1: 1 });
});

test('a provisioned table pays for the capacity of its global secondary indexes too', () => {
  const table = {
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      GlobalSecondaryIndexes: [{ ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }],
    },
  };
  expect(idleCostOf(template({ Table: table })).usdPerMonth).toBe(5.69);
});

test('target tracking on DynamoDB capacity pays for the 4 alarms it creates', () => {
  const target = { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { ServiceNamespace: 'dynamodb' } };
  const policy = { Type: 'AWS::ApplicationAutoScaling::ScalingPolicy', Properties: { PolicyType: 'TargetTrackingScaling', ScalingTargetId: { Ref: 'Target' } } };
  expect(idleCostOf(template({ Target: target, Policy: policy })).items).toEqual({ Policy: 0.4 });
});

test('target tracking on metric math pays for each metric its 2 alarms read', () => {
  const target = { Type: 'AWS::ApplicationAutoScaling::ScalableTarget', Properties: { ServiceNamespace: 'ecs' } };
  const stat = (id: string) => ({ Id: id, MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'M' }, Stat: 'Sum' }, ReturnData: false });
  const policy = (configuration: object) => ({
    Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
    Properties: { PolicyType: 'TargetTrackingScaling', ScalingTargetId: { Ref: 'Target' }, TargetTrackingScalingPolicyConfiguration: configuration },
  });
  const math = policy({ CustomizedMetricSpecification: { Metrics: [stat('a'), stat('b'), { Id: 'ratio', Expression: 'a / b', ReturnData: true }] } });
  const predefined = policy({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } });
  expect(idleCostOf(template({ Target: target, Math: math, Cpu: predefined })).items).toEqual({ Math: 0.4, Cpu: 0.2 });
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
  // A task with a public IP bills the address too: $0.005/hour, $3.65/month.
  const publicTask = { ...service(1), Properties: { ...service(1).Properties, NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } } } };
  expect(idleCostOf(template({ Service: publicTask, TaskDef: taskDefinition('ARM64') })).usdPerMonth).toBe(10.86);
});

test('a load balancer bills per hour, and an internet-facing one a public IPv4 address per subnet', () => {
  const alb = (properties: Record<string, unknown>) => ({ Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: properties });
  // $0.0225/hour, + 2 × $0.005/hour for the addresses in two AZs
  expect(idleCostOf(template({ Alb: alb({ Subnets: ['a', 'b'] }) })).usdPerMonth).toBe(23.73);
  expect(idleCostOf(template({ Alb: alb({ Scheme: 'internal', Subnets: ['a', 'b'] }) })).usdPerMonth).toBe(16.43);
});

test('a Kinesis stream bills its shards or, on demand, itself; a fan-out consumer bills per shard of its stream', () => {
  const stream = (properties: Record<string, unknown>) => ({ Type: 'AWS::Kinesis::Stream', Properties: properties });
  const consumer = { Type: 'AWS::Kinesis::StreamConsumer', Properties: { StreamARN: { 'Fn::GetAtt': ['Stream', 'Arn'] } } };
  // $0.015 per shard-hour; extended retention (up to 7 days) $0.02 more; on demand $0.04 per stream-hour
  expect(idleCostOf(template({ Stream: stream({ ShardCount: 1 }) })).usdPerMonth).toBe(10.95);
  expect(idleCostOf(template({ Stream: stream({ ShardCount: 2, RetentionPeriodHours: 168 }) })).usdPerMonth).toBe(51.1);
  expect(idleCostOf(template({ Stream: stream({ StreamModeDetails: { StreamMode: 'ON_DEMAND' } }) })).usdPerMonth).toBe(29.2);
  expect(idleCostOf(template({ Stream: stream({ ShardCount: 1 }), Consumer: consumer })).items.Consumer).toBeCloseTo(10.95, 5);
  expect(() => idleCostOf(template({ Stream: stream({ StreamModeDetails: { StreamMode: 'ON_DEMAND' } }), Consumer: consumer }))).toThrow(
    'an enhanced fan-out consumer of an on-demand or imported stream bills while idle',
  );
});

test('an EC2 instance bills its type, its public IPv4 address and its EBS volumes', () => {
  const instance = (properties: Record<string, unknown>) => ({ Type: 'AWS::EC2::Instance', Properties: { InstanceType: 't4g.nano', ...properties } });
  // t4g.nano $0.0042/hour over 730 hours
  expect(idleCostOf(template({ Web: instance({}) })).usdPerMonth).toBe(3.07);
  // + a public IPv4 address ($0.005/hour) + 8 GB gp3 ($0.08/GB-month)
  const full = instance({ NetworkInterfaces: [{ AssociatePublicIpAddress: true }], BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3' } }] });
  expect(idleCostOf(template({ Web: full })).usdPerMonth).toBe(7.36);
  expect(() => idleCostOf(template({ Web: instance({ InstanceType: 'p5.48xlarge' }) }))).toThrow('EC2 instance type p5.48xlarge bills while idle');
});

test('an OpenSearch domain bills its nodes and their gp3 volumes; a serverless collection its OCU floor', () => {
  const domain = (cluster: Record<string, unknown>, ebs: Record<string, unknown> = { EBSEnabled: true, VolumeSize: 10, VolumeType: 'gp3' }) => ({
    Type: 'AWS::OpenSearchService::Domain',
    Properties: { ClusterConfig: { InstanceType: 't3.small.search', ...cluster }, EBSOptions: ebs },
  });
  // t3.small.search $0.036/hour over 730 hours + 10 GB gp3 at $0.122/GB-month, per node
  expect(idleCostOf(template({ Search: domain({ InstanceCount: 1 }) })).usdPerMonth).toBe(27.5);
  expect(idleCostOf(template({ Search: domain({ InstanceCount: 2 }) })).usdPerMonth).toBe(55);
  expect(() => idleCostOf(template({ Search: domain({ InstanceType: 'r7g.large.search' }) }))).toThrow('OpenSearch instance type r7g.large.search bills while idle');
  expect(() => idleCostOf(template({ Search: domain({ DedicatedMasterEnabled: true }) }))).toThrow('dedicated master nodes bills while idle');
  // $0.24 per OCU-hour: 0.5 + 0.5 OCU without standby replicas, twice that with them
  const collection = (properties: Record<string, unknown>) => ({ Type: 'AWS::OpenSearchServerless::Collection', Properties: properties });
  expect(idleCostOf(template({ Docs: collection({ StandbyReplicas: 'DISABLED' }) })).usdPerMonth).toBe(175.2);
  expect(idleCostOf(template({ Docs: collection({}) })).usdPerMonth).toBe(350.4);
});

test('an MSK Serverless cluster bills per cluster-hour', () => {
  // $0.75 per cluster-hour over 730 hours
  expect(idleCostOf(template({ Kafka: { Type: 'AWS::MSK::ServerlessCluster' } })).usdPerMonth).toBe(547.5);
});

test('a resource that bills while idle without a price is refused, not guessed', () => {
  expect(() => idleCostOf(template({ Db: { Type: 'AWS::RDS::DBInstance' } }))).toThrow(
    'Db (AWS::RDS::DBInstance) bills while idle: give it a price in labs/support/cost.ts',
  );
  expect(() => idleCostOf(template({ Cluster: { Type: 'AWS::RDS::DBCluster' } }))).toThrow('Cluster (AWS::RDS::DBCluster) bills while idle');
  expect(() => idleCostOf(template({ Kafka: { Type: 'AWS::MSK::Cluster' } }))).toThrow('Kafka (AWS::MSK::Cluster) bills while idle');
  expect(() => idleCostOf(template({ Global: { Type: 'AWS::DynamoDB::GlobalTable' } }))).toThrow('a provisioned global table bills while idle');
  const bigDax = { Type: 'AWS::DAX::Cluster', Properties: { NodeType: 'dax.r6g.16xlarge' } };
  expect(() => idleCostOf(template({ Dax: bigDax }))).toThrow('DAX node type dax.r6g.16xlarge bills while idle');
});

test('costs print per month and per hour', () => {
  expect(perMonth(14.6)).toBe('$14.60/month');
  expect(perHour(HOURS_PER_MONTH * 0.02)).toBe('$0.0200/hour');
});

test('an AWS Private CA bills its usage mode per month, general-purpose unless told otherwise', () => {
  const ca = (properties: Record<string, unknown>) => ({ Type: 'AWS::ACMPCA::CertificateAuthority', Properties: { Type: 'ROOT', ...properties } });
  // $400 per general-purpose CA-month, $50 per short-lived certificate mode CA-month
  expect(idleCostOf(template({ Ca: ca({ UsageMode: 'GENERAL_PURPOSE' }) })).usdPerMonth).toBe(400);
  expect(idleCostOf(template({ Ca: ca({}) })).usdPerMonth).toBe(400);
  expect(idleCostOf(template({ Ca: ca({ UsageMode: 'SHORT_LIVED_CERTIFICATE' }) })).usdPerMonth).toBe(50);
  expect(() => idleCostOf(template({ Ca: ca({ UsageMode: 'FUTURE_MODE' }) }))).toThrow('Private CA usage mode FUTURE_MODE bills while idle');
});

test('ElastiCache bills every node of a replication group or cluster, Valkey 20% below Redis OSS and Memcached', () => {
  const group = (properties: Record<string, unknown>) => ({ Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { CacheNodeType: 'cache.t4g.micro', ...properties } });
  // cache.t4g.micro: $0.0128 per hour with Valkey, $0.016 with Redis OSS or Memcached, over 730 hours
  expect(idleCostOf(template({ Cache: group({ Engine: 'valkey', NumCacheClusters: 1 }) })).usdPerMonth).toBe(9.34);
  expect(idleCostOf(template({ Cache: group({ Engine: 'redis', NumCacheClusters: 2 }) })).usdPerMonth).toBe(23.36);
  expect(idleCostOf(template({ Cache: group({ Engine: 'valkey', NumNodeGroups: 2, ReplicasPerNodeGroup: 1 }) })).usdPerMonth).toBe(37.38);
  const cluster = (properties: Record<string, unknown>) => ({ Type: 'AWS::ElastiCache::CacheCluster', Properties: { Engine: 'memcached', CacheNodeType: 'cache.t4g.micro', ...properties } });
  expect(idleCostOf(template({ Cache: cluster({ NumCacheNodes: 1 }) })).usdPerMonth).toBe(11.68);
  expect(idleCostOf(template({ Cache: cluster({ NumCacheNodes: 3 }) })).usdPerMonth).toBe(35.04);
  expect(() => idleCostOf(template({ Cache: cluster({ CacheNodeType: 'cache.r7g.large' }) }))).toThrow('ElastiCache cache.r7g.large node of engine memcached bills while idle');
});

test('an Auto Scaling group bills its desired instances as its launch template describes them, with a public IPv4 address in a public subnet', () => {
  const launchTemplate = {
    Type: 'AWS::EC2::LaunchTemplate',
    Properties: { LaunchTemplateData: { InstanceType: 't4g.micro', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3' } }] } },
  };
  const group = (properties: Record<string, unknown>) => ({
    Type: 'AWS::AutoScaling::AutoScalingGroup',
    Properties: { MinSize: '0', MaxSize: '4', LaunchTemplate: { LaunchTemplateId: { Ref: 'Lt' } }, VPCZoneIdentifier: [{ Ref: 'Subnet' }], ...properties },
  });
  const subnet = (mapPublicIp: boolean) => ({ Type: 'AWS::EC2::Subnet', Properties: { MapPublicIpOnLaunch: mapPublicIp } });
  expect(idleCostOf(template({ Lt: launchTemplate, Subnet: subnet(true), Asg: group({ DesiredCapacity: '0' }) })).usdPerMonth).toBe(0);
  // 2 × (t4g.micro $0.0084/h + public IPv4 $0.005/h) × 730 h + 2 × 8 GB gp3 × $0.08
  expect(idleCostOf(template({ Lt: launchTemplate, Subnet: subnet(true), Asg: group({ DesiredCapacity: '2' }) })).usdPerMonth).toBe(20.84);
  // without DesiredCapacity the group keeps MinSize instances; a private subnet maps no public address
  expect(idleCostOf(template({ Lt: launchTemplate, Subnet: subnet(false), Asg: group({ MinSize: '1' }) })).usdPerMonth).toBe(6.77);
  expect(() => idleCostOf(template({ Subnet: subnet(true), Asg: group({ DesiredCapacity: '1', LaunchTemplate: undefined }) }))).toThrow(
    'an Auto Scaling group without a launch template in the stack bills while idle',
  );
});

test('an Auto Scaling group\'s launch template decides: its interface\'s AssociatePublicIpAddress over the subnet, no root volume size unpriced', () => {
  const launchTemplate = (data: Record<string, unknown>) => ({
    Type: 'AWS::EC2::LaunchTemplate',
    Properties: { LaunchTemplateData: { InstanceType: 't4g.micro', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3' } }], ...data } },
  });
  const group = { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: '1', MaxSize: '1', LaunchTemplate: { LaunchTemplateId: { Ref: 'Lt' } }, VPCZoneIdentifier: [{ Ref: 'Subnet' }] } };
  const subnet = (mapPublicIp: boolean) => ({ Type: 'AWS::EC2::Subnet', Properties: { MapPublicIpOnLaunch: mapPublicIp } });
  const noPublicIp = launchTemplate({ NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: false }] });
  // t4g.micro $0.0084/h × 730 h + 8 GB gp3 × $0.08: no address although the subnet maps one
  expect(idleCostOf(template({ Lt: noPublicIp, Subnet: subnet(true), Asg: group })).usdPerMonth).toBe(6.77);
  // ... and $0.005/h more for one the interface asks for in a subnet that maps none
  const publicIp = launchTemplate({ NetworkInterfaces: [{ DeviceIndex: 0, AssociatePublicIpAddress: true }] });
  expect(idleCostOf(template({ Lt: publicIp, Subnet: subnet(false), Asg: group })).usdPerMonth).toBe(10.42);
  expect(() => idleCostOf(template({ Lt: launchTemplate({ BlockDeviceMappings: undefined }), Subnet: subnet(false), Asg: group }))).toThrow(
    'an Auto Scaling group whose launch template leaves the root volume to the image bills while idle',
  );
});

test('an Elastic Beanstalk environment bills the instance its option settings describe, the saved configuration\'s under its own', () => {
  const setting = (Namespace: string, OptionName: string, Value: string) => ({ Namespace, OptionName, Value });
  const single = [
    setting('aws:elasticbeanstalk:environment', 'EnvironmentType', 'SingleInstance'),
    setting('aws:ec2:instances', 'InstanceTypes', 't4g.micro'),
    setting('aws:autoscaling:launchconfiguration', 'RootVolumeType', 'gp3'),
    setting('aws:autoscaling:launchconfiguration', 'RootVolumeSize', '10'),
  ];
  const environment = (properties: Record<string, unknown>) => ({ Type: 'AWS::ElasticBeanstalk::Environment', Properties: properties });
  // A web environment: (t4g.micro $0.0084/h + its Elastic IP $0.005/h) × 730 h + 10 GB gp3 × $0.08
  expect(idleCostOf(template({ Web: environment({ Tier: { Name: 'WebServer' }, OptionSettings: single }) })).usdPerMonth).toBe(10.58);
  // A worker has a public address only when it asks for one (a public subnet); without, the instance and volume only
  const worker = (publicIp: string) => environment({ Tier: { Name: 'Worker' }, OptionSettings: [...single, setting('aws:ec2:vpc', 'AssociatePublicIpAddress', publicIp)] });
  expect(idleCostOf(template({ Worker: worker('true') })).usdPerMonth).toBe(10.58);
  expect(idleCostOf(template({ Worker: worker('false') })).usdPerMonth).toBe(6.93);
  // Settings of the saved configuration count, the environment's own win
  const saved = { Type: 'AWS::ElasticBeanstalk::ConfigurationTemplate', Properties: { OptionSettings: single } };
  const onSaved = environment({ TemplateName: { Ref: 'Saved' }, OptionSettings: [setting('aws:autoscaling:launchconfiguration', 'RootVolumeSize', '20')] });
  expect(idleCostOf(template({ Saved: saved, Web: onSaved })).usdPerMonth).toBe(11.38);
  expect(() => idleCostOf(template({ Web: environment({ OptionSettings: [...single, setting('aws:elasticbeanstalk:environment', 'EnvironmentType', 'LoadBalanced')] }) }))).toThrow(
    'an Elastic Beanstalk environment with a classic load balancer bills while idle',
  );
  expect(() => idleCostOf(template({ Web: environment({ OptionSettings: single.slice(0, 2) }) }))).toThrow('without RootVolumeSize and RootVolumeType bills while idle');
  expect(() => idleCostOf(template({ Web: environment({ OptionSettings: [...single, setting('aws:ec2:instances', 'InstanceTypes', 'm7g.large')] }) }))).toThrow('EC2 instance type m7g.large bills while idle');
});

test('a load-balanced Elastic Beanstalk environment bills MinSize instances and, for a web tier, its ALB in each ELB subnet', () => {
  const setting = (Namespace: string, OptionName: string, Value: unknown) => ({ Namespace, OptionName, Value });
  const loadBalanced = [
    setting('aws:elasticbeanstalk:environment', 'EnvironmentType', 'LoadBalanced'),
    setting('aws:ec2:instances', 'InstanceTypes', 't4g.micro'),
    setting('aws:autoscaling:launchconfiguration', 'RootVolumeType', 'gp3'),
    setting('aws:autoscaling:launchconfiguration', 'RootVolumeSize', '10'),
    setting('aws:autoscaling:asg', 'MinSize', '2'),
    setting('aws:ec2:vpc', 'AssociatePublicIpAddress', 'true'),
  ];
  const environment = (tier: string, settings: unknown[]) => ({ Type: 'AWS::ElasticBeanstalk::Environment', Properties: { Tier: { Name: tier }, OptionSettings: settings } });
  const alb = [
    setting('aws:elasticbeanstalk:environment', 'LoadBalancerType', 'application'),
    // as CDK writes subnet ids joined from references
    setting('aws:ec2:vpc', 'ELBSubnets', { 'Fn::Join': ['', [{ Ref: 'SubnetA' }, ',', { Ref: 'SubnetB' }]] }),
  ];
  // 2 × ((t4g.micro $0.0084/h + public IPv4 $0.005/h) × 730 h + 10 GB gp3 × $0.08) + (ALB $0.0225/h + 2 × IPv4 $0.005/h) × 730 h
  expect(idleCostOf(template({ Web: environment('WebServer', [...loadBalanced, ...alb]) })).usdPerMonth).toBe(44.89);
  // without public addresses on the instances, and an internal ALB: no IPv4 charge at all
  const internal = [...loadBalanced, ...alb, setting('aws:ec2:vpc', 'AssociatePublicIpAddress', 'false'), setting('aws:ec2:vpc', 'ELBScheme', 'internal')];
  expect(idleCostOf(template({ Web: environment('WebServer', internal) })).usdPerMonth).toBe(30.29);
  // a worker's scaling group has no load balancer
  expect(idleCostOf(template({ Worker: environment('Worker', loadBalanced) })).usdPerMonth).toBe(21.16);
  // the API's default load balancer is a Classic one, which is not priced here
  expect(() => idleCostOf(template({ Web: environment('WebServer', loadBalanced) }))).toThrow('an Elastic Beanstalk environment with a classic load balancer bills while idle');
});

/**
 * A Mermaid flowchart of a lab's architecture, read from its synthesized template: resources grouped by service,
 * arrows from the references that carry data or rights (event sources, subscriptions, redrive, destinations,
 * state machine tasks, rule targets, alarm actions, IAM grants). Plumbing (policies, permissions, log groups,
 * CDK metadata) is hidden so that a large lab stays readable.
 */

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, Resource>;
  readonly Outputs?: Record<string, unknown>;
}

/** Types drawn as edges or folded into the node they serve, never as nodes. */
const HIDDEN_TYPES = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::IAM::ManagedPolicy',
  'AWS::Logs::LogGroup',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::SNS::Subscription',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::S3::BucketPolicy',
  'AWS::KMS::Alias',
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Model',
  'AWS::ApiGateway::RequestValidator',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::Route',
  'AWS::EC2::VPCGatewayAttachment',
]);

/** CDK's own provider functions and the custom resources they serve: how CDK works, not what the lab teaches. */
const CDK_PROVIDER_PATH = /(CustomResourceProvider|BucketNotificationsHandler|LogRetention|AWS679f53fac002430cb0da5b7982bd2287)/;

function isPlumbing(resource: Resource): boolean {
  const cdkPath = String(resource.Metadata?.['aws:cdk:path'] ?? '');
  return (
    HIDDEN_TYPES.has(resource.Type) ||
    resource.Type.startsWith('Custom::') ||
    resource.Type === 'AWS::CloudFormation::CustomResource' ||
    CDK_PROVIDER_PATH.test(cdkPath)
  );
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly dashed?: boolean;
}

/** Logical ids referenced anywhere inside a value: Ref, Fn::GetAtt and ${Id} / ${Id.Attr} in Fn::Sub. */
export function referencedIds(value: unknown): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.Ref === 'string') found.add(record.Ref);
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
    const sub = record['Fn::Sub'];
    const subText = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
    if (typeof subText === 'string') for (const m of subText.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) found.add(m[1]);
    Object.values(record).forEach(visit);
  };
  visit(value);
  return [...found];
}

const first = (value: unknown) => referencedIds(value)[0];

function label(resources: Record<string, Resource>, id: string, stackName: string): string {
  const cdkPath = resources[id].Metadata?.['aws:cdk:path'];
  const text = typeof cdkPath === 'string' ? cdkPath.replace(`${stackName}/`, '').replace(/\/(Resource|Default)$/, '') : id;
  return text.replace(/"/g, "'");
}

function roleOwners(resources: Record<string, Resource>): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const [id, r] of Object.entries(resources)) {
    const role = r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::StepFunctions::StateMachine' ? first(r.Properties?.Role ?? r.Properties?.RoleArn) : undefined;
    if (role) owners.set(role, [...(owners.get(role) ?? []), id]);
  }
  return owners;
}

function grantEdges(resources: Record<string, Resource>, visible: Set<string>): Edge[] {
  const owners = roleOwners(resources);
  const edges: Edge[] = [];
  for (const policy of Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
    const holders = referencedIds(policy.Properties?.Roles).flatMap((role) => owners.get(role) ?? []);
    const statements = ((policy.Properties?.PolicyDocument as { Statement?: unknown[] })?.Statement ?? []) as {
      Action?: string | string[];
      Resource?: unknown;
    }[];
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement.Action ?? []);
      const verb = actions.length > 1 ? `${actions[0]} +${actions.length - 1}` : (actions[0] ?? '');
      for (const target of referencedIds(statement.Resource).filter((t) => visible.has(t))) {
        for (const holder of holders) edges.push({ from: holder, to: target, label: verb });
      }
    }
  }
  return edges;
}

function dataEdges(resources: Record<string, Resource>): Edge[] {
  const edges: Edge[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::Lambda::EventSourceMapping':
        edges.push({ from: first(p.EventSourceArn), to: first(p.FunctionName), label: 'event source' });
        if (p.DestinationConfig) edges.push({ from: first(p.FunctionName), to: first(p.DestinationConfig), label: 'on failure', dashed: true });
        break;
      case 'AWS::SNS::Subscription': {
        const filtered = p.FilterPolicy ? ' (filtered)' : '';
        edges.push({ from: first(p.TopicArn), to: first(p.Endpoint), label: `${p.Protocol ?? 'subscription'}${filtered}` });
        if (p.RedrivePolicy) edges.push({ from: first(p.TopicArn), to: first(p.RedrivePolicy), label: 'undeliverable', dashed: true });
        break;
      }
      case 'AWS::SQS::Queue':
        if (p.RedrivePolicy) {
          const max = (p.RedrivePolicy as { maxReceiveCount?: number }).maxReceiveCount;
          edges.push({ from: id, to: first(p.RedrivePolicy), label: `redrive after ${max} receives`, dashed: true });
        }
        break;
      case 'AWS::Lambda::EventInvokeConfig':
        for (const [kind, config] of Object.entries((p.DestinationConfig ?? {}) as Record<string, unknown>)) {
          edges.push({ from: first(p.FunctionName), to: first(config), label: kind === 'OnFailure' ? 'on failure' : 'on success', dashed: true });
        }
        break;
      case 'AWS::Lambda::Function':
        if (p.DeadLetterConfig) edges.push({ from: id, to: first(p.DeadLetterConfig), label: 'dead letters', dashed: true });
        break;
      case 'AWS::StepFunctions::StateMachine':
        for (const target of referencedIds(p.DefinitionString)) edges.push({ from: id, to: target, label: 'task' });
        break;
      case 'AWS::Events::Rule':
        for (const target of referencedIds((p.Targets as unknown[] | undefined)?.map((t) => (t as { Arn: unknown }).Arn))) {
          edges.push({ from: id, to: target, label: 'target' });
        }
        break;
      case 'Custom::S3BucketNotifications':
        for (const target of referencedIds(p.NotificationConfiguration)) edges.push({ from: first(p.BucketName), to: target, label: 'event notification' });
        break;
      case 'AWS::CloudFront::Distribution':
        for (const target of referencedIds(p.DistributionConfig)) {
          edges.push({ from: id, to: target, label: resources[target]?.Type === 'AWS::S3::Bucket' ? 'origin' : 'uses' });
        }
        break;
      case 'AWS::ApiGateway::Method':
        for (const target of referencedIds((p.Integration as { Uri?: unknown })?.Uri)) edges.push({ from: first(p.RestApiId), to: target, label: `${p.HttpMethod} integration` });
        break;
      case 'AWS::CloudWatch::Alarm':
        for (const target of referencedIds([p.AlarmActions, p.OKActions])) edges.push({ from: id, to: target, label: 'notify' });
        for (const watched of referencedIds(p.Dimensions ?? p.Metrics)) edges.push({ from: watched, to: id, label: 'metric', dashed: true });
        break;
    }
  }
  return edges;
}

export function mermaidDiagram(template: CfnTemplate, stackName: string): string {
  const resources = template.Resources;
  const visible = new Set(Object.keys(resources).filter((id) => !isPlumbing(resources[id])));
  // One arrow per pair of nodes: a grant between two nodes already joined by a data arrow adds nothing.
  const joined = new Set<string>();
  const edges = [...dataEdges(resources), ...grantEdges(resources, visible)].filter((e) => {
    const pair = [e.from, e.to].sort().join('|');
    const keep = e.from !== e.to && visible.has(e.from) && visible.has(e.to) && !joined.has(pair);
    joined.add(pair);
    return keep;
  });

  const byService = new Map<string, string[]>();
  for (const id of visible) {
    const service = resources[id].Type.split('::')[1];
    byService.set(service, [...(byService.get(service) ?? []), id]);
  }
  // Node ids come from construct paths, not logical ids: some logical ids carry a hash of the code, which would make
  // the diagram differ between machines.
  const nodeId = (id: string) => label(resources, id, stackName).replace(/[^A-Za-z0-9]/g, '_');
  const lines = ['flowchart LR'];
  for (const [service, ids] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph ${service}`);
    for (const id of ids.sort((a, b) => nodeId(a).localeCompare(nodeId(b)))) {
      lines.push(`    ${nodeId(id)}["${label(resources, id, stackName)}"]`);
    }
    lines.push('  end');
  }
  for (const e of edges) lines.push(`  ${nodeId(e.from)} ${e.dashed ? '-.->' : '-->'}|"${e.label}"| ${nodeId(e.to)}`);
  return lines.join('\n');
}

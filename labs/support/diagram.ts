/**
 * A Mermaid flowchart of a lab's architecture, read from its synthesized template: resources grouped by service,
 * arrows from the references that carry data or rights (event sources, subscriptions, redrive, destinations,
 * state machine tasks, rule targets, alarm actions, IAM grants). Plumbing (policies, permissions, log groups,
 * CDK metadata) is hidden so that a large lab stays readable.
 */

export interface Resource {
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
  // The network under a VPC: drawn as the VPC alone, as the labs teach no routing.
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::FlowLog',
  'AWS::EC2::SecurityGroup',
  'AWS::DAX::SubnetGroup',
  'AWS::CodeDeploy::Application',
  'AWS::Cognito::ManagedLoginBranding',
]);

/** CDK's own provider functions and the custom resources they serve: how CDK works, not what the lab teaches. */
const CDK_PROVIDER_PATH = /(CustomResourceProvider|BucketNotificationsHandler|LogRetention|AWS679f53fac002430cb0da5b7982bd2287|\/framework-on(Event|Timeout|IsComplete)\b)/;

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

/** A resource's construct path inside the stack (`Delivery/Pipeline`), its name in every diagram. */
export function label(resources: Record<string, Resource>, id: string, stackName: string): string {
  const cdkPath = resources[id].Metadata?.['aws:cdk:path'];
  const text = typeof cdkPath === 'string' ? cdkPath.replace(`${stackName}/`, '').replace(/\/(Resource|Default)$/, '') : id;
  // CDK names some constructs after a hashed id (`Pipeline0FD75F20-main-EventRule`): the hash says nothing to a reader.
  return text.replace(/"/g, "'").replace(/[A-Za-z0-9]*[0-9A-F]{8}-/g, '');
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
      case 'AWS::CodeStarNotifications::NotificationRule':
        // Like an EventBridge rule: the resource's events flow to the rule, and the rule sends them to its targets.
        edges.push({ from: first(p.Resource), to: id, label: 'events', dashed: true });
        for (const target of referencedIds((p.Targets as unknown[] | undefined)?.map((t) => (t as { TargetAddress: unknown }).TargetAddress))) {
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
      case 'AWS::CodePipeline::Pipeline':
        for (const stage of (p.Stages ?? []) as { Actions: { Name: string; ActionTypeId: { Category: string }; Configuration?: unknown }[] }[]) {
          for (const action of stage.Actions) {
            for (const target of referencedIds(action.Configuration)) {
              if (action.ActionTypeId.Category === 'Source') edges.push({ from: target, to: id, label: 'source' });
              else edges.push({ from: id, to: target, label: action.Name });
            }
          }
        }
        break;
      case 'AWS::ElasticLoadBalancingV2::Listener':
        edges.push({ from: first(p.LoadBalancerArn), to: id, label: `listener :${p.Port}` });
        for (const target of referencedIds(p.DefaultActions)) edges.push({ from: id, to: target, label: 'forward' });
        break;
      case 'AWS::ECS::Service':
        for (const target of referencedIds(p.LoadBalancers)) edges.push({ from: target, to: id, label: 'targets' });
        break;
      case 'AWS::CloudWatch::Alarm':
        for (const target of referencedIds([p.AlarmActions, p.OKActions])) edges.push({ from: id, to: target, label: 'notify' });
        for (const watched of referencedIds(p.Dimensions ?? p.Metrics)) edges.push({ from: watched, to: id, label: 'metric', dashed: true });
        break;
    }
  }
  return edges;
}

/**
 * References not drawn by a data path (an alias to its version, a queue to its key, a project to its parameter), so
 * that a resource the lab teaches is joined to what uses it instead of standing alone. Unlabelled: a label per
 * reference is what made the pictures too wide to read.
 */
function referenceEdges(resources: Record<string, Resource>, visible: Set<string>): Edge[] {
  return [...visible].flatMap((id) =>
    Object.entries(resources[id].Properties ?? {}).flatMap(([property, value]) =>
      referencedIds(value).map((target) =>
        // A rule's pattern matches events the resource emits: the events flow from it to the rule.
        property === 'EventPattern' ? { from: target, to: id, label: 'events', dashed: true } : { from: id, to: target, label: '' },
      ),
    ),
  );
}

export interface ArchitectureView {
  readonly mermaid: string;
  /** Resources drawn without an arrow, because nothing in the template joins them to the rest: the caption names them. */
  readonly standalone: string[];
  readonly nodeCount: number;
}

/** `3 × Function` or `4 × Rule, 1 × Alarm`: what a folded node counts. */
function countOfKinds(types: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type.split('::')[2] ?? type, (counts.get(type.split('::')[2] ?? type) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} × ${kind}`).join(', ');
}

/** From this many queues with a dead-letter queue of their own, each pair is drawn as one box. */
const REDRIVE_PAIRS = 5;

/**
 * Dead-letter queues that only one redrive (or undeliverable-message) arrow reaches, when there are REDRIVE_PAIRS of
 * them: dlq → that arrow.
 */
function foldedRedrives(edges: readonly Edge[]): Map<string, Edge> {
  const touches = (id: string) => edges.filter((e) => e.from === id || e.to === id).length;
  const pairs = edges.filter((e) => (e.label.startsWith('redrive after') || e.label === 'undeliverable') && touches(e.to) === 1);
  return new Map(pairs.length >= REDRIVE_PAIRS ? pairs.map((e) => [e.to, e]) : []);
}

/** From this many alarms and rules notifying one topic, they are folded into one box. */
const ALERT_FAN_IN = 4;

/** Alarms and rules whose every arrow goes to one SNS topic, when a topic has ALERT_FAN_IN of them: id → topic. */
function alertFanIns(resources: Record<string, Resource>, edges: readonly Edge[]): Map<string, string> {
  const byTopic = new Map<string, string[]>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::CloudWatch::Alarm' && r.Type !== 'AWS::Events::Rule') continue;
    const targets = new Set(edges.filter((e) => e.from === id).map((e) => e.to));
    const [topic] = targets;
    if (targets.size === 1 && resources[topic].Type === 'AWS::SNS::Topic') byTopic.set(topic, [...(byTopic.get(topic) ?? []), id]);
  }
  return new Map([...byTopic].filter(([, ids]) => ids.length >= ALERT_FAN_IN).flatMap(([topic, ids]) => ids.map((id) => [id, topic] as const)));
}

/**
 * Parts of one resource — a schema, a key, a client, a group: resources whose only arrow is an unlabelled reference to
 * one resource of the same service, and that nothing points at — are written inside its box instead of as boxes and
 * arrows of their own: part id → owner id.
 */
function partsOfOwners(resources: Record<string, Resource>, edges: readonly Edge[], focused: (id: string) => boolean): Map<string, string> {
  const service = (id: string) => resources[id].Type.split('::')[1];
  const parts = new Map<string, string>();
  for (const id of new Set(edges.map((e) => e.from))) {
    const touching = edges.filter((e) => e.from === id || e.to === id);
    const [only] = touching;
    // A view of an optional part keeps what the part adds in boxes of its own, even a part of a context resource.
    const hidesFocus = focused(id) && !focused(only?.to);
    if (touching.length === 1 && only.from === id && !only.label && !only.dashed && service(only.to) === service(id) && !hidesFocus) parts.set(id, only.to);
  }
  // An owner that is itself a part keeps its own box, so no part hides behind another.
  for (const [id, owner] of parts) if (parts.has(owner)) parts.delete(id);
  return parts;
}

/**
 * Without the plain references another path of plain references already implies (a deployment → the application, when
 * it references the environment, which references the application): the picture keeps who belongs to whom. Likewise a
 * labelled arrow (a grant) to a resource is left out when the same arrow goes to a resource that belongs to it.
 */
function withoutImpliedReferences(edges: readonly Edge[]): Edge[] {
  const plain = (e: Edge) => !e.label && !e.dashed;
  const next = new Map<string, string[]>();
  for (const e of edges.filter(plain)) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  /** Whether `to` is reachable from `from` through plain references: in two steps or more unless `inOneStep`. */
  const reachable = (from: string, to: string, inOneStep = false) => {
    const seen = new Set<string>();
    const stack = (next.get(from) ?? []).filter((n) => inOneStep || n !== to);
    while (stack.length) {
      const node = stack.pop()!;
      if (node === to) return true;
      if (seen.has(node)) continue;
      seen.add(node);
      stack.push(...(next.get(node) ?? []));
    }
    return false;
  };
  const impliedByPart = (e: Edge) => edges.some((other) => other.from === e.from && other.label === e.label && other.to !== e.to && reachable(other.to, e.to, true));
  return edges.filter((e) => (plain(e) ? !reachable(e.from, e.to) : !impliedByPart(e)));
}

/** Part of a template to draw: resources by construct path, and whether the ones they join are drawn as context. */
export interface ViewPart {
  readonly paths: ReadonlySet<string>;
  readonly withContext: boolean;
}

/**
 * The architecture as a flowchart. With a part, only its resources are drawn and, when `withContext`, the ones they
 * have arrows to or from, marked as context: how the optional parts get their own view.
 */
export function mermaidDiagram(template: CfnTemplate, stackName: string, part?: ViewPart): ArchitectureView {
  const resources = template.Resources;
  const allVisible = new Set(Object.keys(resources).filter((id) => !isPlumbing(resources[id])));
  const name = (id: string) => label(resources, id, stackName);
  // One arrow per pair of nodes: a grant or a reference between two nodes already joined by a data arrow adds nothing.
  const joined = new Set<string>();
  const allEdges = [...dataEdges(resources), ...grantEdges(resources, allVisible), ...referenceEdges(resources, allVisible)].filter((e) => {
    const pair = [e.from, e.to].sort().join('|');
    const keep = e.from !== e.to && allVisible.has(e.from) && allVisible.has(e.to) && !joined.has(pair);
    joined.add(pair);
    return keep;
  });
  const focused = (id: string) => !part || part.paths.has(name(id));
  const partEdges = allEdges.filter((e) => (part?.withContext ? focused(e.from) || focused(e.to) : focused(e.from) && focused(e.to)));
  const alerts = alertFanIns(resources, partEdges);
  // An alert of a large fan-in is one line of its group's box: the arrows into it (what it watches) would each cross
  // the picture, and its name says what it watches.
  const redrives = foldedRedrives(partEdges);
  const unfolded = withoutImpliedReferences(partEdges.filter((e) => !alerts.has(e.to) && !redrives.has(e.to)));
  const ownerOf = partsOfOwners(resources, unfolded, focused);
  const edges = unfolded.filter((e) => !ownerOf.has(e.from));
  const visible = new Set(
    [...allVisible].filter((id) => !redrives.has(id) && !ownerOf.has(id) && (focused(id) || edges.some((e) => e.from === id || e.to === id))),
  );
  const partsOf = new Map<string, string[]>();
  for (const [part, owner] of ownerOf) partsOf.set(owner, [...(partsOf.get(owner) ?? []), part]);
  /** `+ Schema, DefaultApiKey`: the owner's parts, named relative to it where their path starts with its own. */
  const partsLine = (owner: string) => {
    const parts = (partsOf.get(owner) ?? []).map((part) => name(part).replace(`${name(owner)}/`, '')).sort();
    return parts.length ? `<br>+ ${parts.join(', ')}` : '';
  };
  const redriveOf = new Map<string, { dlqs: string[]; label: string }>();
  for (const [dlq, { from, label }] of redrives) redriveOf.set(from, { label, dlqs: [...(redriveOf.get(from)?.dlqs ?? []), dlq] });

  // Fold a fan-out: resources of one type with the same arrows to the same nodes become one node ("3 × Function").
  const signature = (id: string) =>
    alerts.has(id) ? `alerts of ${alerts.get(id)}` : [
      `${resources[id].Type}:${focused(id)}:${redriveOf.get(id)?.label ?? ''}:${partsOf.has(id) ? id : ''}`,
      ...edges.filter((e) => e.from === id).map((e) => `>${e.to}:${e.label}`),
      ...edges.filter((e) => e.to === id).map((e) => `<${e.from}:${e.label}`),
    ]
      .sort()
      .join('|');
  const connected = [...visible].filter((id) => edges.some((e) => e.from === id || e.to === id));
  const standaloneIds = [...visible].filter((id) => !connected.includes(id));
  const groups = new Map<string, string[]>();
  for (const id of [...visible].sort((a, b) => name(a).localeCompare(name(b)))) groups.set(signature(id), [...(groups.get(signature(id)) ?? []), id]);
  const representative = new Map<string, string>();
  for (const members of groups.values()) for (const id of members) representative.set(id, members[0]);

  // Node ids come from construct paths, not logical ids: some logical ids carry a hash of the code, which would make
  // the diagram differ between machines.
  const nodeId = (id: string) => name(id).replace(/[^A-Za-z0-9]/g, '_');
  const byService = new Map<string, string[][]>();
  for (const members of groups.values()) {
    const service = resources[members[0]].Type.split('::')[1];
    byService.set(service, [...(byService.get(service) ?? []), members]);
  }
  // Top-down: a left-to-right picture puts the service groups side by side, several page widths wide.
  const lines = ['flowchart TB'];
  const context: string[] = [];
  for (const [service, nodes] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  subgraph ${service}`);
    for (const members of nodes) {
      const redrive = redriveOf.get(members[0]);
      const text =
        members.length > 1
          ? [countOfKinds(members.map((id) => resources[id].Type)), ...members.map(name)].join('<br>') + (redrive ? `<br>each: ${redrive.label}<br>→ its DLQ` : '')
          : `${name(members[0])}${partsLine(members[0])}${redrive ? `<br>${redrive.label}<br>→ ${redrive.dlqs.length > 1 ? `${redrive.dlqs.length} DLQs` : name(redrive.dlqs[0])}` : ''}`;
      lines.push(`    ${nodeId(members[0])}["${text}"]`);
      if (!members.some(focused)) context.push(nodeId(members[0]));
    }
    lines.push('  end');
  }
  if (context.length) lines.push('  classDef context stroke-dasharray: 4 4,fill:#eee', `  class ${context.join(',')} context`);
  const drawn = new Set<string>();
  for (const e of edges) {
    const text = e.label ? `|"${e.label}"|` : '';
    const line = `  ${nodeId(representative.get(e.from)!)} ${e.dashed ? '-.->' : '-->'}${text} ${nodeId(representative.get(e.to)!)}`;
    if (!drawn.has(line)) lines.push(line);
    drawn.add(line);
  }
  // Boxes without an arrow all sit on the first rank, side by side, widening the picture by one box each: invisible
  // links (`~~~`, no arrow drawn) stack them in a column instead.
  const standaloneNodes = [...new Set(standaloneIds.map((id) => nodeId(representative.get(id)!)))].sort();
  for (let i = 1; i < standaloneNodes.length; i++) lines.push(`  ${standaloneNodes[i - 1]} ~~~ ${standaloneNodes[i]}`);
  const standalone = standaloneIds.map(name).sort();
  return { mermaid: lines.join('\n'), standalone, nodeCount: groups.size };
}

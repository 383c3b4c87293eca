import type { Template } from 'aws-cdk-lib/assertions';

/** Values the resolved definitions use for the pseudo parameters. */
export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '123456789012', urlSuffix: 'amazonaws.com' } as const;

// Amazon States Language, loosely typed: tests read fields by name.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AslState = Record<string, any> & { Type: string };
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  Comment?: string;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

const { partition, region, account, urlSuffix } = PLACEHOLDER;

/** A placeholder for `Ref` of a resource, as CloudFormation would return it (ARN, URL or name by type). */
function refOf(logicalId: string, type: string): string {
  switch (type) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${region}.${urlSuffix}/${account}/${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:${partition}:sns:${region}:${account}:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:${partition}:states:${region}:${account}:stateMachine:${logicalId}`;
    case 'AWS::StepFunctions::Activity':
      return `arn:${partition}:states:${region}:${account}:activity:${logicalId}`;
    case 'AWS::ApiGateway::RestApi':
      return logicalId.toLowerCase().slice(0, 10);
    default:
      return logicalId;
  }
}

/** A placeholder for `Fn::GetAtt [logicalId, attribute]`. */
function getAttOf(logicalId: string, type: string, attribute: string): string {
  const arns: Record<string, string> = {
    'AWS::Lambda::Function': `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`,
    'AWS::SQS::Queue': `arn:${partition}:sqs:${region}:${account}:${logicalId}`,
    'AWS::DynamoDB::Table': `arn:${partition}:dynamodb:${region}:${account}:table/${logicalId}`,
    'AWS::StepFunctions::StateMachine': `arn:${partition}:states:${region}:${account}:stateMachine:${logicalId}`,
    'AWS::SNS::Topic': `arn:${partition}:sns:${region}:${account}:${logicalId}`,
    'AWS::Events::EventBus': `arn:${partition}:events:${region}:${account}:event-bus/${logicalId}`,
    'AWS::Logs::LogGroup': `arn:${partition}:logs:${region}:${account}:log-group:${logicalId}:*`,
  };
  if (attribute === 'Arn' && arns[type]) return arns[type];
  if (attribute === 'QueueUrl') return refOf(logicalId, type);
  if (attribute === 'QueueName' || attribute === 'Name' || attribute === 'TopicName') return logicalId;
  throw new Error(`no placeholder for Fn::GetAtt ${logicalId}.${attribute} (${type})`);
}

/**
 * Resolves the intrinsic functions of a template value (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split) to
 * placeholder strings: ARNs, URLs and names built from the logical id, in us-east-1 of account 123456789012.
 */
export function resolveIntrinsics(template: Template, value: unknown): unknown {
  const resources = (template.toJSON().Resources ?? {}) as Record<string, CfnResource>;
  const typeOf = (logicalId: string) => {
    const resource = resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource.Type;
  };
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const object = v as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys;
      const argument = object[key];
      switch (key) {
        case 'Ref': {
          const pseudo: Record<string, string> = {
            'AWS::Partition': partition,
            'AWS::Region': region,
            'AWS::AccountId': account,
            'AWS::URLSuffix': urlSuffix,
          };
          const name = argument as string;
          if (pseudo[name]) return pseudo[name];
          if (name === 'AWS::StackName') return 'Stack';
          return refOf(name, typeOf(name));
        }
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = argument as [string, string];
          return getAttOf(logicalId, typeOf(logicalId), attribute);
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, unknown[]];
          return parts.map((p) => String(resolve(p))).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [number, unknown];
          return (resolve(list) as unknown[])[index];
        }
        case 'Fn::Split': {
          const [separator, source] = argument as [string, unknown];
          return String(resolve(source)).split(separator);
        }
        default:
          break;
      }
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(object[k])]));
  };
  return resolve(value);
}

/** Logical ids of the template's state machines. */
export function stateMachineIds(template: Template): string[] {
  return Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
}

/**
 * The Amazon States Language definition of one state machine of a synthesized template, parsed from its
 * `DefinitionString` with every ARN, URL and name replaced by a placeholder (see `resolveIntrinsics`).
 */
export function stateMachineDefinition(template: Template, logicalId: string): AslDefinition {
  const resources = template.findResources('AWS::StepFunctions::StateMachine') as Record<string, CfnResource>;
  const machine = resources[logicalId];
  if (!machine) throw new Error(`no state machine ${logicalId}; the template has ${Object.keys(resources).join(', ')}`);
  const definition = resolveIntrinsics(template, machine.Properties?.DefinitionString);
  if (typeof definition !== 'string') throw new Error(`${logicalId} has no DefinitionString`);
  return JSON.parse(definition) as AslDefinition;
}

/** Placeholder ARN of a resource of the template (what `resolveIntrinsics` gives for `Fn::GetAtt [id, Arn]`). */
export function placeholderArn(template: Template, logicalId: string): string {
  return resolveIntrinsics(template, { 'Fn::GetAtt': [logicalId, 'Arn'] }) as string;
}

/** Every state of a definition by name, including the states of Parallel branches and Map item processors. */
export function allStates(definition: Pick<AslDefinition, 'States'>): Record<string, AslState> {
  const found: Record<string, AslState> = {};
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      found[name] = state;
      for (const branch of state.Branches ?? []) visit(branch.States);
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return found;
}

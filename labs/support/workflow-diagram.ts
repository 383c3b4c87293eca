/**
 * A Mermaid flowchart of one state machine, read from its Amazon States Language definition, drawn like the Step
 * Functions console's graph but with the error policy written on it: every state with its type, Choice rules as
 * labelled branches, Parallel branches and Map item processors as nested groups, each Retry as a dashed loop on its
 * state (errors, attempts, interval, backoff) and each Catch as a dashed edge (errors → next state, ResultPath).
 * A flowchart rather than a Mermaid state diagram: only a flowchart draws dashed (failure) edges and Choice diamonds.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { CfnTemplate, label } from './diagram';
import { AslDefinition, AslState, stateMachineDefinition, stateMachineIds } from './state-machine-definition';

interface States {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

/** Mermaid's label syntax breaks on double quotes; `#quot;` is its escape. */
const quoted = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;

/** Five `Lambda.*` errors read as one group: the diagram must stay narrow, and they share one policy. */
export function errorList(errors: readonly string[]): string {
  const byPrefix = new Map<string, string[]>();
  for (const error of errors) {
    const prefix = error.includes('.') && !error.startsWith('States.') ? error.slice(0, error.indexOf('.')) : error;
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), error]);
  }
  return [...byPrefix].map(([prefix, group]) => (group.length > 1 ? `${prefix}.* (${group.length})` : group[0])).join(', ');
}

function retryLabel(retrier: AslState): string {
  const errors = errorList(retrier.ErrorEquals ?? []);
  const attempts = retrier.MaxAttempts ?? 3;
  // The policy on its own line keeps the loop's label, and so the diagram, narrow.
  if (attempts === 0) return `${errors}: never`;
  const policy = [`${attempts} × from ${retrier.IntervalSeconds ?? 1} s`, `backoff ×${retrier.BackoffRate ?? 2}`];
  if (retrier.MaxDelaySeconds !== undefined) policy.push(`max ${retrier.MaxDelaySeconds} s`);
  if (retrier.JitterStrategy === 'FULL') policy.push('full jitter');
  return `${errors}:<br>${policy.join(', ')}`;
}

function catchLabel(catcher: AslState): string {
  const resultPath = catcher.ResultPath === undefined ? '' : `<br>→ ${catcher.ResultPath ?? 'input kept'}`;
  return `catch ${errorList(catcher.ErrorEquals ?? [])}${resultPath}`;
}

const COMPARISONS: Record<string, string> = {
  Equals: '=',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '≤',
  GreaterThanEquals: '≥',
  Matches: 'matches',
};

/** A Choice rule as a reader would say it: `$.total ≥ 1000`, `$.status is present`, `not ($.a = "x")`. */
export function conditionText(rule: AslState): string {
  if (typeof rule.Condition === 'string') return rule.Condition;
  if (rule.And) return (rule.And as AslState[]).map(conditionText).join(' and ');
  if (rule.Or) return (rule.Or as AslState[]).map(conditionText).join(' or ');
  if (rule.Not) return `not (${conditionText(rule.Not as AslState)})`;
  const operator = Object.keys(rule).find((key) => key !== 'Variable' && key !== 'Next');
  if (!operator) return 'always';
  const operand = rule[operator];
  const variable = rule.Variable ?? '';
  if (operator.startsWith('Is')) return `${variable} ${operand ? 'is' : 'is not'} ${operator.slice(2).toLowerCase()}`;
  const path = operator.endsWith('Path');
  // Longest suffix first: NumericGreaterThanEquals is ≥, not =.
  const comparison = Object.keys(COMPARISONS)
    .sort((a, b) => b.length - a.length)
    .find((suffix) => operator.replace(/Path$/, '').endsWith(suffix));
  const symbol = comparison ? COMPARISONS[comparison] : operator;
  return `${variable} ${symbol} ${path ? operand : JSON.stringify(operand)}`;
}

/** What a Task calls: `lambda:invoke`, `sqs:sendMessage.waitForTaskToken`, or the ARN's last part for an activity. */
function taskAction(state: AslState): string {
  const resource = String(state.Resource ?? '');
  const integration = resource.match(/:states:::(.+)$/);
  return integration ? integration[1] : resource.split(':').pop() || 'task';
}

function stateText(name: string, state: AslState): string {
  switch (state.Type) {
    case 'Task':
      return `${name}<br>Task: ${taskAction(state)}`;
    case 'Wait': {
      const wait = state.Seconds ?? state.SecondsPath ?? state.Timestamp ?? state.TimestampPath;
      return `${name}<br>Wait ${typeof state.Seconds === 'number' ? `${wait} s` : wait}`;
    }
    case 'Map':
      return `${name}: Map${state.MaxConcurrency ? `, ${state.MaxConcurrency} at a time` : ''}`;
    default:
      return `${name}<br>${state.Type}`;
  }
}

/** The node of a state, shaped by its type: Choice a diamond, Succeed/Fail a stadium, the rest a box. */
function node(id: string, name: string, state: AslState): string {
  const text = quoted(stateText(name, state));
  if (state.Type === 'Choice') return `${id}{${text}}`;
  if (state.Type === 'Succeed' || state.Type === 'Fail') return `${id}([${text}])`;
  return `${id}[${text}]`;
}

const nodeId = (scope: string, name: string) => `${scope}${name.replace(/[^A-Za-z0-9]/g, '_')}`;

/**
 * Draws one scope (the machine, a Parallel branch, a Map processor) into `lines`. State names are unique within a
 * scope only, so a nested scope's node ids are prefixed with its parent's.
 */
function drawScope(graph: States, scope: string, indent: string, lines: string[], edges: string[]): void {
  const id = (name: string) => nodeId(scope, name);
  // Every scope has its Start and End inside its group, as the console draws a branch; Mermaid reads a node called
  // `end` as the end of a subgraph, hence `finish`.
  lines.push(`${indent}${scope}start((Start)) --> ${id(graph.StartAt)}`);
  if (Object.values(graph.States).some((state) => state.End)) lines.push(`${indent}${scope}finish((End))`);
  for (const [name, state] of Object.entries(graph.States)) {
    const self = id(name);
    const inner: States[] = [...(state.Branches ?? []), ...[state.ItemProcessor ?? state.Iterator].filter(Boolean)];
    if (inner.length) {
      lines.push(`${indent}subgraph ${self}[${quoted(stateText(name, state))}]`);
      // Parallel branches sit side by side; their states are laid out top-down inside.
      lines.push(`${indent}  direction TB`);
      inner.forEach((branch, index) => drawScope(branch, `${self}_${index}_`, `${indent}  `, lines, edges));
      lines.push(`${indent}end`);
    } else {
      lines.push(`${indent}${node(self, name, state)}`);
    }
    if (state.Next) edges.push(`${self} --> ${id(state.Next)}`);
    if (state.End) edges.push(`${self} --> ${scope}finish`);
    for (const rule of state.Choices ?? []) edges.push(`${self} -->|${quoted(conditionText(rule))}| ${id(rule.Next)}`);
    if (state.Default) edges.push(`${self} -->|"otherwise"| ${id(state.Default)}`);
    // One loop per state, its retriers in order: Step Functions uses the first whose errors match.
    const retriers: AslState[] = state.Retry ?? [];
    if (retriers.length === 1) edges.push(`${self} -.->|${quoted(`retry ${retryLabel(retriers[0])}`)}| ${self}`);
    if (retriers.length > 1) {
      const numbered = retriers.map((retrier, index) => `${index + 1}. ${retryLabel(retrier)}`);
      edges.push(`${self} -.->|${quoted(['retry, first match:', ...numbered].join('<br>'))}| ${self}`);
    }
    for (const catcher of state.Catch ?? []) edges.push(`${self} -.->|${quoted(catchLabel(catcher))}| ${id(catcher.Next)}`);
  }
}

export function workflowDiagram(definition: AslDefinition): string {
  const lines = ['flowchart TD'];
  const edges: string[] = [];
  drawScope(definition, '', '  ', lines, edges);
  return [...lines, ...edges.map((edge) => `  ${edge}`)].join('\n');
}

export interface NamedDiagram {
  /** Construct path of what is drawn, `OrderWorkflow/StateMachine`. */
  readonly name: string;
  readonly mermaid: string;
}

/** One workflow diagram per state machine of the template, with its type (STANDARD or EXPRESS). */
export function stateMachineDiagrams(template: CfnTemplate, stackName: string): NamedDiagram[] {
  const assertions = Template.fromJSON(template);
  return stateMachineIds(assertions).map((id) => {
    const type = template.Resources[id].Properties?.StateMachineType ?? 'STANDARD';
    return {
      name: `${label(template.Resources, id, stackName)} (${type})`,
      mermaid: workflowDiagram(stateMachineDefinition(assertions, id)),
    };
  });
}

import { CfnElement, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/**
 * A value as cdk-nag writes it inside a finding id: a literal as is, a Ref as `<LogicalId>`, a GetAtt as
 * `<LogicalId.Attr>`; undefined for any other token (the construct reports it as a props problem, or leaves the
 * finding for its user to acknowledge).
 */
export function findingText(scope: Construct, value: string): string | undefined {
  const resolved = Stack.of(scope).resolve(value);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved?.Ref === 'string') return `<${resolved.Ref}>`;
  if (Array.isArray(resolved?.['Fn::GetAtt'])) return `<${resolved['Fn::GetAtt'].join('.')}>`;
  return undefined;
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag writes it (`<Id>` in `<Id.Arn>`). */
export function logicalIdOf(construct: Construct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  return Stack.of(construct).getLogicalId(element as CfnElement);
}

/**
 * How cdk-nag writes a resource in its finding ids (`Resource::…`): references become `<LogicalId>`,
 * `<LogicalId.Attribute>` or `<AWS::Region>`, joins are concatenated. An acknowledgement must name it exactly.
 */
export function findingResource(scope: IConstruct, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const intrinsic = node as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]]; 'Fn::Sub'?: string };
    if (intrinsic['Fn::Join']) return intrinsic['Fn::Join'][1].map(flatten).join(intrinsic['Fn::Join'][0]);
    if (intrinsic['Fn::Sub'] !== undefined) return flatten(intrinsic['Fn::Sub']);
    if (intrinsic['Fn::GetAtt']) return `<${intrinsic['Fn::GetAtt'][0]}.${intrinsic['Fn::GetAtt'][1]}>`;
    if (intrinsic.Ref !== undefined) return `<${intrinsic.Ref}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(value));
}

import { CfnElement, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

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

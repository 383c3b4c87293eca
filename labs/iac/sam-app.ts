import * as path from 'node:path';
import { NestedStack } from 'aws-cdk-lib';
import * as include from 'aws-cdk-lib/cloudformation-include';
import * as sam from 'aws-cdk-lib/aws-sam';
import { Construct } from 'constructs';

/** The SAM template included by the lab; `sam build` / `sam deploy` take the same file. */
export const SAM_TEMPLATE_FILE = path.join(__dirname, 'sam', 'template.yaml');

export interface SamAppProps {
  /** Passed into the nested stack's NoEcho parameter SigningSecret. */
  readonly signingSecret: string;
  /** Passed into ExerciseStackPrefix: the function logs status changes of stacks named so. */
  readonly exerciseStackPrefix: string;
}

/**
 * The SAM template of ./sam, included unchanged (CfnInclude) as a nested stack of its own, so the transform
 * (`AWS::Serverless-2016-10-31`) applies to that template only and CloudFormation expands it at deploy time. The
 * parent passes the nested stack's parameters in (AWS::CloudFormation::Stack `Parameters`) and reads its outputs
 * back with `Fn::GetAtt <nested stack>.Outputs.<name>`.
 */
export class SamApp extends NestedStack {
  public readonly template: include.CfnInclude;
  public readonly function: sam.CfnFunction;
  /** The function's name, as the parent stack reads it from the nested stack's output. */
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: SamAppProps) {
    super(scope, id, {
      description: 'iac lab: the SAM template of labs/iac/sam, included with CfnInclude',
      parameters: { SigningSecret: props.signingSecret, ExerciseStackPrefix: props.exerciseStackPrefix },
    });
    this.template = new include.CfnInclude(this, 'Template', { templateFile: SAM_TEMPLATE_FILE });
    this.function = this.template.getResource('StackEventsFunction') as sam.CfnFunction;
    this.functionName = this.function.ref;
  }
}

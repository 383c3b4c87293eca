import { CfnOutput, CfnParameter, DefaultStackSynthesizer, Fn, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IAC_LAB } from './constants';

/**
 * A second stack that imports the lab's export with Fn::ImportValue: its queue uses the lab's shared DLQ. While it
 * exists, CloudFormation refuses to change or delete the export (ListImports names it).
 */
export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string) {
    // No bootstrap-version rule: the exercise deploys the template with CreateStack, not with the CDK CLI.
    super(scope, id, {
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: 'iac lab: a consumer of the lab\'s export (created and deleted by the exercise)',
    });
    const labStackName = new CfnParameter(this, 'LabStackName', {
      description: 'The stack whose export <name>-SharedDlqArn to import',
      default: IAC_LAB.stackName,
      allowedPattern: '^[A-Za-z][A-Za-z0-9-]{0,127}$',
    });
    // The export name may be built from parameters (Fn::Sub), never from resources: it is resolved before they exist.
    const sharedDlqArn = Fn.importValue(Fn.sub(`\${${labStackName.logicalId}}${IAC_LAB.exportSuffix}`));
    const queue = new sqs.CfnQueue(this, 'Queue', {
      sqsManagedSseEnabled: true,
      redrivePolicy: { deadLetterTargetArn: sharedDlqArn, maxReceiveCount: 3 },
    });
    new CfnOutput(this, 'ImportedDlqArn', { value: sharedDlqArn });
    new CfnOutput(this, 'QueueUrl', { value: queue.ref });
  }
}

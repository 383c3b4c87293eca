/**
 * The templates of the playground stack the exercise creates with the SDK to fail updates on purpose, detect drift
 * and refuse a delete: plain CloudFormation, no CDK, so the exercise loads nothing to deploy them.
 */
import { IAC_LAB } from './constants';

const queue = {
  Type: 'AWS::SQS::Queue',
  Properties: { SqsManagedSseEnabled: true, VisibilityTimeout: IAC_LAB.playground.visibilityTimeoutSeconds },
};

/** What the playground stack is created with: one queue, whose visibility timeout the drift step changes by hand. */
export const PLAYGROUND_TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Description: 'iac lab: playground stack of the exercise (rollback, drift, termination protection)',
  Resources: { Queue: queue },
} as const;

/**
 * An update that fails on purpose: it adds a queue, then a wait condition that depends on it and times out after
 * one second because nothing signals its handle. With rollback, CloudFormation deletes the new queue again; with
 * DisableRollback, the queue stays and the stack stops in UPDATE_FAILED.
 */
export const FAILING_UPDATE_TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Description: PLAYGROUND_TEMPLATE.Description,
  Resources: {
    Queue: queue,
    ExtraQueue: { Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true } },
    NeverSignalled: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
    DeliberateFailure: {
      Type: 'AWS::CloudFormation::WaitCondition',
      DependsOn: 'ExtraQueue',
      Properties: { Handle: { Ref: 'NeverSignalled' }, Timeout: '1', Count: 1 },
    },
  },
} as const;

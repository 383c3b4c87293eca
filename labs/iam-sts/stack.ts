import * as path from 'node:path';
import { Arn, ArnFormat, Aws, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { GuardedRole } from '../../lib/guarded-role';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { iamStsLab } from './lab';
import { IAM_STS_LAB as IAM_STS_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const IAM_STS_LAB = withCdkDurations(IAM_STS_LAB_SPEC);

const DECODE_REASON =
  'sts:DecodeAuthorizationMessage has no resource ARN: the IAM service authorization reference lists it with "*" only.';

/**
 * IAM and STS lab: a role bounded by a permissions boundary (customer managed + inline policy), a role that requires
 * MFA, a "cross-account" role that requires an external id (trusting this same account, so one account suffices),
 * and a function reading a Parameter Store SecureString (and optionally a Secrets Manager secret) with Powertools.
 */
export class IamStsLabStack extends LabStack<typeof iamStsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const labParameter = new ssm.StringParameter(this, 'LabParameter', {
      stringValue: IAM_STS_LAB.labParameterValue,
      description: 'iam-sts lab: readable by the lab roles, writable by none of them',
    });

    // Customer managed policy: standalone, versioned, attachable to many roles.
    const readPolicy = new iam.ManagedPolicy(this, 'ReadLabParameterPolicy', {
      description: 'iam-sts lab: read the lab parameter',
      statements: [new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [labParameter.parameterArn] })],
    });
    // Permissions boundary: the most any identity policy of a bounded role can grant.
    const boundary = new iam.ManagedPolicy(this, 'Boundary', {
      description: 'iam-sts lab: permissions boundary; reading the lab parameter and decoding denials, nothing else',
      statements: [
        new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [labParameter.parameterArn] }),
        new iam.PolicyStatement({ actions: ['sts:DecodeAuthorizationMessage'], resources: ['*'] }),
      ],
    });
    Validations.of(boundary).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: DECODE_REASON });

    const bounded = new GuardedRole(this, 'BoundedRole', {
      description: 'iam-sts lab: managed + inline policies under a permissions boundary',
      managedPolicies: [readPolicy],
      inlinePolicies: {
        // Inline: embedded in this role only. PutParameter is granted here but outside the boundary: denied.
        WriteAndDecode: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['ssm:PutParameter'], resources: [labParameter.parameterArn] }),
            new iam.PolicyStatement({ actions: ['sts:DecodeAuthorizationMessage'], resources: ['*'] }),
          ],
        }),
      },
      permissionsBoundary: boundary,
    });
    Validations.of(bounded).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: DECODE_REASON });

    const mfa = new GuardedRole(this, 'MfaRole', {
      description: 'iam-sts lab: assumable only from a session authenticated with MFA in the last hour',
      requireMfa: { maxAge: IAM_STS_LAB.mfaMaxAge },
      managedPolicies: [readPolicy],
    });

    // A per-deployment external id: the GUID at the end of the stack id (arn:...:stack/<name>/<guid>).
    const externalId = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const partner = new GuardedRole(this, 'PartnerRole', {
      description: 'iam-sts lab: a cross-account role for a partner, demanding its external id (trusts this account as a stand-in)',
      externalId,
      managedPolicies: [readPolicy],
    });

    // The SecureString is created by the exercise (CloudFormation cannot create SecureString parameters).
    const secureParameterName = `/${Aws.STACK_NAME}/db-password`;
    const reader = new SafeNodejsFunction(this, 'ParameterReader', {
      entry: path.join(__dirname, '../../lambda/parameter-reader/index.ts'),
      description: 'iam-sts lab: reads a SecureString (and a secret) with Powertools parameters, returns fingerprints only',
      environment: { SECURE_PARAMETER_NAME: secureParameterName, POWERTOOLS_SERVICE_NAME: 'parameter-reader' },
    });
    reader.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [Arn.format({ service: 'ssm', resource: 'parameter', resourceName: `${Aws.STACK_NAME}/db-password`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, Stack.of(this))],
      }),
    );

    const outputs: Record<string, string> = {
      BoundedRoleArn: bounded.roleArn,
      MfaRoleArn: mfa.roleArn,
      PartnerRoleArn: partner.roleArn,
      PartnerExternalId: externalId,
      LabParameterName: labParameter.parameterName,
      LabParameterArn: labParameter.parameterArn,
      BoundaryPolicyArn: boundary.managedPolicyArn,
      SecureParameterName: secureParameterName,
      ParameterReaderFunctionName: reader.functionName,
    };

    if (this.feature('secret')) {
      const secret = new secretsmanager.Secret(this, 'DatabaseSecret', {
        description: 'iam-sts lab: a generated password, read by the parameter reader',
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'A lab secret with no database behind it: rotation needs a rotation function per secret type, which the README explains instead.',
      });
      secret.grantRead(reader);
      reader.addEnvironment('SECRET_ARN', secret.secretArn);
      outputs.SecretArn = secret.secretArn;
    }
    this.addOutputs(outputs);
  }
}

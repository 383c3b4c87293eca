/**
 * Every lab, in the order the README lists them: the app, the lab CLI, the docs and the tests all read this list.
 * Each lab declares itself in `labs/<id>/lab.ts`; adding a lab is that folder and one line here. This file loads
 * no stack and no CDK: a lab's stack and exercise are loaded only through its `loadStack` / `loadExercise`.
 */
import { apigatewayLab } from './apigateway/lab';
import { appconfigLab } from './appconfig/lab';
import { athenaLab } from './athena/lab';
import { beanstalkLab } from './beanstalk/lab';
import { cachingLab } from './caching/lab';
import { certificatesLab } from './certificates/lab';
import { cicdBluegreenLab } from './cicd-bluegreen/lab';
import { codedeployEc2Lab } from './codedeploy-ec2/lab';
import { cognitoLab } from './cognito/lab';
import { dynamodbModellingLab } from './dynamodb-modelling/lab';
import { dynamodbStreamsLab } from './dynamodb-streams/lab';
import { ecsLab } from './ecs/lab';
import { graphqlLab } from './graphql/lab';
import { iacLab } from './iac/lab';
import { iamStsLab } from './iam-sts/lab';
import { kmsLab } from './kms/lab';
import { lambdaLab } from './lambda/lab';
import { observabilityLab } from './observability/lab';
import { s3Lab } from './s3/lab';
import { sesLab } from './ses/lab';
import { snsFanoutLab } from './sns-fanout/lab';
import { sqsLab } from './sqs/lab';
import { stepfunctionsCallbackLab } from './stepfunctions-callback/lab';
import { stepfunctionsErrorsLab } from './stepfunctions-errors/lab';
import { streamingLab } from './streaming/lab';
import type { LabDefinition } from './support/define-lab';

export type {
  FeatureName,
  FeatureSpec,
  LabDefinition,
  LabExercise,
  LabFeature,
  LabParameter,
  LabStackClass,
  ParameterName,
  ParameterSpec,
} from './support/define-lab';

export const LABS: readonly LabDefinition[] = [
  sqsLab,
  dynamodbStreamsLab,
  dynamodbModellingLab,
  snsFanoutLab,
  kmsLab,
  lambdaLab,
  apigatewayLab,
  cognitoLab,
  stepfunctionsErrorsLab,
  stepfunctionsCallbackLab,
  s3Lab,
  cicdBluegreenLab,
  codedeployEc2Lab,
  beanstalkLab,
  iamStsLab,
  observabilityLab,
  ecsLab,
  iacLab,
  streamingLab,
  athenaLab,
  cachingLab,
  graphqlLab,
  appconfigLab,
  sesLab,
  certificatesLab,
];

export function findLab(id: string): LabDefinition | undefined {
  return LABS.find((lab) => lab.id === id);
}

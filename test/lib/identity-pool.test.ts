import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ConstructValidationError } from '../../lib/core/validation';
import { AMR, AUD, UserPoolIdentityPool } from '../../lib/identity-pool';
import { testApp } from '../support/synth';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
function fixture(stack: Stack) {
  const userPool = new cognito.UserPool(stack, 'Pool');
  return { userPool, userPoolClient: userPool.addClient('Client') };
}

test('defaults: no guests, enhanced flow only, role from the token with the authenticated role as fallback', () => {
  const stack = newStack();
  const ids = new UserPoolIdentityPool(stack, 'Ids', fixture(stack));
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Cognito::IdentityPool', { AllowUnauthenticatedIdentities: false, AllowClassicFlow: false });
  template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
    RoleMappings: { userpool: Match.objectLike({ Type: 'Token', AmbiguousRoleResolution: 'AuthenticatedRole' }) },
  });
  expect(ids.loginProvider).toBeDefined();
});

test('newRole trusts only this pool\'s authenticated identities', () => {
  const stack = newStack();
  const ids = new UserPoolIdentityPool(stack, 'Ids', { ...fixture(stack), withoutPreferredRole: 'Deny' });
  ids.newRole('Readers', 'readers');
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::IAM::Role', {
    Description: 'readers',
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: { StringEquals: { [AUD]: { Ref: Match.stringLikeRegexp('^IdsPool') } }, 'ForAnyValue:StringLike': { [AMR]: 'authenticated' } },
        }),
      ],
    },
  });
  template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
    RoleMappings: { userpool: Match.objectLike({ AmbiguousRoleResolution: 'Deny' }) },
  });
});

test('without role selection from the token there is no role mapping; asking for its fallback is an error', () => {
  const stack = newStack();
  new UserPoolIdentityPool(stack, 'Ids', { ...fixture(stack), roleFromToken: false });
  Template.fromStack(stack).hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', { RoleMappings: Match.absent() });

  const build = () => {
    const other = newStack();
    return new UserPoolIdentityPool(other, 'Ids', { ...fixture(other), roleFromToken: false, withoutPreferredRole: 'Deny' });
  };
  expect(build).toThrow(ConstructValidationError);
  expect(build).toThrow('[UserPoolIdentityPool.AmbiguousRoleWithoutToken] withoutPreferredRole applies to roles chosen from the token');
});

import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AMR, AUD, UserPoolIdentityPool, UserPoolIdentityPoolProps } from '../../lib/user-pool-identity-pool';
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
  const ids = new UserPoolIdentityPool(stack, 'Ids', { ...fixture(stack), roleFromToken: { withoutPreferredRole: 'Deny' } });
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

test('without role selection from the token there is no role mapping; its fallback cannot be asked for (a type error)', () => {
  const stack = newStack();
  new UserPoolIdentityPool(stack, 'Ids', { ...fixture(stack), roleFromToken: false });
  Template.fromStack(stack).hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', { RoleMappings: Match.absent() });

  // Was the run-time error UserPoolIdentityPool.AmbiguousRoleWithoutToken: the fallback is now an option of
  // roleFromToken, so "roleFromToken off, with a fallback" has no spelling.
  const off: UserPoolIdentityPoolProps['roleFromToken'] = false;
  // @ts-expect-error withoutPreferredRole is not a prop of its own any more
  const props: UserPoolIdentityPoolProps = { ...fixture(newStack()), roleFromToken: off, withoutPreferredRole: 'Deny' };
  expect(props.roleFromToken).toBe(false);
});

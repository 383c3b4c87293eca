import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AMR, AUD, IDENTITY_ID, UserPoolIdentityPool, UserPoolIdentityPoolProps } from '../../lib/user-pool-identity-pool';
import { testApp } from '../support/synth';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
function fixture(stack: Stack) {
  const userPool = new cognito.UserPool(stack, 'Pool');
  return { userPool, userPoolClient: userPool.addClient('Client') };
}
/** The rules acknowledged on the identity pool (cdk-nag and `cdk synth --strict` read them), as `{ id: reason }`. */
const acknowledgedRules = (ids: UserPoolIdentityPool) =>
  ids.identityPool.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>);

test('defaults: no guests, enhanced flow only, role from the token with the authenticated role as fallback', () => {
  const stack = newStack();
  const ids = new UserPoolIdentityPool(stack, 'Ids', fixture(stack));
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Cognito::IdentityPool', {
    AllowUnauthenticatedIdentities: false,
    AllowClassicFlow: false,
    CognitoIdentityProviders: [
      { ClientId: { Ref: Match.stringLikeRegexp('^PoolClient') }, ProviderName: Match.anyValue(), ServerSideTokenCheck: true },
    ],
  });
  template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
    RoleMappings: { userpool: Match.objectLike({ Type: 'Token', AmbiguousRoleResolution: 'AuthenticatedRole' }) },
  });
  expect(ids.loginProvider).toBeDefined();
  expect(acknowledgedRules(ids)).toEqual([]);
});

test('allowGuests gives guests an identity, and acknowledges the cdk-nag finding on unauthenticated identities with why', () => {
  const stack = newStack();
  const ids = new UserPoolIdentityPool(stack, 'Ids', { ...fixture(stack), allowGuests: true });
  Template.fromStack(stack).hasResourceProperties('AWS::Cognito::IdentityPool', { AllowUnauthenticatedIdentities: true, AllowClassicFlow: false });
  expect(acknowledgedRules(ids)).toEqual([{ 'Annotation::AwsSolutions-COG7': expect.stringMatching(/^Guest identities are enabled on purpose by the allowGuests prop\..*enhanced flow scopes guest sessions/) }]);
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
          Condition: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: Match.stringLikeRegexp('^IdsPool') } },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        }),
      ],
    },
  });
  template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
    RoleMappings: { userpool: Match.objectLike({ AmbiguousRoleResolution: 'Deny' }) },
  });
});

test('the exported condition keys and policy variable are the ones IAM evaluates for identity pool credentials', () => {
  expect([AUD, AMR, IDENTITY_ID]).toEqual(['cognito-identity.amazonaws.com:aud', 'cognito-identity.amazonaws.com:amr', '${cognito-identity.amazonaws.com:sub}']);
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

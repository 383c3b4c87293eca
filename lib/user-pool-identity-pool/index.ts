import { Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { IdentityPool, IdentityPoolProviderUrl, UserPoolAuthenticationProvider } from 'aws-cdk-lib/aws-cognito-identitypool';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The IAM condition key with the identity pool id of the token presented to STS. */
export const AUD = 'cognito-identity.amazonaws.com:aud';
/** The IAM condition key with how the identity authenticated: `authenticated` or `unauthenticated` (plus providers). */
export const AMR = 'cognito-identity.amazonaws.com:amr';
/** The policy variable holding the caller's identity id, e.g. for `dynamodb:LeadingKeys`. */
export const IDENTITY_ID = '${cognito-identity.amazonaws.com:sub}';

/** How the identity pool picks a signed-in user's role from their ID token. */
export interface RoleFromTokenOptions {
  /**
   * What a signed-in user without a preferred role gets: the default authenticated role, or no credentials.
   * @default 'AuthenticatedRole'
   */
  readonly withoutPreferredRole?: 'AuthenticatedRole' | 'Deny';
}

export interface UserPoolIdentityPoolProps {
  /** The user pool whose ID tokens the identity pool accepts. */
  readonly userPool: cognito.IUserPool;
  /** The app client of `userPool` the tokens are issued to. */
  readonly userPoolClient: cognito.IUserPoolClient;
  /**
   * Give guests (no sign-in) an identity and the guest role's credentials. The enhanced flow scopes guest sessions
   * down to a short list of services (the AmazonCognitoUnAuthedIdentitiesSessionPolicy). @default false
   */
  readonly allowGuests?: boolean;
  /**
   * Pick each signed-in user's role from their ID token's `cognito:preferred_role` (the role of their lowest-
   * precedence group); `false`: every signed-in user gets the authenticated role.
   * @default - on, users without a preferred role get the authenticated role
   */
  readonly roleFromToken?: false | RoleFromTokenOptions;
}

/**
 * A Cognito identity pool that exchanges a user pool's ID tokens for temporary AWS credentials (enhanced flow only),
 * with an authenticated role, an optional guest role, and role selection from the token's group. Every role it
 * trusts (`newRole`) accepts only this pool's identities (`aud`) of the right kind (`amr`).
 */
export class UserPoolIdentityPool extends Construct {
  public readonly identityPool: IdentityPool;
  /** Role of signed-in users without a preferred role; grant it what every user may do. */
  public readonly authenticatedRole: iam.IRole;
  /** Role of guests; only meaningful with `allowGuests`. */
  public readonly guestRole: iam.IRole;
  /** The key of `Logins` in GetId / GetCredentialsForIdentity: `cognito-idp.<region>.amazonaws.com/<user pool id>`. */
  public readonly loginProvider: string;

  constructor(scope: Construct, id: string, props: UserPoolIdentityPoolProps) {
    super(scope, id);
    const roleFromToken = props.roleFromToken === false ? undefined : (props.roleFromToken ?? {});
    const providerUrl = IdentityPoolProviderUrl.userPool(props.userPool, props.userPoolClient);
    this.loginProvider = props.userPool.userPoolProviderName;
    this.identityPool = new IdentityPool(this, 'Pool', {
      allowUnauthenticatedIdentities: props.allowGuests ?? false,
      allowClassicFlow: false,
      authenticationProviders: {
        userPools: [new UserPoolAuthenticationProvider({ userPool: props.userPool, userPoolClient: props.userPoolClient })],
      },
      roleMappings:
        roleFromToken === undefined
          ? undefined
          : [
              {
                mappingKey: 'userpool',
                providerUrl,
                useToken: true,
                resolveAmbiguousRoles: (roleFromToken.withoutPreferredRole ?? 'AuthenticatedRole') === 'AuthenticatedRole',
              },
            ],
    });
    this.authenticatedRole = this.identityPool.authenticatedRole;
    this.guestRole = this.identityPool.unauthenticatedRole;
    if (props.allowGuests) {
      Validations.of(this.identityPool).acknowledge({
        id: 'AwsSolutions-COG7',
        reason:
          'Guest identities are enabled on purpose by the allowGuests prop. The guest role has only what is granted ' +
          'to guestRole, and the enhanced flow scopes guest sessions down further to a fixed list of services.',
      });
    }
  }

  /**
   * A role for signed-in users of this identity pool only (`aud` = this pool, `amr` = authenticated): give it to a
   * user pool group, and the pool hands it to the group's members.
   */
  newRole(id: string, description: string): iam.Role {
    return new iam.Role(this, id, {
      description,
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        { StringEquals: { [AUD]: this.identityPool.identityPoolId }, 'ForAnyValue:StringLike': { [AMR]: 'authenticated' } },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });
  }
}

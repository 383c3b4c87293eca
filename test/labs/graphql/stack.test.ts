import { Match, Template } from 'aws-cdk-lib/assertions';
import { GRAPHQL_LAB, NOTES_BY_AUTHOR_INDEX } from '../../../labs/graphql/constants';
import { graphqlLab } from '../../../labs/graphql/lab';
import { GraphqlLabStack } from '../../../labs/graphql/stack';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

jest.setTimeout(60_000);

const lab = withStack(graphqlLab, GraphqlLabStack);
const template = labTemplate(lab);
const resources = (type: string) => template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
const logicalId = (type: string, prefix: string) => {
  const ids = Object.keys(resources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('authorization modes', () => {
  test('user pools by default (the app client only), then API key, IAM, OIDC and a Lambda authorizer', () => {
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
      AuthenticationType: 'AMAZON_COGNITO_USER_POOLS',
      UserPoolConfig: {
        UserPoolId: { Ref: logicalId('AWS::Cognito::UserPool', 'Users') },
        DefaultAction: 'ALLOW',
        AppIdClientRegex: { 'Fn::Join': ['', ['^', { Ref: logicalId('AWS::Cognito::UserPoolClient', 'UsersUserPoolAppClient') }, '$']] },
      },
      AdditionalAuthenticationProviders: [
        Match.objectLike({ AuthenticationType: 'API_KEY' }),
        Match.objectLike({ AuthenticationType: 'AWS_IAM' }),
        {
          AuthenticationType: 'OPENID_CONNECT',
          OpenIDConnectConfig: {
            Issuer: Match.objectLike({ 'Fn::GetAtt': [logicalId('AWS::Cognito::UserPool', 'OidcIssuerPool'), 'ProviderURL'] }),
            ClientId: { Ref: logicalId('AWS::Cognito::UserPoolClient', 'OidcIssuerPoolUserPoolOidcClient') },
          },
        },
        {
          AuthenticationType: 'AWS_LAMBDA',
          LambdaAuthorizerConfig: {
            AuthorizerUri: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'Authorizer'), 'Arn'] },
            AuthorizerResultTtlInSeconds: GRAPHQL_LAB.authorizerResultTtl.toSeconds(),
            IdentityValidationExpression: GRAPHQL_LAB.lambdaTokenPattern,
          },
        },
      ],
    });
  });

  test('the OIDC issuer is a pool of its own (AppSync refuses the default mode\'s pool in an additional mode), without a domain', () => {
    expect(Object.keys(resources('AWS::Cognito::UserPool'))).toHaveLength(2);
    expect(logicalId('AWS::Cognito::UserPool', 'OidcIssuerPool')).not.toBe(logicalId('AWS::Cognito::UserPool', 'Users'));
    expect(Object.keys(resources('AWS::Cognito::UserPoolDomain'))).toEqual([expect.stringMatching(/^Users/)]);
    const outputs = template.findOutputs('*');
    expect(outputs.OidcUserPoolId.Value).toEqual({ Ref: logicalId('AWS::Cognito::UserPool', 'OidcIssuerPool') });
  });

  test('the API key leaves Expires out (AppSync: 7 days after creation), so every synth renders the same template', () => {
    const [key] = Object.values(resources('AWS::AppSync::ApiKey'));
    expect(key.Properties.Expires).toBeUndefined();
    expect(key.Properties.Description).toContain(`${GRAPHQL_LAB.apiKeyDefaultExpiryDays} days`);
  });

  test('AppSync may invoke the authorizer from this API only', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'appsync.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId('AWS::Lambda::Function', 'Authorizer'), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [logicalId('AWS::AppSync::GraphQLApi', 'NotesApi'), 'Arn'] },
    });
  });

  test('the IAM caller role may call the named fields only, no wildcard', () => {
    const policy = Object.values(resources('AWS::IAM::Policy')).find((p) => JSON.stringify(p).includes('appsync:GraphQL'))!;
    const text = JSON.stringify(policy.Properties.PolicyDocument);
    for (const field of ['Query/fields/whoAmI', 'Query/fields/getNote', 'Query/fields/listNotesByAuthor', 'Query/fields/egressIp', 'Mutation/fields/createNote']) {
      expect(text).toContain(`/types/${field}`);
    }
    expect(text).not.toMatch(/types\/[A-Za-z]+\/\*/);
    expect(text).not.toContain('updateNote');
  });

  test('an external OIDC provider given as parameters replaces the issuer pool and its client; one parameter alone is refused', () => {
    const external = testApp(
      { 'graphql:oidc-issuer': 'https://login.example.com', 'graphql:oidc-client-id': 'client-123' },
      { builtinCloudFormationValidation: false },
    );
    const externalTemplate = Template.fromStack(new GraphqlLabStack(external, { lab: graphqlLab }));
    externalTemplate.hasResourceProperties('AWS::AppSync::GraphQLApi', {
      AdditionalAuthenticationProviders: Match.arrayWith([
        { AuthenticationType: 'OPENID_CONNECT', OpenIDConnectConfig: { Issuer: 'https://login.example.com', ClientId: 'client-123' } },
      ]),
    });
    externalTemplate.resourceCountIs('AWS::Cognito::UserPool', 1);
    externalTemplate.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    const outputs = externalTemplate.findOutputs('*');
    expect(outputs.OidcIssuer.Value).toBe('https://login.example.com');
    expect(outputs.OidcClientId).toBeUndefined();
    expect(outputs.OidcUserPoolId).toBeUndefined();
    const half = testApp({ 'graphql:oidc-issuer': 'https://login.example.com' }, { builtinCloudFormationValidation: false });
    expect(() => new GraphqlLabStack(half, { lab: graphqlLab })).toThrow(LabConfigError);
    expect(() => new GraphqlLabStack(testApp({ 'graphql:oidc-issuer': 'https://a' }), { lab: graphqlLab })).toThrow(
      'missing: graphql:oidc-client-id',
    );
  });
});

describe('resolvers', () => {
  const resolvers = resources('AWS::AppSync::Resolver');
  const resolverOf = (field: string) => Object.values(resolvers).find((r) => r.Properties.FieldName === field)!.Properties;

  test.each(['whoAmI', 'getNote', 'listNotesByAuthor', 'egressIp', 'onNoteCreated', 'createNote'])('%s runs APPSYNC_JS 1.0.0 code', (field) => {
    expect(resolverOf(field)).toEqual(
      expect.objectContaining({ Runtime: { Name: 'APPSYNC_JS', RuntimeVersion: '1.0.0' }, CodeS3Location: expect.anything() }),
    );
  });

  test('updateNote is the VTL resolver: request and response mapping templates, no runtime', () => {
    const update = resolverOf('updateNote');
    expect(update.RequestMappingTemplate).toContain('"operation": "UpdateItem"');
    expect(update.ResponseMappingTemplate).toContain('ConflictError');
    expect(update.Runtime).toBeUndefined();
  });

  test('createNote is a pipeline: the authorization check first, then the write', () => {
    const functions = resources('AWS::AppSync::FunctionConfiguration');
    const id = (name: string) => Object.keys(functions).find((key) => functions[key].Properties.Name === name)!;
    expect(resolverOf('createNote')).toEqual(
      expect.objectContaining({
        Kind: 'PIPELINE',
        PipelineConfig: { Functions: [{ 'Fn::GetAtt': [id('requireWriter'), 'FunctionId'] }, { 'Fn::GetAtt': [id('putNote'), 'FunctionId'] }] },
      }),
    );
    expect(functions[id('requireWriter')].Properties.DataSourceName).toBe('Local');
    template.hasResourceProperties('AWS::AppSync::DataSource', { Name: 'Local', Type: 'NONE' });
  });

  test('Note.author is a direct Lambda resolver (no code, no templates) batching up to 10 fields per invocation', () => {
    const author = resolverOf('author');
    expect(author).toEqual(expect.objectContaining({ TypeName: 'Note', MaxBatchSize: GRAPHQL_LAB.authorBatchSize }));
    expect(author.Code ?? author.CodeS3Location ?? author.RequestMappingTemplate ?? author.RequestMappingTemplateS3Location).toBeUndefined();
    template.hasResourceProperties('AWS::AppSync::DataSource', { Type: 'AWS_LAMBDA', Name: 'AuthorsSource' });
  });

  test('the HTTP data source points at the checkip endpoint', () => {
    template.hasResourceProperties('AWS::AppSync::DataSource', { Type: 'HTTP', HttpConfig: { Endpoint: GRAPHQL_LAB.httpEndpoint } });
  });
});

describe('the notes data source', () => {
  test('its role allows exactly what the resolvers call: GetItem, PutItem, UpdateItem on the table, Query on the byAuthor index', () => {
    const notesTable = logicalId('AWS::DynamoDB::GlobalTable', 'NotesTable');
    const roleId = logicalId('AWS::IAM::Role', 'NotesSourceRole');
    template.hasResourceProperties('AWS::AppSync::DataSource', {
      Name: 'NotesSource',
      Type: 'AMAZON_DYNAMODB',
      ServiceRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    const policies = Object.values(resources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId));
    expect(policies).toHaveLength(1);
    expect((policies[0].Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [notesTable, 'Arn'] } },
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [notesTable, 'Arn'] }, `/index/${NOTES_BY_AUTHOR_INDEX}`]] },
      },
    ]);
    // No other policy names the notes table: the data source added no grant of its own.
    const others = Object.values(resources('AWS::IAM::Policy')).filter((p) => p !== policies[0] && JSON.stringify(p).includes(notesTable));
    expect(others).toEqual([]);
  });
});

describe('observability and cost', () => {
  test('field-level logs (errors, request-level content) through a role limited to a log group with a week of retention; X-Ray on', () => {
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
      XrayEnabled: true,
      LogConfig: {
        FieldLogLevel: 'ERROR',
        ExcludeVerboseContent: false,
        CloudWatchLogsRoleArn: { 'Fn::GetAtt': [logicalId('AWS::IAM::Role', 'NotesLoggingRole'), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: { 'Fn::Join': ['', ['/aws/appsync/apis/', { 'Fn::GetAtt': [logicalId('AWS::AppSync::GraphQLApi', 'NotesApi'), 'ApiId'] }]] },
      RetentionInDays: GRAPHQL_LAB.logRetentionDays,
    });
    const role = resources('AWS::IAM::Role')[logicalId('AWS::IAM::Role', 'NotesLoggingRole')];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  test('no API cache (billed by the hour), no enhanced metrics', () => {
    template.resourceCountIs('AWS::AppSync::ApiCache', 0);
    template.hasResourceProperties('AWS::AppSync::GraphQLApi', { EnhancedMetricsConfig: Match.absent() });
  });
});

describe('Amplify Hosting', () => {
  test('a WEB app without a repository, and a branch deployed by hand whose environment names the API', () => {
    const [app] = Object.values(resources('AWS::Amplify::App'));
    expect(app.Properties).toEqual(expect.objectContaining({ Platform: 'WEB' }));
    expect(app.Properties.Repository).toBeUndefined();
    template.hasResourceProperties('AWS::Amplify::Branch', {
      BranchName: GRAPHQL_LAB.branchName,
      EnableAutoBuild: false,
      EnvironmentVariables: Match.arrayWith([
        { Name: 'GRAPHQL_URL', Value: { 'Fn::GetAtt': [logicalId('AWS::AppSync::GraphQLApi', 'NotesApi'), 'GraphQLUrl'] } },
        { Name: 'GRAPHQL_API_REGION', Value: { Ref: 'AWS::Region' } },
      ]),
    });
  });

  test('no branch variable name starts with AWS (Amplify reserves the prefix and refuses the branch)', () => {
    const [branch] = Object.values(resources('AWS::Amplify::Branch'));
    const names = (branch.Properties.EnvironmentVariables as { Name: string }[]).map((variable) => variable.Name);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => /^AWS/i.test(name))).toEqual([]);
  });
});

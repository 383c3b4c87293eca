import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as amplify from 'aws-cdk-lib/aws-amplify';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { GraphqlAuthorization, SafeGraphqlApi } from '../../lib/safe-graphql-api';
import { SecureUserPool } from '../../lib/secure-user-pool';
import type { ParameterName } from '../support/define-lab';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import { GRAPHQL_LAB, NOTES_BY_AUTHOR_INDEX, OIDC_PARAMETERS } from './constants';
import type { graphqlLab } from './lab';

const resolver = (file: string) => path.join(__dirname, 'resolvers', file);
const template = (file: string) => path.join(__dirname, 'vtl', file);
const handlerEntry = (name: string) => path.join(__dirname, '..', '..', 'lambda', name, 'index.ts');

/** The external OIDC provider given as parameters, or undefined: both parameters or neither. */
function externalOidc(read: (parameter: ParameterName<typeof graphqlLab>) => string | undefined): { issuer: string; clientId: string } | undefined {
  const issuer = read(OIDC_PARAMETERS.issuerUrl);
  const clientId = read(OIDC_PARAMETERS.clientId);
  if (issuer === undefined && clientId === undefined) return undefined;
  if (issuer === undefined || clientId === undefined) {
    const missing = issuer === undefined ? OIDC_PARAMETERS.issuerUrl : OIDC_PARAMETERS.clientId;
    throw new LabConfigError(`an external OIDC provider needs both graphql:${OIDC_PARAMETERS.issuerUrl} and graphql:${OIDC_PARAMETERS.clientId}; missing: graphql:${missing}`);
  }
  return { issuer, clientId };
}

/**
 * GraphQL lab: an AppSync API over DynamoDB (APPSYNC_JS resolvers, one VTL resolver, a pipeline with an authorization
 * check before a conditional write), a direct Lambda resolver with batching, an HTTP data source and a subscription
 * with enhanced filtering; five authorization modes (Cognito user pools by default, API key, IAM, OIDC, Lambda);
 * field-level logs and X-Ray; and an Amplify Hosting app whose branch serves a small front end calling the API.
 */
export class GraphqlLabStack extends LabStack<typeof graphqlLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const lab = GRAPHQL_LAB;

    const amplifyApp = new amplify.CfnApp(this, 'FrontEnd', {
      name: `${Aws.STACK_NAME}-front-end`,
      platform: 'WEB',
      description: 'GraphQL lab: a static page calling the AppSync API, deployed from a zip (no repository)',
    });
    const frontEndUrl = `https://${lab.branchName}.${amplifyApp.attrDefaultDomain}`;

    const users = new SecureUserPool(this, 'Users', {
      deletionProtection: false,
      // The exercise signs in with ADMIN_USER_PASSWORD_AUTH; the front end reads with the API key and signs no one in.
      appClient: { callbackUrls: [lab.localCallbackUrl], adminPasswordAuth: true },
    });
    const client = users.appClient!;
    users.addGroup(lab.editorsGroup, { precedence: 1, description: 'May create and update notes' });
    users.addGroup(lab.viewersGroup, { precedence: 2, description: 'May read notes' });
    // AppSync refuses the same user pool (or OIDC issuer) in the default mode and an additional mode, so a second,
    // small pool stands in for an external OIDC provider: the OIDC mode accepts its client's ID tokens only. Created
    // only when no external provider is given as parameters.
    const external = externalOidc((parameter) => this.parameter(parameter));
    const issuerPool = external ? undefined : new SecureUserPool(this, 'OidcIssuerPool', { deletionProtection: false });
    // The exercise signs its reader in with ADMIN_USER_PASSWORD_AUTH; no hosted sign-in, so no OAuth flows at all.
    const oidcClient = issuerPool?.userPool.addClient('OidcClient', {
      authFlows: { adminUserPassword: true },
      disableOAuth: true,
      generateSecret: false,
      preventUserExistenceErrors: true,
    });
    const oidc = external ?? { issuer: issuerPool!.userPool.userPoolProviderUrl, clientId: oidcClient!.userPoolClientId };

    const authorizer = new SafeNodejsFunction(this, 'Authorizer', {
      entry: handlerEntry('graphql-authorizer'),
      description: 'AWS_LAMBDA authorizer of the GraphQL lab API',
    });

    const graphql = new SafeGraphqlApi(this, 'Notes', {
      schemaFile: path.join(__dirname, 'schema.graphql'),
      defaultAuthorization: GraphqlAuthorization.userPool(users.userPool, { appIdClientRegex: `^${client.userPoolClientId}$` }),
      additionalAuthorization: [
        GraphqlAuthorization.apiKey({ description: `GraphQL lab key (expires ${lab.apiKeyDefaultExpiryDays} days after creation)` }),
        GraphqlAuthorization.iam(),
        GraphqlAuthorization.oidc(oidc),
        GraphqlAuthorization.lambda(authorizer, {
          resultsCacheTtl: Duration.seconds(lab.authorizerResultTtl.toSeconds()),
          validationRegex: lab.lambdaTokenPattern,
        }),
      ],
      fieldLogLevel: appsync.FieldLogLevel.ERROR,
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
    });
    const api = graphql.api;

    const notes = new dynamodb.TableV2(this, 'NotesTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: NOTES_BY_AUTHOR_INDEX,
          partitionKey: { name: 'authorId', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING },
        },
      ],
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const authors = new dynamodb.TableV2(this, 'AuthorsTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The resolvers read with GetItem, write with PutItem and UpdateItem, and query the byAuthor index: a role with
    // exactly those, passed immutable so the data source adds no grant of its own (CDK's would add 12 actions).
    const notesRole = new iam.Role(this, 'NotesSourceRole', {
      assumedBy: new iam.ServicePrincipal('appsync.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'GraphQL lab: the notes data source (GetItem, PutItem, UpdateItem; Query on the byAuthor index)',
    });
    notesRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [notes.tableArn] }),
    );
    notesRole.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${notes.tableArn}/index/${NOTES_BY_AUTHOR_INDEX}`] }));
    const notesSource = new appsync.DynamoDbDataSource(this, 'NotesSource', {
      api,
      table: notes,
      name: 'NotesSource',
      description: 'The notes table',
      serviceRole: iam.Role.fromRoleArn(this, 'NotesSourceRoleRef', notesRole.roleArn, { mutable: false }),
    });
    graphql.addJsResolver('WhoAmI', { typeName: 'Query', fieldName: 'whoAmI', code: resolver('who-am-i.js') });
    graphql.addJsResolver('GetNote', { typeName: 'Query', fieldName: 'getNote', dataSource: notesSource, code: resolver('get-note.js') });
    graphql.addJsResolver('ListNotesByAuthor', {
      typeName: 'Query',
      fieldName: 'listNotesByAuthor',
      dataSource: notesSource,
      code: resolver('list-notes-by-author.js'),
    });
    const requireWriter = graphql.addJsFunction('RequireWriter', {
      name: 'requireWriter',
      dataSource: graphql.localDataSource(),
      code: resolver('require-writer.js'),
    });
    const putNote = graphql.addJsFunction('PutNote', { name: 'putNote', dataSource: notesSource, code: resolver('put-note.js') });
    graphql.addPipelineResolver('CreateNote', {
      typeName: 'Mutation',
      fieldName: 'createNote',
      functions: [requireWriter, putNote],
      code: resolver('create-note.js'),
    });
    notesSource.createResolver('UpdateNote', {
      typeName: 'Mutation',
      fieldName: 'updateNote',
      requestMappingTemplate: appsync.MappingTemplate.fromFile(template('update-note.request.vtl')),
      responseMappingTemplate: appsync.MappingTemplate.fromFile(template('update-note.response.vtl')),
    });
    graphql.addJsResolver('OnNoteCreated', { typeName: 'Subscription', fieldName: 'onNoteCreated', code: resolver('on-note-created.js') });

    const authorsFunction = new SafeNodejsFunction(this, 'Authors', {
      entry: handlerEntry('graphql-authors'),
      description: 'Direct Lambda resolver of Note.author, batched (GraphQL lab)',
      environment: { AUTHORS_TABLE_NAME: authors.tableName },
    });
    authorsFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [authors.tableArn] }));
    const authorsSource = api.addLambdaDataSource('AuthorsSource', authorsFunction, { description: 'Resolves Note.author in batches' });
    Validations.of(authorsSource).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<Authors0343F3DC.Arn>:*]',
      reason: 'CDK grants lambda:InvokeFunction on the function and its versions and aliases (<arn>:*): one function, no other',
    });
    // No code and no templates: a direct Lambda resolver. maxBatchSize makes AppSync call BatchInvoke.
    new appsync.Resolver(this, 'NoteAuthor', {
      api,
      typeName: 'Note',
      fieldName: 'author',
      dataSource: authorsSource,
      maxBatchSize: lab.authorBatchSize,
    });

    const checkIp = api.addHttpDataSource('CheckIpSource', lab.httpEndpoint, { description: 'AWS checkip endpoint' });
    graphql.addJsResolver('EgressIp', { typeName: 'Query', fieldName: 'egressIp', dataSource: checkIp, code: resolver('egress-ip.js') });

    // An IAM caller: a role the account may assume, allowed on named fields only (SigV4, AWS_IAM mode).
    const caller = new iam.Role(this, 'ApiCallerRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'GraphQL lab: calls the API with SigV4 (AWS_IAM mode) on the fields its policy names',
    });
    api.grantQuery(caller, 'whoAmI', 'getNote', 'listNotesByAuthor', 'egressIp');
    api.grantMutation(caller, 'createNote');

    new amplify.CfnBranch(this, 'FrontEndBranch', {
      appId: amplifyApp.attrAppId,
      branchName: lab.branchName,
      stage: 'DEVELOPMENT',
      enableAutoBuild: false,
      description: 'Deployed from a zip by the exercise (CreateDeployment, upload, StartDeployment)',
      // Read by Amplify builds of a connected repository; a zip deployment has no build, so the exercise writes the
      // same values into the zip's config.json.
      environmentVariables: [
        { name: 'GRAPHQL_URL', value: api.graphqlUrl },
        { name: 'GRAPHQL_API_REGION', value: Aws.REGION },
      ],
    });

    this.addOutputs({
      Region: Aws.REGION,
      ApiId: api.apiId,
      GraphqlUrl: api.graphqlUrl,
      UserPoolId: users.userPool.userPoolId,
      UserPoolClientId: client.userPoolClientId,
      OidcIssuer: oidc.issuer,
      ...(issuerPool && oidcClient ? { OidcUserPoolId: issuerPool.userPool.userPoolId, OidcClientId: oidcClient.userPoolClientId } : {}),
      ApiCallerRoleArn: caller.roleArn,
      NotesTableName: notes.tableName,
      AuthorsTableName: authors.tableName,
      ApiLogGroupName: graphql.logGroup.logGroupName,
      AmplifyAppId: amplifyApp.attrAppId,
      AmplifyBranchName: lab.branchName,
      FrontEndUrl: frontEndUrl,
    });
  }
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duration, Expiration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { GraphqlAuthorization, SafeGraphqlApi } from '../../../lib/safe-graphql-api';

/** Notes over DynamoDB, read with an API key and written by IAM callers, one APPSYNC_JS resolver per field. */
export function build(stack: Stack): void {
  // The schema and resolver code are files of the project; written here so the example stands alone.
  const dir = mkdtempSync(path.join(tmpdir(), 'safe-graphql-api-copy-'));
  const schemaFile = path.join(dir, 'schema.graphql');
  writeFileSync(schemaFile, 'type Note @aws_api_key @aws_iam { id: ID! title: String }\ntype Query { getNote(id: ID!): Note @aws_api_key @aws_iam }\n');
  const getNote = path.join(dir, 'get-note.js');
  writeFileSync(
    getNote,
    "import { util } from '@aws-appsync/utils';\n" +
      "export function request(ctx) { return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: ctx.args.id }) }; }\n" +
      'export function response(ctx) { return ctx.result; }\n',
  );
  const notes = new dynamodb.TableV2(stack, 'Notes', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  const graphql = new SafeGraphqlApi(stack, 'Api', {
    schemaFile,
    defaultAuthorization: GraphqlAuthorization.iam(),
    additionalAuthorization: [GraphqlAuthorization.apiKey({ expires: Expiration.after(Duration.days(30)) })],
  });
  const source = graphql.api.addDynamoDbDataSource('NotesSource', notes);
  graphql.addJsResolver('GetNote', { typeName: 'Query', fieldName: 'getNote', dataSource: source, code: getNote });
}

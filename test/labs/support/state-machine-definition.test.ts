import { Template } from 'aws-cdk-lib/assertions';
import {
  allStates,
  PLACEHOLDER,
  placeholderArn,
  resolveIntrinsics,
  stateMachineDefinition,
  stateMachineIds,
} from '../../../labs/support/state-machine-definition';

/** A template made by hand: one resource of each type the placeholders know, and two state machines. */
const template = Template.fromJSON({
  Resources: {
    Orders: { Type: 'AWS::SQS::Queue' },
    Alerts: { Type: 'AWS::SNS::Topic' },
    Flow: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            ['{"StartAt":"Charge","States":{"Charge":{"Type":"Task","Resource":"', { 'Fn::GetAtt': ['ChargeFn', 'Arn'] }, '","End":true}}}'],
          ],
        },
      },
    },
    Empty: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
    Waiting: { Type: 'AWS::StepFunctions::Activity' },
    OrdersApiGateway: { Type: 'AWS::ApiGateway::RestApi' },
    ChargeFn: { Type: 'AWS::Lambda::Function' },
    Table: { Type: 'AWS::DynamoDB::Table' },
    Bus: { Type: 'AWS::Events::EventBus' },
    Logs: { Type: 'AWS::Logs::LogGroup' },
    Role: { Type: 'AWS::IAM::Role' },
  },
});
const resolve = (value: unknown) => resolveIntrinsics(template, value);

test('the placeholders: partition aws, us-east-1, account 123456789012, amazonaws.com', () => {
  expect(PLACEHOLDER).toEqual({ partition: 'aws', region: 'us-east-1', account: '123456789012', urlSuffix: 'amazonaws.com' });
  expect(resolve(['AWS::Partition', 'AWS::Region', 'AWS::AccountId', 'AWS::URLSuffix', 'AWS::StackName'].map((Ref) => ({ Ref })))).toEqual([
    'aws',
    'us-east-1',
    '123456789012',
    'amazonaws.com',
    'Stack',
  ]);
});

test('Ref gives what CloudFormation returns for the type: a queue URL, an ARN, an API id, else the logical id', () => {
  expect(resolve(['Orders', 'Alerts', 'Flow', 'Waiting', 'OrdersApiGateway', 'Role'].map((Ref) => ({ Ref })))).toEqual([
    'https://sqs.us-east-1.amazonaws.com/123456789012/Orders',
    'arn:aws:sns:us-east-1:123456789012:Alerts',
    'arn:aws:states:us-east-1:123456789012:stateMachine:Flow',
    'arn:aws:states:us-east-1:123456789012:activity:Waiting',
    'ordersapig',
    'Role',
  ]);
});

test('Fn::GetAtt Arn gives the ARN of each known type', () => {
  expect(['ChargeFn', 'Orders', 'Table', 'Flow', 'Alerts', 'Bus', 'Logs'].map((id) => placeholderArn(template, id))).toEqual([
    'arn:aws:lambda:us-east-1:123456789012:function:ChargeFn',
    'arn:aws:sqs:us-east-1:123456789012:Orders',
    'arn:aws:dynamodb:us-east-1:123456789012:table/Table',
    'arn:aws:states:us-east-1:123456789012:stateMachine:Flow',
    'arn:aws:sns:us-east-1:123456789012:Alerts',
    'arn:aws:events:us-east-1:123456789012:event-bus/Bus',
    'arn:aws:logs:us-east-1:123456789012:log-group:Logs:*',
  ]);
});

test('Fn::GetAtt QueueUrl, QueueName, Name and TopicName; any other attribute or type has no placeholder', () => {
  expect(
    resolve([
      { 'Fn::GetAtt': ['Orders', 'QueueUrl'] },
      { 'Fn::GetAtt': ['Orders', 'QueueName'] },
      { 'Fn::GetAtt': ['Flow', 'Name'] },
      { 'Fn::GetAtt': ['Alerts', 'TopicName'] },
    ]),
  ).toEqual(['https://sqs.us-east-1.amazonaws.com/123456789012/Orders', 'Orders', 'Flow', 'Alerts']);
  expect(() => resolve({ 'Fn::GetAtt': ['Orders', 'Arns'] })).toThrow('no placeholder for Fn::GetAtt Orders.Arns (AWS::SQS::Queue)');
  expect(() => resolve({ 'Fn::GetAtt': ['Role', 'Arn'] })).toThrow('no placeholder for Fn::GetAtt Role.Arn (AWS::IAM::Role)');
  expect(() => resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toThrow('no placeholder for Fn::GetAtt Table.StreamArn (AWS::DynamoDB::Table)');
});

test('Fn::Join, Fn::Select and Fn::Split, nested, resolve their arguments first', () => {
  expect(resolve({ 'Fn::Join': ['/', ['queues', { Ref: 'Orders' }, 7]] })).toBe('queues/https://sqs.us-east-1.amazonaws.com/123456789012/Orders/7');
  expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Alerts', 'Arn'] }] }] })).toBe('aws');
  expect(resolve({ 'Fn::Split': ['-', 'a-b'] })).toEqual(['a', 'b']);
});

test('objects and arrays are resolved key by key, item by item; other values are kept', () => {
  expect(
    resolve({
      Queue: { Ref: 'Orders' },
      Both: { Ref: 'Orders', 'Fn::GetAtt': ['Orders', 'Arn'] },
      Other: { 'Fn::Sub': 'x' },
      List: [{ Ref: 'Alerts' }, null, 3, true, 'text'],
      Nothing: null,
    }),
  ).toEqual({
    Queue: 'https://sqs.us-east-1.amazonaws.com/123456789012/Orders',
    Both: { Ref: 'Orders', 'Fn::GetAtt': ['Orders', 'Arn'] },
    Other: { 'Fn::Sub': 'x' },
    List: ['arn:aws:sns:us-east-1:123456789012:Alerts', null, 3, true, 'text'],
    Nothing: null,
  });
});

test('a Ref or Fn::GetAtt of a resource the template does not have is an error naming it', () => {
  expect(() => resolve({ Ref: 'Missing' })).toThrow('the template has no resource Missing');
  expect(() => resolve({ 'Fn::GetAtt': ['Missing', 'Arn'] })).toThrow('the template has no resource Missing');
  expect(() => resolveIntrinsics(Template.fromJSON({}), { Ref: 'Missing' })).toThrow('the template has no resource Missing');
});

test('stateMachineIds lists the state machines only', () => {
  expect(stateMachineIds(template)).toEqual(['Flow', 'Empty']);
});

test('stateMachineDefinition parses the resolved DefinitionString', () => {
  expect(stateMachineDefinition(template, 'Flow')).toEqual({
    StartAt: 'Charge',
    States: { Charge: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:ChargeFn', End: true } },
  });
});

test('stateMachineDefinition names an unknown state machine and those there are, or one without a definition', () => {
  expect(() => stateMachineDefinition(template, 'Orders')).toThrow('no state machine Orders; the template has Flow, Empty');
  expect(() => stateMachineDefinition(template, 'Empty')).toThrow('Empty has no DefinitionString');
  const noProperties = Template.fromJSON({ Resources: { Bare: { Type: 'AWS::StepFunctions::StateMachine' } } });
  expect(() => stateMachineDefinition(noProperties, 'Bare')).toThrow('Bare has no DefinitionString');
});

test('allStates finds the states of Parallel branches and of Map item processors, new and legacy', () => {
  const states = allStates({
    States: {
      Fork: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'Left', States: { Left: { Type: 'Pass', End: true } } }, { StartAt: 'Right', States: { Right: { Type: 'Succeed' } } }],
        Next: 'Each',
      },
      Each: { Type: 'Map', ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } }, Next: 'Old' },
      Old: { Type: 'Map', Iterator: { StartAt: 'Legacy', States: { Legacy: { Type: 'Pass', End: true } } }, End: true },
    },
  });
  expect(Object.keys(states)).toEqual(['Fork', 'Left', 'Right', 'Each', 'Item', 'Old', 'Legacy']);
  expect(states.Right).toEqual({ Type: 'Succeed' });
  expect(states.Legacy).toEqual({ Type: 'Pass', End: true });
});

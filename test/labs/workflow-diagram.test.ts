import { CfnTemplate } from '../../labs/support/diagram';
import { AslDefinition } from '../../labs/support/state-machine-definition';
import { conditionText, errorList, stateMachineDiagrams, workflowDiagram } from '../../labs/support/workflow-diagram';

const LAMBDA_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'];

const definition: AslDefinition = {
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Retry: [
        { ErrorEquals: ['DeclinedError'], MaxAttempts: 0 },
        { ErrorEquals: LAMBDA_ERRORS, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.total', NumericGreaterThanEquals: 1000, Next: 'Fulfil' },
        { And: [{ Variable: '$.kind', StringEquals: 'gift' }, { Variable: '$.note', IsPresent: true }], Next: 'Fulfil' },
      ],
      Default: 'Done',
    },
    Fulfil: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Save', States: { Save: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } } },
        {
          StartAt: 'Each',
          States: {
            Each: {
              Type: 'Map',
              MaxConcurrency: 2,
              ItemProcessor: { StartAt: 'Ship', States: { Ship: { Type: 'Pass', End: true } } },
              End: true,
            },
          },
        },
      ],
      Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Failed' }],
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail' },
  },
};

const edgesOf = (mermaid: string) => mermaid.split('\n').filter((line) => /-->|-\.->/.test(line)).map((line) => line.trim());

test('draws Next, Choice rules with their conditions, Retry as one ordered loop and Catch as dashed edges', () => {
  expect(edgesOf(workflowDiagram(definition))).toEqual([
    'start((Start)) --> Charge',
    'Fulfil_0_start((Start)) --> Fulfil_0_Save',
    'Fulfil_1_start((Start)) --> Fulfil_1_Each',
    'Fulfil_1_Each_0_start((Start)) --> Fulfil_1_Each_0_Ship',
    'Charge --> Route',
    'Charge -.->|"retry, first match:<br>1. DeclinedError: never<br>2. Lambda.* (3):<br>3 × from 2 s, backoff ×2, full jitter"| Charge',
    'Charge -.->|"catch States.ALL<br>→ $.error"| Failed',
    'Route -->|"$.total ≥ 1000"| Fulfil',
    'Route -->|"$.kind = #quot;gift#quot; and $.note is present"| Fulfil',
    'Route -->|"otherwise"| Done',
    'Fulfil_0_Save --> Fulfil_0_finish',
    'Fulfil_1_Each_0_Ship --> Fulfil_1_Each_0_finish',
    'Fulfil_1_Each --> Fulfil_1_finish',
    'Fulfil --> Done',
    'Fulfil -.->|"catch States.TaskFailed"| Failed',
  ]);
});

test('nests Parallel branches and Map processors as groups, shapes a state by its type', () => {
  const diagram = workflowDiagram(definition);
  expect(diagram).toContain('  subgraph Fulfil["Fulfil<br>Parallel"]');
  expect(diagram).toContain('    subgraph Fulfil_1_Each["Each: Map, 2 at a time"]');
  expect(diagram).toContain('Fulfil_0_Save["Save<br>Task: dynamodb:putItem"]');
  expect(diagram).toContain('Route{"Route<br>Choice"}');
  expect(diagram).toContain('Done(["Done<br>Succeed"])');
});

test('reads Choice rules as a reader says them', () => {
  expect(conditionText({ Variable: '$.a', StringEqualsPath: '$.b' } as never)).toBe('$.a = $.b');
  expect(conditionText({ Not: { Variable: '$.n', NumericLessThan: 3 } } as never)).toBe('not ($.n < 3)');
  expect(conditionText({ Variable: '$.x', IsNull: false } as never)).toBe('$.x is not null');
  expect(conditionText({ Condition: '{% $states.input.total > 0 %}' } as never)).toBe('{% $states.input.total > 0 %}');
});

test('folds errors that share a service prefix, never the States.* ones', () => {
  expect(errorList([...LAMBDA_ERRORS, 'States.Timeout', 'States.TaskFailed'])).toBe('Lambda.* (3), States.Timeout, States.TaskFailed');
});

test('one diagram per state machine of a template, named by construct path and type, ARNs resolved', () => {
  const template: CfnTemplate = {
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Metadata: { 'aws:cdk:path': 'Lab/Orders/StateMachine/Resource' },
        Properties: {
          StateMachineType: 'EXPRESS',
          DefinitionString: {
            'Fn::Join': [
              '',
              ['{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '","End":true}}}'],
            ],
          },
        },
      },
    },
  };
  const [diagram] = stateMachineDiagrams(template, 'Lab');
  expect(diagram.name).toBe('Orders/StateMachine (EXPRESS)');
  expect(diagram.mermaid).toContain('A["A<br>Task: Fn"]');
});

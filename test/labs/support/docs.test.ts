import { PRICES_CHECKED } from '../../../labs/support/cost';
import { defineLab } from '../../../labs/support/define-lab';
import type { CfnTemplate } from '../../../labs/support/diagram';
import { PAGE_BEGIN, PAGE_END, renderLabArchitecture, renderLabTable, TABLE_BEGIN, TABLE_END, withFreshLabPage, withFreshLabTable } from '../../../labs/support/docs';

const notLoaded = () => Promise.reject(new Error('not loaded'));
const at = (stack: string, path: string) => ({ 'aws:cdk:path': `${stack}/${path}/Resource` });
const CAPTION = [
  'permissions and the network under a VPC are left out of the picture, dashed arrows are failure paths, metrics and',
  'events; resources of one kind with the same arrows are folded into one box ("3 × Function").',
];

const shop = defineLab({
  id: 'shop',
  title: 'Shop lab',
  stackName: 'Shop',
  seedTopics: ['sqs: queues', 'sns: topics'],
  idleCostUsdPerMonth: 7.3,
  features: { alarms: { description: 'Alarms on the queue', idleCostUsdPerMonth: 1.5 } },
  parameters: { email: { description: 'Where alarms go', pattern: /@/, expected: 'an email address' } },
  separateViews: { Audit: 'The audit trail', Side: 'On the side' },
  loadStack: notLoaded,
  loadExercise: notLoaded,
});
const shopTemplate: CfnTemplate = {
  Resources: {
    Queue1: { Type: 'AWS::SQS::Queue', Metadata: at('Shop', 'Queue') },
    Dlq1: { Type: 'AWS::SQS::Queue', Metadata: at('Shop', 'Dlq') },
    Alone1: { Type: 'AWS::SNS::Topic', Metadata: at('Shop', 'Side/Alone') },
    Trail1: { Type: 'AWS::CloudTrail::Trail', Metadata: at('Shop', 'Audit'), Properties: { SnsTopicName: { 'Fn::GetAtt': ['Log1', 'QueueName'] } } },
    Log1: { Type: 'AWS::SQS::Queue', Metadata: at('Shop', 'Audit/Log'), Properties: { KmsMasterKeyId: { Ref: 'Key1' } } },
    Key1: { Type: 'AWS::KMS::Key', Metadata: at('Shop', 'Key') },
    Alarm1: {
      Type: 'AWS::CloudWatch::Alarm',
      Metadata: at('Shop', 'Alarms/Depth'),
      Properties: { Dimensions: [{ Value: { 'Fn::GetAtt': ['Queue1', 'QueueName'] } }], AlarmActions: [{ Ref: 'Topic1' }] },
    },
    Alarm2: {
      Type: 'AWS::CloudWatch::Alarm',
      Metadata: at('Shop', 'Alarms/LogDepth'),
      Properties: { Dimensions: [{ Value: { 'Fn::GetAtt': ['Log1', 'QueueName'] } }], AlarmActions: [{ Ref: 'Topic1' }] },
    },
    Topic1: { Type: 'AWS::SNS::Topic', Metadata: at('Shop', 'Alarms/Topic') },
  },
  Outputs: { QueueUrl: {}, TopicArn: {} },
};
const shopOptionalPaths = new Set(['Alarms/Depth', 'Alarms/LogDepth', 'Alarms/Topic']);
/** What the page says of shopTemplate: the apart views are drawn from the default stack, the optional parts' view from the whole. */
const shopPage = [
  '<!-- architecture: generated from the synthesized template by `npm run docs`; do not edit -->',
  '## Architecture',
  '',
  'Drawn from the template of `Shop` with the optional parts off and `Audit`, `Side` drawn apart below; IAM policies, log groups,',
  ...CAPTION.slice(0, 1),
  `${CAPTION[1]} Without an arrow, as nothing in the template joins them to the rest: \`Dlq\`, \`Key\`, \`Queue\`.`,
  '',
  '```mermaid',
  'flowchart TB',
  '  subgraph KMS',
  '    Key["Key"]',
  '  end',
  '  subgraph SQS',
  '    Dlq["2 × Queue<br>Dlq<br>Queue"]',
  '  end',
  '  Dlq ~~~ Key',
  '```',
  '',
  '### The audit trail',
  '',
  'The resources under `Audit`; grey dashed boxes are the resources of the picture above that they join.',
  '',
  '```mermaid',
  'flowchart TB',
  '  subgraph CloudTrail',
  '    Audit["Audit"]',
  '  end',
  '  subgraph KMS',
  '    Key["Key"]',
  '  end',
  '  subgraph SQS',
  '    Audit_Log["Audit/Log"]',
  '  end',
  '  classDef context stroke-dasharray: 4 4,fill:#eee',
  '  class Key context',
  '  Audit --> Audit_Log',
  '  Audit_Log --> Key',
  '```',
  '',
  '### On the side',
  '',
  'The resources under `Side`; grey dashed boxes are the resources of the picture above that they join. Without an arrow, as nothing in the template joins them to the rest: `Side/Alone`.',
  '',
  '```mermaid',
  'flowchart TB',
  '  subgraph SNS',
  '    Side_Alone["Side/Alone"]',
  '  end',
  '```',
  '',
  '### With the optional parts',
  '',
  'What `-c shop:alarms=true` adds; grey dashed boxes are the resources of the default stack they join.',
  '',
  '```mermaid',
  'flowchart TB',
  '  subgraph CloudWatch',
  '    Alarms_Depth["Alarms/Depth"]',
  '    Alarms_LogDepth["Alarms/LogDepth"]',
  '  end',
  '  subgraph SNS',
  '    Alarms_Topic["Alarms/Topic"]',
  '  end',
  '  subgraph SQS',
  '    Audit_Log["Audit/Log"]',
  '    Queue["Queue"]',
  '  end',
  '  classDef context stroke-dasharray: 4 4,fill:#eee',
  '  class Audit_Log,Queue context',
  '  Alarms_Depth -->|"notify"| Alarms_Topic',
  '  Queue -.->|"metric"| Alarms_Depth',
  '  Alarms_LogDepth -->|"notify"| Alarms_Topic',
  '  Audit_Log -.->|"metric"| Alarms_LogDepth',
  '```',
  '',
  `**Idle cost** (us-east-1 list prices, ${PRICES_CHECKED}): $7.30/month ($0.0100/hour) with the optional parts off; \`-c shop:alarms=true\` adds $1.50/month.`,
  '',
  '**Outputs:** `QueueUrl`, `TopicArn`',
  '',
  '**Resources (9):** 1 × `AWS::CloudTrail::Trail`, 2 × `AWS::CloudWatch::Alarm`, 1 × `AWS::KMS::Key`, 2 × `AWS::SNS::Topic`, 3 × `AWS::SQS::Queue`',
  '<!-- end of generated architecture -->',
].join('\n');

test('the lab table has a row per lab: its link, stack, notes, idle cost and optional parts with their switches', () => {
  const bare = defineLab({ id: 'bare', title: 'Bare lab', stackName: 'Bare', seedTopics: [], idleCostUsdPerMonth: 0, loadStack: notLoaded, loadExercise: notLoaded });
  expect(renderLabTable([shop, bare])).toBe(
    [
      '<!-- lab table: generated from labs/catalogue.ts by `npm run docs`; do not edit -->',
      `| Lab | What it teaches | Stack | Notes sections | Idle cost (us-east-1, ${PRICES_CHECKED}) | Optional parts (idle cost) |`,
      '| --- | --- | --- | --- | --- | --- |',
      '| [shop](labs/shop/README.md) | Shop lab | `Shop` | sqs: queues; sns: topics | $7.30/month<br>$0.0100/hour | ' +
        '`-c shop:alarms=true`: Alarms on the queue (+$1.50/month)<br>`-c shop:email=<an email address>`: Where alarms go |',
      '| [bare](labs/bare/README.md) | Bare lab | `Bare` |  | $0.00/month<br>$0.0000/hour | — |',
      '<!-- end of lab table -->',
    ].join('\n'),
  );
});

test('a README gets the table between its markers, and a README without them, or with them out of order, an error', () => {
  expect(withFreshLabTable(`# Labs\n\n${TABLE_BEGIN}\nold\n${TABLE_END}\n\n## After\n`)).toBe(`# Labs\n\n${renderLabTable()}\n\n## After\n`);
  expect(withFreshLabTable(`${TABLE_BEGIN}\nold\n${TABLE_END}\n`)).toBe(`${renderLabTable()}\n`);
  const missing = `README.md lacks the lab table markers:\n${TABLE_BEGIN}\n${TABLE_END}`;
  expect(() => withFreshLabTable('# Labs')).toThrow(missing);
  expect(() => withFreshLabTable(`# Labs\n${TABLE_END}\n${TABLE_BEGIN}\n`)).toThrow(missing);
});

test('a lab page draws the default stack, each part drawn apart, and the optional parts with what they join', () => {
  expect(renderLabArchitecture(shop, shopTemplate, shopOptionalPaths)).toBe(shopPage);
});

test('optional parts that draw nothing are named, with what they cost; a lab without outputs says so', () => {
  const two = defineLab({
    id: 'two',
    title: 'Two',
    stackName: 'Two',
    seedTopics: [],
    idleCostUsdPerMonth: 1,
    features: { a: { description: 'A', idleCostUsdPerMonth: 0.5 }, b: { description: 'B', idleCostUsdPerMonth: 0.25 } },
    loadStack: notLoaded,
    loadExercise: notLoaded,
  });
  const template: CfnTemplate = {
    Resources: { Queue1: { Type: 'AWS::SQS::Queue', Metadata: at('Two', 'Queue') }, Role1: { Type: 'AWS::IAM::Role', Metadata: at('Two', 'Extra/Role') } },
  };
  expect(renderLabArchitecture(two, template, new Set(['Extra/Role']))).toBe(
    [
      PAGE_BEGIN,
      '## Architecture',
      '',
      'Drawn from the template of `Two` with the optional parts off; IAM policies, log groups,',
      ...CAPTION.slice(0, 1),
      `${CAPTION[1]} Without an arrow, as nothing in the template joins them to the rest: \`Queue\`.`,
      '',
      '```mermaid',
      'flowchart TB',
      '  subgraph SQS',
      '    Queue["Queue"]',
      '  end',
      '```',
      '',
      '### With the optional parts',
      '',
      'What `-c two:a=true`, `-c two:b=true` add is left out of the pictures (IAM, log groups, permissions).',
      '',
      `**Idle cost** (us-east-1 list prices, ${PRICES_CHECKED}): $1.00/month ($0.0014/hour) with the optional parts off; ` +
        '`-c two:a=true` adds $0.50/month; `-c two:b=true` adds $0.25/month.',
      '',
      '**Outputs:** none',
      '',
      '**Resources (2):** 1 × `AWS::IAM::Role`, 1 × `AWS::SQS::Queue`',
      PAGE_END,
    ].join('\n'),
  );
});

test('workflows and pipelines get a section each; a workflow identical to an earlier one is named, not drawn again', () => {
  const flow = defineLab({ id: 'flow', title: 'Flow', stackName: 'Flow', seedTopics: [], idleCostUsdPerMonth: 0, loadStack: notLoaded, loadExercise: notLoaded });
  const definition = JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Pass', End: true } } });
  const template: CfnTemplate = {
    Resources: {
      First1: { Type: 'AWS::StepFunctions::StateMachine', Metadata: at('Flow', 'First'), Properties: { DefinitionString: definition } },
      Second1: {
        Type: 'AWS::StepFunctions::StateMachine',
        Metadata: at('Flow', 'Second'),
        Properties: { DefinitionString: definition, StateMachineType: 'EXPRESS' },
      },
      Pipe1: {
        Type: 'AWS::CodePipeline::Pipeline',
        Metadata: at('Flow', 'Pipe'),
        Properties: { Stages: [{ Name: 'Source', Actions: [{ Name: 'Checkout', ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'S3' }, RunOrder: 1 }] }] },
      },
    },
  };
  expect(renderLabArchitecture(flow, template, new Set())).toBe(
    [
      PAGE_BEGIN,
      '## Architecture',
      '',
      'Drawn from the template of `Flow`; IAM policies, log groups,',
      ...CAPTION.slice(0, 1),
      `${CAPTION[1]} Without an arrow, as nothing in the template joins them to the rest: \`First\`, \`Pipe\`, \`Second\`.`,
      '',
      '```mermaid',
      'flowchart TB',
      '  subgraph CodePipeline',
      '    Pipe["Pipe"]',
      '  end',
      '  subgraph StepFunctions',
      '    First["2 × StateMachine<br>First<br>Second"]',
      '  end',
      '  First ~~~ Pipe',
      '```',
      '',
      '### Workflow: `First (STANDARD)`',
      '',
      'Drawn from the synthesized definition. Solid arrows are `Next`, `End` and the Choice rules; a dashed loop is the',
      "state's Retry policy (its retriers in order: the first whose errors match applies, `never` stops retrying those",
      "errors), a dashed arrow a Catch (errors → next state, and the ResultPath where the error lands in the state's output).",
      '',
      '```mermaid',
      'flowchart TD',
      '  start((Start)) --> Wait',
      '  finish((End))',
      '  Wait["Wait<br>Pass"]',
      '  Wait --> finish',
      '```',
      '',
      '### Workflow: `Second (EXPRESS)`',
      '',
      'The same definition as `First (STANDARD)`.',
      '',
      '### Pipeline: `Pipe (V1)`',
      '',
      'Drawn from the synthesized pipeline: stages top-down, actions in run order, thick arrows from one stage to the next;',
      'the deployment group shows its deployment configuration and rollback alarms, dashed arrows its lifecycle hooks.',
      '',
      '```mermaid',
      'flowchart TD',
      '  subgraph stage_Source["Stage Source"]',
      '    direction LR',
      '    stage_Source_Checkout["Checkout<br>S3 (source)"]',
      '  end',
      '```',
      '',
      `**Idle cost** (us-east-1 list prices, ${PRICES_CHECKED}): $0.00/month ($0.0000/hour) with the optional parts off.`,
      '',
      '**Outputs:** none',
      '',
      '**Resources (3):** 1 × `AWS::CodePipeline::Pipeline`, 2 × `AWS::StepFunctions::StateMachine`',
      PAGE_END,
    ].join('\n'),
  );
});

describe('a lab README', () => {
  const plain: CfnTemplate = {
    Resources: Object.fromEntries(Object.entries(shopTemplate.Resources).filter(([id]) => !['Alarm1', 'Alarm2', 'Topic1'].includes(id))),
    Outputs: shopTemplate.Outputs,
  };
  const templates = { plain, withAllFeatures: shopTemplate };

  test('gets its architecture from the template with every part on, the optional parts being what the plain one lacks', () => {
    expect(withFreshLabPage(`# Shop\n\nIntro.\n${PAGE_BEGIN}\nold\n${PAGE_END}\n\n## Deploy\n`, shop, templates)).toBe(`# Shop\n\nIntro.\n${shopPage}\n\n## Deploy\n`);
  });

  test('without the markers, or with them out of order, gets it before "## Deploy", or at the end without one', () => {
    expect(withFreshLabPage('# Shop\n\nIntro.\n\n## Deploy\n\nnpx cdk deploy\n', shop, templates)).toBe(`# Shop\n\nIntro.\n\n${shopPage}\n\n## Deploy\n\nnpx cdk deploy\n`);
    expect(withFreshLabPage('\n## Deploy\n', shop, templates)).toBe(`\n${shopPage}\n\n## Deploy\n`);
    expect(withFreshLabPage(`${PAGE_BEGIN}\nold\n${PAGE_END}\n## Deploy\n`, shop, templates)).toBe(`${shopPage}\n## Deploy\n`);
    expect(withFreshLabPage('# Shop\n\nIntro.\n\n\n', shop, templates)).toBe(`# Shop\n\nIntro.\n\n${shopPage}\n`);
    expect(withFreshLabPage(`# Shop\n${PAGE_END}\n${PAGE_BEGIN}\n`, shop, templates)).toBe(`# Shop\n${PAGE_END}\n${PAGE_BEGIN}\n\n${shopPage}\n`);
  });
});

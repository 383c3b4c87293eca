/**
 * The map from the AWS Certified Developer – Associate (DVA-C02) exam guide to the labs: each task statement and
 * skill, in the guide's words, with the lab exercise steps that practise it. `npm run docs` renders it as
 * docs/exam-guide.md; test/labs/exam-guide.test.ts checks that every step named here exists and the page is fresh.
 * A skill no lab practises has no steps: the page lists it as a gap rather than stretching a lab to cover it.
 */

/** Exercise steps of one lab (`npm run lab -- exercise <lab> --step <id>`). */
export interface Practice {
  readonly lab: string;
  readonly steps: readonly string[];
}

export interface Skill {
  readonly text: string;
  readonly practisedBy: readonly Practice[];
}

export interface TaskStatement {
  readonly id: string;
  readonly title: string;
  readonly skills: readonly Skill[];
  /**
   * Set when the skills were read from copies of the guide because the official page's list could not be read when
   * this map was made: verbatim copies, checked against each other and against the skills read from the official
   * pages. The page names them.
   */
  readonly copiedFrom?: readonly string[];
}

export interface Domain {
  readonly id: number;
  readonly title: string;
  readonly weightPercent: number;
  readonly source: string;
  readonly tasks: readonly TaskStatement[];
}

const GUIDE = 'https://docs.aws.amazon.com/aws-certification/latest/userguide';
const at = (lab: string, ...steps: string[]): Practice => ({ lab, steps });
const skill = (text: string, ...practisedBy: Practice[]): Skill => ({ text, practisedBy });
/** Two independent verbatim copies of this version of the guide: one file for all domains, one file per domain. */
const COPY_OF_GUIDE = 'https://github.com/teamcmcbot/AWS_Notes/blob/21e2021f461f7949ffba28007e9f67722bcdfb63/AWS_Certified_Developer_Associate/domain.md';
const copyOfDomain = (folder: string) =>
  `https://github.com/nextgenadarsh/wiki/blob/3e84a26f00984d8f022188c44143723e305ccf7d/aws/certifications/aws-developer/notes/${folder}/README.md`;

/** A skill AWS's revised guide adds to a task statement of the version this map follows. */
export interface AddedSkill {
  readonly task: string;
  readonly skill: Skill;
}

/** What could be read of a revised version of the guide, and what it adds to the one this map follows. */
export interface Revision {
  readonly source: string;
  readonly readable: string;
  readonly addedSkills: readonly AddedSkill[];
}

export const EXAM_GUIDE: readonly Domain[] = [
  {
    id: 1,
    title: 'Development with AWS Services',
    weightPercent: 32,
    source: `${GUIDE}/developer-associate-02-domain1.html`,
    tasks: [
      {
        id: '1.1',
        title: 'Develop code for applications hosted on AWS',
        skills: [
          skill(
            'Creating fault-tolerant and resilient applications in a programming language (for example, Java, C#, Python, JavaScript, TypeScript, Go)',
            at('stepfunctions-errors', 'retry', 'catch', 'timeout'),
            at('sqs', 'poison'),
            at('dynamodb-streams', 'poison', 'replay'),
            at('iam-sts', 'retries'),
            at('streaming', 'throttling', 'poison'),
          ),
          skill(
            'Creating, extending, and maintaining APIs (for example, response/request transformations, enforcing validation rules, overriding status codes)',
            at('apigateway', 'orders', 'feedback', 'cors'),
            at('graphql', 'notes', 'subscription', 'http'),
          ),
          skill('Writing and running unit tests in development environments (for example, using AWS Serverless Application Model [AWS SAM])'),
          skill(
            'Writing code to use messaging services',
            at('sqs', 'send-receive', 'visibility', 'delay', 'fifo'),
            at('sns-fanout', 'fan-out', 'fifo'),
            at('stepfunctions-callback', 'callback', 'worker'),
            at('ses', 'send', 'feedback', 'smtp'),
          ),
          skill('Writing code that interacts with AWS services by using APIs and AWS SDKs', at('iam-sts', 'sigv4', 'credential-chain'), at('s3', 'presigned', 'multipart'), at('athena', 'compare', 'ctas')),
          skill(
            'Handling data streaming by using AWS services',
            at('dynamodb-streams', 'view', 'change-cancel'),
            at('streaming', 'shards', 'ordering', 'iterators', 'throttling', 'consumer', 'firehose'),
          ),
        ],
      },
      {
        id: '1.2',
        title: 'Develop code for AWS Lambda',
        skills: [
          skill(
            'Configuring Lambda functions by defining environment variables and parameters (for example, memory, concurrency, timeout, runtime, handler, layers, extensions, triggers, destinations)',
            at('lambda', 'configuration'),
          ),
          skill(
            'Handling the event lifecycle and errors by using code (for example, Lambda Destinations, dead-letter queues)',
            at('lambda', 'async', 'async-failure'),
            at('sns-fanout', 'lambda'),
            at('streaming', 'poison'),
          ),
          skill('Writing and running test code by using AWS services and tools'),
          skill(
            'Integrating Lambda functions with AWS services',
            at('sqs', 'poison'),
            at('dynamodb-streams', 'view'),
            at('stepfunctions-errors', 'happy'),
            at('kms', 'function'),
            at('streaming', 'consumer', 'firehose'),
            at('observability', 'alarms', 'logs'),
            at('ecs', 'blue-green'),
          ),
          skill('Tuning Lambda functions for optimal performance'),
        ],
      },
      {
        id: '1.3',
        title: 'Use data stores in application development',
        skills: [
          skill(
            'Serializing and deserializing data to provide persistence to a data store',
            at('athena', 'upload'),
            at('dynamodb-streams', 'view'),
            at('streaming', 'firehose'),
          ),
          skill(
            'Using, managing, and maintaining data stores',
            at(
              'dynamodb-modelling',
              'table-settings',
              'get',
              'query',
              'scan-vs-query',
              'consistency',
              'transaction',
              'optimistic-locking',
              'capacity',
              'leading-keys',
              'protection',
            ),
            at('s3', 'versioning', 'configuration'),
            at('athena', 'partitions', 'compare', 'ctas'),
            at('streaming', 'opensearch'),
          ),
          skill('Managing data lifecycles', at('dynamodb-streams', 'ttl'), at('s3', 'versioning', 'multipart', 'configuration')),
          skill('Using data caching services', at('caching', 'lazy-loading', 'stale-window', 'write-through', 'stampede', 'dax')),
        ],
        copiedFrom: [copyOfDomain('domain-1-development-with-aws-services'), COPY_OF_GUIDE],
      },
    ],
  },
  {
    id: 2,
    title: 'Security',
    weightPercent: 26,
    source: `${GUIDE}/developer-associate-02-domain2.html`,
    tasks: [
      {
        id: '2.1',
        title: 'Implement authentication and/or authorization for applications and AWS services',
        skills: [
          skill('Using an identity provider to implement federated access (for example, Amazon Cognito, IAM)', at('cognito', 'group-roles', 'guest')),
          skill('Securing applications by using bearer tokens', at('cognito', 'sign-in', 'verify-jwt', 'api'), at('apigateway', 'authorizer'), at('graphql', 'auth-modes')),
          skill('Configuring programmatic access to AWS', at('iam-sts', 'credential-chain')),
          skill('Making authenticated calls to AWS services', at('iam-sts', 'sigv4'), at('streaming', 'opensearch'), at('graphql', 'auth-modes', 'http')),
          skill('Assuming an IAM role', at('iam-sts', 'assume-role', 'external-id', 'mfa'), at('streaming', 'opensearch')),
          skill(
            'Defining permissions for principals',
            at('iam-sts', 'policies', 'simulate'),
            at('kms', 'separation'),
            at('s3', 'encryption', 'tls'),
            at('ecs', 'roles'),
            at('streaming', 'opensearch'),
            at('ses', 'policy'),
          ),
        ],
      },
      {
        id: '2.2',
        title: 'Implement encryption by using AWS services',
        skills: [
          skill('Using encryption keys to encrypt or decrypt data', at('kms', 'encrypt-limit', 'envelope', 'context', 'reencrypt', 'function')),
          skill('Generating certificates and SSH keys for development purposes', at('certificates', 'import-certificate', 'private-ca')),
          skill('Using encryption across account boundaries'),
          skill('Enabling and disabling key rotation', at('kms', 'key')),
        ],
      },
      {
        id: '2.3',
        title: 'Manage sensitive data in application code',
        skills: [
          skill('Encrypting environment variables that contain sensitive data'),
          skill('Using secret management services to secure sensitive data', at('iam-sts', 'parameters'), at('ecs', 'roles')),
          skill('Sanitizing sensitive data'),
        ],
        copiedFrom: [copyOfDomain('domain-2-Security'), COPY_OF_GUIDE],
      },
    ],
  },
  {
    id: 3,
    title: 'Deployment',
    weightPercent: 24,
    source: `${GUIDE}/developer-associate-02-domain3.html`,
    tasks: [
      {
        id: '3.1',
        title: 'Prepare application artifacts to be deployed to AWS',
        skills: [
          skill(
            'Managing the dependencies of the code module (for example, environment variables, configuration files, container images) within the package',
            at('ecs', 'build'),
            at('appconfig', 'read'),
          ),
          skill(
            'Organizing files and a directory structure for application deployment',
            at('codedeploy-ec2', 'push'),
            at('beanstalk', 'application'),
          ),
          skill('Using code repositories in deployment environments', at('cicd-bluegreen', 'repository-access')),
          skill('Applying application requirements for resources (for example, memory, cores)', at('lambda', 'configuration')),
        ],
      },
      {
        id: '3.2',
        title: 'Test applications in development environments',
        skills: [
          skill('Testing deployed code by using AWS services and tools', at('cicd-bluegreen', 'live-alias'), at('ecs', 'load-balancer')),
          skill('Performing mock integration for APIs and resolving integration dependencies', at('apigateway', 'health')),
          skill('Testing applications by using development endpoints (for example, configuring stages in Amazon API Gateway)', at('apigateway', 'stages')),
          skill(
            'Deploying application stack updates to existing environments (for example, deploying an AWS SAM template to a different staging environment)',
            at('iac', 'change-set', 'rollback'),
          ),
        ],
      },
      {
        id: '3.3',
        title: 'Automate deployment testing',
        skills: [
          skill(
            'Creating application test events (for example, JSON payloads for testing Lambda, API Gateway, AWS SAM resources)',
            at('cicd-bluegreen', 'hook-bad-event'),
            at('observability', 'events'),
          ),
          skill('Deploying API resources to various environments', at('apigateway', 'stages')),
          skill(
            'Creating application environments that use approved versions for integration testing (for example, Lambda aliases, container image tags, AWS Amplify branches, AWS Copilot environments)',
            at('lambda', 'alias'),
            at('cicd-bluegreen', 'live-alias', 'ecs-listeners'),
            at('graphql', 'amplify'),
          ),
          skill(
            'Implementing and deploying infrastructure as code (IaC) templates (for example, AWS SAM templates, AWS CloudFormation templates)',
            at('iac', 'anatomy', 'import', 'nested-sam', 'change-set', 'stackset', 'cfn-init'),
          ),
          skill(
            'Managing environments in individual AWS services (for example, differentiating between development, test, and production in API Gateway)',
            at('apigateway', 'stages'),
          ),
        ],
        copiedFrom: [copyOfDomain('domain-3-deployment'), COPY_OF_GUIDE],
      },
      {
        id: '3.4',
        title: 'Deploy code by using AWS CI/CD services',
        skills: [
          skill('Updating existing IaC templates (for example, AWS SAM templates, CloudFormation templates)', at('iac', 'change-set', 'rollback')),
          skill('Managing application environments by using AWS services', at('beanstalk', 'environment-stack', 'precedence', 'swap'), at('apigateway', 'stages')),
          skill(
            'Deploying an application version by using deployment strategies',
            at('cicd-bluegreen', 'deployment-group', 'deployments'),
            at('codedeploy-ec2', 'configs', 'blue-green'),
            at('ecs', 'service', 'blue-green'),
            at('beanstalk', 'deploy', 'swap'),
            at('appconfig', 'rollout'),
          ),
          // The commit itself is the README's walk-through; these steps read what the pipeline it started deployed.
          skill('Committing code to a repository to invoke build, test, and deployment actions', at('cicd-bluegreen', 'deployments', 'ecs-listeners')),
          skill('Using orchestrated workflows to deploy code to different environments', at('cicd-bluegreen', 'deployments')),
          skill(
            'Performing application rollbacks by using existing deployment strategies',
            at('cicd-bluegreen', 'deployments'),
            at('codedeploy-ec2', 'rollback', 'alarm-rollback'),
            at('ecs', 'blue-green'),
            at('appconfig', 'rollback'),
          ),
          skill('Using labels and branches for version and release management', at('beanstalk', 'application', 'deploy'), at('cicd-bluegreen', 'repository-access')),
          skill(
            'Using existing runtime configurations to create dynamic deployments (for example, using staging variables from API Gateway in Lambda functions)',
            at('apigateway', 'stages'),
            at('appconfig', 'rollout'),
          ),
        ],
        copiedFrom: [copyOfDomain('domain-3-deployment'), COPY_OF_GUIDE],
      },
    ],
  },
  {
    id: 4,
    title: 'Troubleshooting and Optimization',
    weightPercent: 18,
    source: `${GUIDE}/developer-associate-02-domain4.html`,
    tasks: [
      {
        id: '4.1',
        title: 'Assist in a root cause analysis',
        skills: [
          skill('Debugging code to identify defects', at('iam-sts', 'decode')),
          skill('Interpreting application metrics, logs, and traces', at('observability', 'emf', 'logs', 'xray')),
          skill('Querying logs to find relevant data', at('observability', 'logs')),
          skill('Implementing custom metrics (for example, CloudWatch embedded metric format [EMF])', at('observability', 'emf', 'custom-metrics')),
          skill('Reviewing application health by using dashboards and insights', at('observability', 'dashboard')),
          skill(
            'Troubleshooting deployment failures by using service output logs',
            at('cicd-bluegreen', 'deployments'),
            at('iac', 'rollback'),
            at('ecs', 'blue-green'),
            at('codedeploy-ec2', 'rollback', 'redeploy-failed'),
          ),
        ],
      },
      {
        id: '4.2',
        title: 'Instrument code for observability',
        skills: [
          skill('Implementing an effective logging strategy to record application behavior and state', at('observability', 'logs')),
          skill('Implementing code that emits custom metrics', at('observability', 'emf', 'custom-metrics')),
          skill('Adding annotations for tracing services'),
          skill(
            'Implementing notification alerts for specific actions (for example, notifications about quota limits or deployment completions)',
            at('observability', 'alarms', 'events'),
          ),
          skill('Implementing tracing by using AWS services and tools', at('observability', 'xray')),
        ],
      },
      {
        id: '4.3',
        title: 'Optimize applications by using AWS services and features',
        skills: [
          skill('Profiling application performance'),
          skill('Determining minimum memory and compute power for an application'),
          skill('Using subscription filter policies to optimize messaging', at('sns-fanout', 'fan-out')),
          skill('Caching content based on request headers', at('s3', 'cloudfront')),
        ],
      },
    ],
  },
];

/**
 * AWS revised the guide: its pages moved to .../latest/developer-associate-02/, with skills numbered and worded as
 * commands ("Skill 3.1.1: ..."). Only the top of domain 3's page could be read when this map was made; the rest of
 * the map stays on the version above until the revised pages can be read whole.
 */
export const REVISED_GUIDE: Revision = {
  source: 'https://docs.aws.amazon.com/aws-certification/latest/developer-associate-02/developer-associate-02-domain3.md',
  readable: "the top of domain 3's page (task 3.1)",
  addedSkills: [
    {
      task: '3.1',
      skill: skill('Prepare application configurations for specific environments (for example, by using AWS AppConfig)', at('appconfig', 'environments', 'rollout')),
    },
  ],
};

const practiceText = (practices: readonly Practice[]) =>
  practices.map((p) => `[${p.lab}](../labs/${p.lab}/README.md): ${p.steps.map((s) => `\`${s}\``).join(', ')}`).join('<br>');

const GAP = '**no lab yet**';

export function renderExamGuide(guide: readonly Domain[] = EXAM_GUIDE, revision: Revision = REVISED_GUIDE): string {
  const lines = [
    '<!-- generated from labs/support/exam-guide.ts by `npm run docs`; do not edit -->',
    '# The DVA-C02 exam guide, mapped to the labs',
    '',
    'One row per task statement and skill of the AWS Certified Developer – Associate (DVA-C02) exam guide, in its words,',
    'with the lab exercise steps that practise it (`npm run lab -- exercise <lab> --step <id>`). The guide also lists',
    '"knowledge of" items per task; the labs\' READMEs explain those. Where a task\'s skills were read from copies of the',
    'guide because its official page could not be read when this map was made, a line under the domain\'s table names them.',
    '',
  ];
  const gaps: string[] = [];
  for (const domain of guide) {
    lines.push(`## Domain ${domain.id}: ${domain.title} (${domain.weightPercent} % of the scored content)`, '', `Source: ${domain.source}`, '');
    lines.push('| Task statement / skill | Practised by |', '| --- | --- |');
    for (const task of domain.tasks) {
      const taskLabs = [...new Set(task.skills.flatMap((s) => s.practisedBy).map((p) => p.lab))];
      lines.push(`| **Task ${task.id}: ${task.title}** | ${taskLabs.map((l) => `[${l}](../labs/${l}/README.md)`).join(', ') || GAP} |`);
      for (const s of task.skills) {
        lines.push(`| ${s.text} | ${practiceText(s.practisedBy) || GAP} |`);
        if (!s.practisedBy.length) gaps.push(`${task.id}: ${s.text}`);
      }
    }
    lines.push('');
    for (const task of domain.tasks) {
      if (task.copiedFrom) lines.push(`Skills of task ${task.id} read from copies of the guide, not from the official page: ${task.copiedFrom.join(', ')}`, '');
    }
  }
  lines.push(
    '## What the revised guide adds',
    '',
    `AWS has revised the guide (${revision.source}). Only ${revision.readable} could be read when this map was made; the`,
    'tables above follow the version before it. What the revision adds, as far as it could be read:',
    '',
    '| Task | Added skill | Practised by |',
    '| --- | --- | --- |',
    ...revision.addedSkills.map((a) => `| ${a.task} | ${a.skill.text} | ${practiceText(a.skill.practisedBy) || GAP} |`),
    '',
  );
  gaps.push(...revision.addedSkills.filter((a) => !a.skill.practisedBy.length).map((a) => `${a.task} (revised guide): ${a.skill.text}`));
  lines.push('## What no lab practises yet', '', ...gaps.map((g) => `- ${g}`), '');
  return lines.join('\n');
}

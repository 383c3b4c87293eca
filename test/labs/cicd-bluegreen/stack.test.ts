import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findLab } from '../../../labs/catalogue';
import { CICD_LAB, SAMPLE_APP_DIR } from '../../../labs/cicd-bluegreen/stack';
import { labTemplate } from '../../support/synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
const lab = findLab('cicd-bluegreen')!;
const template = labTemplate(lab);
const json = template.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, unknown> };
const ofType = (type: string) => Object.values(json.Resources).filter((r) => r.Type === type);
const app = (file: string) => readFileSync(path.join(SAMPLE_APP_DIR, file), 'utf8');

describe('the lab stack', () => {
  test('outputs every value the exercise and README use', () => {
    expect(Object.keys(json.Outputs).sort()).toEqual(
      [
        'AfterAllowTrafficHookName', 'AliasName', 'ArtifactBucketName', 'BeforeAllowTrafficHookName', 'BuildProjectName',
        'CodeArtifactDomain', 'CodeArtifactRepository', 'DeploymentApplicationName', 'DeploymentGroupName', 'FunctionName',
        'GreetingParameterName', 'IntegrationTestStackName', 'NotificationTopicArn', 'PipelineName', 'RepositoryCloneUrlGrc',
        'RepositoryName',
      ].sort(),
    );
  });

  test('the build reads the greeting from Parameter Store; no Secrets Manager secret unless the flag is on', () => {
    const build = ofType('AWS::CodeBuild::Project').find((p) => JSON.stringify(p.Properties.Name).includes('Delivery-build'))!;
    const variables = (build.Properties.Environment as { EnvironmentVariables: { Name: string; Type: string }[] }).EnvironmentVariables;
    expect(variables.find((v) => v.Name === 'GREETING')?.Type).toBe('PARAMETER_STORE');
    expect(variables.find((v) => v.Name === 'API_TOKEN')).toBeUndefined();
    expect(ofType('AWS::SecretsManager::Secret')).toHaveLength(0);
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: CICD_LAB.initialGreeting });
  });

  test('3 alarms, the idle cost the catalogue declares ($0.10 each)', () => {
    expect(ofType('AWS::CloudWatch::Alarm')).toHaveLength(3);
    expect(lab.idleCostUsdPerMonth).toBeCloseTo(0.3);
  });

  test('the live alias is what CodeDeploy shifts, with canary 10% for 5 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: CICD_LAB.aliasName });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
  });

  test('the artifact bucket empties itself on destroy; report groups delete their reports', () => {
    expect(ofType('Custom::S3AutoDeleteObjects')).toHaveLength(1);
    expect(ofType('AWS::CodeBuild::ReportGroup').every((g) => g.Properties.DeleteReports === true)).toBe(true);
  });
});

describe('the sample app the pipeline deploys', () => {
  test('buildspec.yml: version 0.2, the four phases, env of every kind, reports, artifacts and cache', () => {
    const spec = parse(app('buildspec.yml'));
    expect(spec.version).toBe(0.2);
    expect(Object.keys(spec.phases)).toEqual(['install', 'pre_build', 'build', 'post_build']);
    for (const phase of Object.values(spec.phases) as { commands?: unknown[] }[]) {
      expect(Array.isArray(phase.commands) && phase.commands.every((c) => typeof c === 'string')).toBe(true);
    }
    expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: 22 });
    expect(spec.phases.install.commands.join('\n')).toContain('aws codeartifact login --tool npm');
    expect(Object.keys(spec.env)).toEqual(['shell', 'variables', 'exported-variables']);
    expect(spec.env['exported-variables']).toEqual(['RELEASE']);
    expect(spec.reports['unit-tests']).toEqual({ files: ['unit.xml'], 'base-directory': 'reports', 'file-format': 'JUNITXML' });
    expect(spec.artifacts.files).toEqual(expect.arrayContaining(['function.zip', 'appspec.yml', 'buildspec-test.yml', 'integration-test.template.json']));
    expect(spec.cache.paths).toEqual(['/root/.npm/**/*']);
    // The variables the construct provides at project level are used by the build.
    expect(app('buildspec.yml')).toMatch(/\$\{GREETING:-Hello\}/);
  });

  test('buildspec-test.yml: the smoke tests with a JUnit report group', () => {
    const spec = parse(app('buildspec-test.yml'));
    expect(spec.version).toBe(0.2);
    expect(spec.phases.build.commands.join('\n')).toContain('smoke/');
    expect(spec.reports['smoke-tests']['file-format']).toBe('JUNITXML');
  });

  test('the report keys of both buildspecs are the report groups the construct creates', () => {
    const groups = ofType('AWS::CodeBuild::ReportGroup').map((g) => JSON.stringify(g.Properties.Name));
    expect(groups.some((g) => g.includes(`build-${Object.keys(parse(app('buildspec.yml')).reports)[0]}`))).toBe(true);
    expect(groups.some((g) => g.includes(`test-${Object.keys(parse(app('buildspec-test.yml')).reports)[0]}`))).toBe(true);
  });

  test('appspec.yml: a Lambda AppSpec with the keys CodeDeploy requires and both traffic hooks', () => {
    const spec = parse(app('appspec.yml'));
    expect(spec.version).toBe(0); // YAML reads `0.0` as the number 0; CodeDeploy reads the file itself
    expect(app('appspec.yml')).toMatch(/^version: 0\.0$/m);
    expect(spec.Resources).toHaveLength(1);
    const [resource] = Object.values(spec.Resources[0]) as { Type: string; Properties: Record<string, string> }[];
    expect(resource.Type).toBe('AWS::Lambda::Function');
    expect(Object.keys(resource.Properties).sort()).toEqual(['Alias', 'CurrentVersion', 'Name', 'TargetVersion']);
    expect(spec.Hooks.map((h: object) => Object.keys(h)[0])).toEqual(['BeforeAllowTraffic', 'AfterAllowTraffic']);
  });

  test('every placeholder of appspec.yml is one the deploy action fills in', () => {
    const yamlLines = app('appspec.yml').split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
    const placeholders = [...yamlLines.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
    const deploy = ofType('AWS::CodeBuild::Project').find((p) => String(p.Properties.Description).startsWith('Deploy stage'))!;
    const script = JSON.parse((deploy.Properties.Source as { BuildSpec: string }).BuildSpec).phases.build.commands.join('\n');
    for (const name of placeholders) expect(script).toContain(`s|{{${name}}}|`);
    expect(placeholders.sort()).toEqual(['AfterAllowTrafficHook', 'AliasName', 'BeforeAllowTrafficHook', 'CurrentVersion', 'FunctionName', 'TargetVersion']);
  });

  test('the integration-test template declares the output the smoke tests read', () => {
    const cfn = JSON.parse(app('integration-test.template.json'));
    expect(cfn.Outputs.ParameterName).toBeDefined();
    expect(cfn.Resources.UnderTest.Properties.Name).toEqual({ 'Fn::Sub': '/${AWS::StackName}/under-test' });
  });

  test("the app's own unit tests, appspec check and smoke tests pass as the pipeline runs them", () => {
    const work = mkdtempSync(path.join(tmpdir(), 'cicd-app-'));
    try {
      cpSync(SAMPLE_APP_DIR, work, { recursive: true });
      const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: work, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      // scripts/check-appspec.js imports `yaml`: resolve it from this repository's node_modules.
      cpSync(path.join(__dirname, '../../../node_modules/yaml'), path.join(work, 'node_modules/yaml'), { recursive: true });
      expect(run(['scripts/check-appspec.js', 'appspec.yml'])).toContain('a Lambda AppSpec with hooks BeforeAllowTraffic, AfterAllowTraffic');
      expect(run(['--test', 'test/'])).toMatch(/# fail 0/);
      cpSync(path.join(work, 'src'), path.join(work, 'dist'), { recursive: true });
      expect(run(['--test', 'smoke/'])).toMatch(/# pass 2\n# fail 0/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('the repository is seeded with the app folder and nothing built', () => {
    expect(existsSync(path.join(SAMPLE_APP_DIR, 'dist'))).toBe(false);
    expect(existsSync(path.join(SAMPLE_APP_DIR, 'node_modules'))).toBe(false);
    expect(readdirSync(SAMPLE_APP_DIR).sort()).toEqual(
      ['appspec.yml', 'buildspec-test.yml', 'buildspec.yml', 'integration-test.template.json', 'package-lock.json', 'package.json', 'scripts', 'smoke', 'src', 'test'].sort(),
    );
    template.hasResourceProperties('AWS::CodeCommit::Repository', { Code: { BranchName: 'main' } });
  });
});

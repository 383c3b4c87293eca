import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { LabDefinition } from '../../labs/catalogue';
import { LoadedLab, loadLabs } from '../../labs/support/app';
import { idleCostOf, perMonth } from '../../labs/support/cost';
import type { CfnTemplate } from '../../labs/support/diagram';
import { featureContextKey, KEEP_ON_DESTROY, LAB_LOG_RETENTION } from '../../labs/support/lab-stack';
import { expectToMatchFileSnapshot } from '../support/file-snapshot';
import { stackClassOf } from '../support/lab-template';
import { REPO_ROOT, synthLab, SynthesizedLab } from '../support/synth';
import { maskMachineHashes } from '../../lib/testing';

/**
 * Physical-name properties: a literal one makes a second deployment (another Region, a teammate's) collide.
 * Not physical names: labels, references to predefined things, and names scoped to their parent resource.
 */
const NAME_PROPERTY = /^(Name|[A-Z][A-Za-z]*Name)$/;
const NOT_PHYSICAL_NAMES = new Set(['AttributeName', 'IndexName', 'MetricName', 'KeyName', 'DisplayName', 'DeploymentConfigName']);
const SCOPED_NAMES: Record<string, string[]> = {
  'AWS::IAM::Policy': ['PolicyName'],
  'AWS::ApplicationAutoScaling::ScalingPolicy': ['PolicyName'],
  'AWS::ApiGateway::Stage': ['StageName'],
  'AWS::ApiGateway::Deployment': ['StageName'],
  'AWS::Lambda::Alias': ['Name'],
  'AWS::ApiGateway::Authorizer': ['Name'],
  'AWS::ApiGatewayV2::Stage': ['StageName'],
  'AWS::ApiGatewayV2::Authorizer': ['Name'],
  'AWS::Cognito::UserPoolGroup': ['GroupName'],
  'AWS::AppConfig::Environment': ['Name'],
  'AWS::AppSync::DataSource': ['Name'],
  'AWS::AppSync::FunctionConfiguration': ['Name', 'DataSourceName'],
  'AWS::AppSync::Resolver': ['TypeName', 'FieldName', 'DataSourceName'],
  'AWS::Amplify::Branch': ['BranchName'],
  // Every user group needs a user named `default`; the user's id (derived from the stack here) is its physical name.
  'AWS::ElastiCache::User': ['UserName'],
  'AWS::AppConfig::ConfigurationProfile': ['Name'],
  // The name the certificate is for, not the certificate's own: two stacks may each request one for the same domain.
  'AWS::CertificateManager::Certificate': ['DomainName'],
};
const isPhysicalName = (type: string, key: string) =>
  NAME_PROPERTY.test(key) && !NOT_PHYSICAL_NAMES.has(key) && !(SCOPED_NAMES[type] ?? []).includes(key);
const RETAINED = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/**
 * What every lab owes: a clean synth with optional parts off and on, its snapshots, nothing retained, no hard-coded
 * names, the idle cost it declares, an exercise and a README. The labs are checked in three files
 * (catalogue-labs-*.test.ts), a third each, so three jest workers share the synths instead of one doing them all.
 */
export function checkLabs(labs: readonly LabDefinition[]): void {
  describe.each(labs.map((lab) => [lab.id, lab] as const))('lab %s', (_id, lab) => {
    const variants = lab.features.length > 0 ? [false, true] : [false];
    // The stack class (and aws-cdk-lib) is loaded here, not by the catalogue.
    let loaded: LoadedLab;
    beforeAll(async () => {
      [loaded] = await loadLabs([lab]);
    });
    const synthesized = new Map<boolean, SynthesizedLab>();
    const synthOnce = (allFeatures: boolean) => {
      if (!synthesized.has(allFeatures)) synthesized.set(allFeatures, synthLab(loaded, { allFeatures }));
      return synthesized.get(allFeatures) as SynthesizedLab;
    };

    describe.each(variants.map((v) => [v ? 'all features on' : 'features off', v] as const))('%s', (_name, allFeatures) => {
      test('synthesizes with zero unacknowledged cdk-nag findings, validation findings or warnings', () => {
        expect(synthOnce(allFeatures).findings).toEqual([]);
      });

      // One file per lab and variant (test/labs/<id>/__snapshots__/), so a construct change shows as a diff per lab.
      const snapshot = path.join(REPO_ROOT, 'test', 'labs', lab.id, '__snapshots__', `${allFeatures ? 'all-features' : 'default'}.template.json`);
      test(`matches its snapshot ${path.relative(REPO_ROOT, snapshot)} (asset hashes masked)`, () => {
        expectToMatchFileSnapshot(maskMachineHashes(synthOnce(allFeatures).template.toJSON()), snapshot);
      });

      test('retains nothing on destroy but account-wide settings kept with a stated reason', () => {
        const resources = synthOnce(allFeatures).template.toJSON().Resources as Record<string, Record<string, unknown>>;
        const retained = Object.entries(resources)
          .filter(([, r]) => RETAINED.has(r.DeletionPolicy as string) || RETAINED.has(r.UpdateReplacePolicy as string))
          .filter(([, r]) => !(r.Metadata as Record<string, string> | undefined)?.[KEEP_ON_DESTROY]?.length)
          .map(([id]) => id);
        expect(retained).toEqual([]);
      });

      test('every function logs to a log group the stack deletes', () => {
        const resources = synthOnce(allFeatures).template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
        const declaredLogGroups = JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup'));
        const orphans = Object.entries(resources)
          .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && !(r.Properties?.LoggingConfig as { LogGroup?: unknown })?.LogGroup)
          .filter(([id]) => !declaredLogGroups.includes(`["/aws/lambda/",{"Ref":"${id}"}]`))
          .map(([id]) => id);
        expect(orphans).toEqual([]);
      });

      test('every VPC has the shape labVpc gives: rejected traffic logged for a week, default security group emptied, no NAT', () => {
        type Resource = { Type: string; Properties?: Record<string, unknown> };
        const resources = synthOnce(allFeatures).template.toJSON().Resources as Record<string, Resource>;
        const of = (type: string) => Object.values(resources).filter((r) => r.Type === type);
        const kept = (group: unknown) => resources[(group as { Ref?: string })?.Ref ?? '']?.Properties?.RetentionInDays === LAB_LOG_RETENTION;
        const logged = new Set(
          of('AWS::EC2::FlowLog')
            .filter((log) => log.Properties?.TrafficType === 'REJECT' && kept(log.Properties?.LogGroupName))
            .map((log) => JSON.stringify(log.Properties?.ResourceId)),
        );
        const emptied = new Set(of('Custom::VpcRestrictDefaultSG').map((r) => JSON.stringify(r.Properties?.DefaultSecurityGroupId)));
        const unlike = Object.keys(resources)
          .filter((id) => resources[id].Type === 'AWS::EC2::VPC')
          .filter((id) => !logged.has(JSON.stringify({ Ref: id })) || !emptied.has(JSON.stringify({ 'Fn::GetAtt': [id, 'DefaultSecurityGroup'] })));
        expect(unlike).toEqual([]);
        expect(of('AWS::EC2::NatGateway')).toEqual([]);
        expect(of('AWS::EC2::Route').filter((route) => route.Properties?.NatGatewayId || route.Properties?.InstanceId)).toEqual([]);
      });

      test('hard-codes no physical name', () => {
        const resources = synthOnce(allFeatures).template.toJSON().Resources as Record<string, { Type: string; Properties?: object }>;
        const literalNames = Object.entries(resources).flatMap(([id, r]) =>
          Object.entries(r.Properties ?? {})
            .filter(([key, value]) => isPhysicalName(r.Type, key) && typeof value === 'string')
            .map(([key, value]) => `${id}.${key}=${value}`),
        );
        expect(literalNames).toEqual([]);
      });
    });

    test(`labs/${lab.id}/stack.ts exports ${lab.stackName}Stack, the class its loadStack gives (tests load it by that name)`, () => {
      expect(stackClassOf(lab)).toBe(loaded.stack);
    });

    test(`stack ${lab.stackName} is tagged lab=${lab.id}`, () => {
      expect(synthOnce(false).stack.tags.tagValues()).toMatchObject({ lab: lab.id });
    });

    test(`costs the declared ${perMonth(lab.idleCostUsdPerMonth)} while idle, priced from its template`, () => {
      expect(idleCostOf(synthOnce(false).template.toJSON() as CfnTemplate).usdPerMonth).toBeCloseTo(lab.idleCostUsdPerMonth, 2);
    });

    for (const feature of lab.features) {
      // Each feature alone, as a learner deploys it: cdk-nag and validation too (a finding makes the synth throw).
      test(`feature ${feature.name} synthesizes clean alone, changes the template and adds the idle cost it declares`, () => {
        const off = synthOnce(false).template.toJSON() as CfnTemplate;
        // A lab's only optional part alone is the all-on variant, already synthesized (a finding shows under both).
        const alone = lab.features.length === 1 ? synthOnce(true) : synthLab(loaded, { context: { [featureContextKey(lab.id, feature.name)]: true } });
        expect(alone.findings).toEqual([]);
        const on = alone.template.toJSON() as CfnTemplate;
        expect(on).not.toEqual(off);
        expect(idleCostOf(on).usdPerMonth - idleCostOf(off).usdPerMonth).toBeCloseTo(feature.idleCostUsdPerMonth, 2);
      });
    }

    test('has a README that teaches deploy, exercise, destroy and every optional part with its cost', () => {
      const readmePath = path.join(REPO_ROOT, 'labs', lab.id, 'README.md');
      expect(existsSync(readmePath)).toBe(true);
      const readme = readFileSync(readmePath, 'utf8');
      expect(readme).toContain(`npx cdk deploy ${lab.stackName}`);
      expect(readme).toContain(`npm run lab -- exercise ${lab.id}`);
      expect(readme).toContain(`npx cdk destroy ${lab.stackName}`);
      for (const feature of lab.features) {
        expect(readme).toContain(featureContextKey(lab.id, feature.name));
        expect(readme).toContain(`$${feature.idleCostUsdPerMonth.toFixed(2)}`);
      }
      for (const parameter of lab.parameters ?? []) expect(readme).toContain(featureContextKey(lab.id, parameter.name));
    });

    test('has an exercise whose steps have unique ids', async () => {
      const ids = (await lab.loadExercise()).steps.map((s) => s.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
}

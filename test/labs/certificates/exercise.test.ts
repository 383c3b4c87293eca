import {
  ACMClient,
  AddTagsToCertificateCommand,
  CertificateDetail,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ExportCertificateCommand,
  GetAccountConfigurationCommand,
  ImportCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  Tag,
} from '@aws-sdk/client-acm';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, GetMetricStatisticsCommand, MetricAlarm, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeRuleCommand, EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { CERTIFICATES_LAB } from '../../../labs/certificates/constants';
import { httpsGet, steps, timing } from '../../../labs/certificates/exercise';
import { certificatesLab } from '../../../labs/certificates/lab';
import { createRootCa, issueServerCertificate, IssuedCertificate, parsePemBundle } from '../../../labs/certificates/offline-pki';
import { ExerciseCheckFailed, ExerciseRunOptions, LabNotReady, provide, runExercise } from '../../../labs/support/exercise';
import { labTemplate } from '../../support/lab-template';

const lab = certificatesLab;
/** The event pattern of the lab's rule as synthesized: the exercise tests the real one. */
const RULE_PATTERN = JSON.stringify(
  Object.values(labTemplate(lab).findResources('AWS::Events::Rule'))[0].Properties.EventPattern,
);

const acmMock = mockClient(ACMClient);
const cloudWatchMock = mockClient(CloudWatchClient);
const eventBridgeMock = mockClient(EventBridgeClient);

const ACCOUNT = '111122223333';
const CA_ARN = `arn:aws:acm-pca:us-east-1:${ACCOUNT}:certificate-authority/lab`;
const PRIVATE_ARN = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/private`;
const PUBLIC_ARN = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/public`;
const PRIVATE_DOMAIN = 'service.CertificatesLab.internal';
const TOPIC_ARN = `arn:aws:sns:us-east-1:${ACCOUNT}:ExpiryTopic`;

interface StoredCertificate {
  detail: CertificateDetail;
  tags: Tag[];
  pem?: string;
  chain?: string;
  exported?: boolean;
}

/** An in-memory ACM, CloudWatch and EventBridge with the behaviour the exercise relies on. */
class FakeAws {
  readonly certificates = new Map<string, StoredCertificate>();
  readonly alarms = new Map<string, MetricAlarm>();
  daysBeforeExpiry: number | undefined = undefined;
  rulePattern = RULE_PATTERN;
  /** Deviations a negative test switches on. */
  readonly faults = {
    importShiftsExpiryMs: 0,
    importNewArnEachTime: false,
    deleteIgnored: false,
    renewImported: false,
    exportPlainKey: false,
    /** ACM keeps an exported private certificate INELIGIBLE. */
    exportLeavesIneligible: false,
  };
  /** How many DescribeCertificate calls after an export still read INELIGIBLE: ACM updates it shortly after. */
  eligibleAfterDescribes = 0;
  private nextId = 0;

  constructor() {
    const acm = acmMock.reset();
    acm.on(ImportCertificateCommand).callsFake(async (input) => {
      if (input.CertificateArn && input.Tags) throw Object.assign(new Error('Tags cannot be applied when re-importing'), { name: 'ValidationException' });
      const [leaf] = parsePemBundle(Buffer.from(input.Certificate).toString());
      const arn = (!this.faults.importNewArnEachTime && input.CertificateArn) || `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/imported-${++this.nextId}`;
      const existing = this.certificates.get(arn);
      this.certificates.set(arn, {
        tags: existing?.tags ?? input.Tags ?? [],
        detail: {
          CertificateArn: arn,
          DomainName: leaf.subjectName.getField('CN')[0],
          Type: 'IMPORTED',
          Status: 'ISSUED',
          KeyAlgorithm: 'EC_prime256v1',
          NotAfter: new Date(leaf.notAfter.getTime() + this.faults.importShiftsExpiryMs),
          RenewalEligibility: this.faults.renewImported ? 'ELIGIBLE' : 'INELIGIBLE',
        },
      });
      return { CertificateArn: arn };
    });
    acm.on(ListCertificatesCommand).callsFake(async (input) => {
      // Without Includes.keyTypes, ACM lists RSA 2048 certificates only.
      const keyTypes: string[] = input.Includes?.keyTypes ?? ['RSA_2048'];
      const listed = [...this.certificates.values()].filter((c) => keyTypes.includes(c.detail.KeyAlgorithm ?? ''));
      return { CertificateSummaryList: listed.map(({ detail }) => ({ CertificateArn: detail.CertificateArn, DomainName: detail.DomainName, Type: detail.Type })) };
    });
    acm.on(ListTagsForCertificateCommand).callsFake(async (input) => ({ Tags: this.find(input.CertificateArn).tags }));
    acm.on(DescribeCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      if (stored.exported && !this.faults.exportLeavesIneligible && this.eligibleAfterDescribes-- <= 0) stored.detail.RenewalEligibility = 'ELIGIBLE';
      return { Certificate: { ...stored.detail } };
    });
    acm.on(AddTagsToCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      stored.tags = [...stored.tags.filter((tag) => !(input.Tags ?? []).some((added: Tag) => added.Key === tag.Key)), ...(input.Tags ?? [])];
      return {};
    });
    acm.on(DeleteCertificateCommand).callsFake(async (input) => {
      if (!this.faults.deleteIgnored) this.certificates.delete(input.CertificateArn ?? '');
      return {};
    });
    acm.on(GetAccountConfigurationCommand).callsFake(async () => (this.daysBeforeExpiry ? { ExpiryEvents: { DaysBeforeExpiry: this.daysBeforeExpiry } } : {}));
    acm.on(ExportCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      check(Buffer.from(input.Passphrase).length >= 4, 'passphrase too short');
      const label = this.faults.exportPlainKey ? 'PRIVATE KEY' : 'ENCRYPTED PRIVATE KEY';
      stored.exported = true;
      return { Certificate: stored.pem, CertificateChain: stored.chain, PrivateKey: `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----` };
    });

    const cloudWatch = cloudWatchMock.reset();
    cloudWatch.on(PutMetricAlarmCommand).callsFake(async (input) => {
      this.alarms.set(input.AlarmName, { ...input, StateValue: 'INSUFFICIENT_DATA' } as MetricAlarm);
      return {};
    });
    cloudWatch.on(DescribeAlarmsCommand).callsFake(async (input) => ({
      MetricAlarms: (input.AlarmNames ?? []).flatMap((name: string) => (this.alarms.has(name) ? [this.alarms.get(name)] : [])),
    }));
    cloudWatch.on(DeleteAlarmsCommand).callsFake(async (input) => {
      for (const name of input.AlarmNames ?? []) this.alarms.delete(name);
      return {};
    });
    cloudWatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });

    const eventBridge = eventBridgeMock.reset();
    eventBridge.on(DescribeRuleCommand).callsFake(async () => ({ EventPattern: this.rulePattern }));
    eventBridge.on(TestEventPatternCommand).callsFake(async (input) => ({ Result: matches(JSON.parse(input.EventPattern), JSON.parse(input.Event)) }));
  }

  find(arn: string | undefined): StoredCertificate {
    const stored = this.certificates.get(arn ?? '');
    if (!stored) throw Object.assign(new Error(`Could not find certificate ${arn}`), { name: 'ResourceNotFoundException' });
    return stored;
  }

  imported(): StoredCertificate[] {
    return [...this.certificates.values()].filter((c) => c.detail.Type === 'IMPORTED');
  }
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** EventBridge matching for the patterns this lab uses: a list of allowed values per field, nested objects. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, allowed]) =>
    Array.isArray(allowed) ? allowed.includes(event[key]) : matches(allowed as Record<string, unknown>, (event[key] ?? {}) as Record<string, unknown>),
  );
}

let aws: FakeAws;
let privateCa: IssuedCertificate;
let privateLeaf: IssuedCertificate;
const lines: string[] = [];
const step = (id: string) => [steps.find((s) => s.id === id)!];
const STACK_NAME = 'CertificatesLab';
const ALARM_NAME = `${STACK_NAME}-imported-days-to-expiry`;
const baseOutputs = { StackName: STACK_NAME, ExpiryTopicArn: TOPIC_ARN, ExpiryRuleName: 'CertificatesLab-ExpiryRule' };
const shortTiming = provide(timing, { renewalEligibilityPollSeconds: 0.01, renewalEligibilityDeadlineSeconds: 0.2 });
const pcaOutputs = () => ({
  PrivateCaArn: CA_ARN,
  PrivateCaCertificatePem: privateCa.certificate.toString('pem'),
  PrivateCertificateArn: PRIVATE_ARN,
  PrivateCertificateDomain: PRIVATE_DOMAIN,
});
const publicOutputs = { PublicCertificateArn: PUBLIC_ARN, CustomDomainUrl: 'https://api.example.com/' };
const answer = (domainName: string, status = 200) => provide(httpsGet, async () => ({ status, body: JSON.stringify({ message: 'hello over TLS', domainName }) }));
const options = (outputs: Record<string, string> = baseOutputs, provided = [answer('api.example.com')]): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  provide: [shortTiming, ...provided],
});
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);

beforeAll(async () => {
  privateCa = await createRootCa({ commonName: CERTIFICATES_LAB.privateCaName, validityDays: 730 });
  privateLeaf = await issueServerCertificate(privateCa, { domainName: PRIVATE_DOMAIN, validityDays: 395 });
});

beforeEach(() => {
  lines.length = 0;
  aws = new FakeAws();
  aws.certificates.set(PRIVATE_ARN, {
    tags: [],
    pem: privateLeaf.certificate.toString('pem'),
    chain: privateCa.certificate.toString('pem'),
    // Requested from the CA, never exported, in use by nothing: ACM would not renew it yet.
    detail: { CertificateArn: PRIVATE_ARN, Type: 'PRIVATE', Status: 'ISSUED', CertificateAuthorityArn: CA_ARN, RenewalEligibility: 'INELIGIBLE', KeyAlgorithm: 'EC_prime256v1', InUseBy: [] },
  });
  aws.certificates.set(PUBLIC_ARN, {
    tags: [],
    detail: {
      CertificateArn: PUBLIC_ARN,
      Type: 'AMAZON_ISSUED',
      Status: 'ISSUED',
      KeyAlgorithm: 'RSA_2048',
      RenewalEligibility: 'ELIGIBLE',
      InUseBy: [`arn:aws:apigateway:us-east-1::/domainnames/api.example.com`],
      DomainValidationOptions: [{ DomainName: 'api.example.com', ValidationMethod: 'DNS', ValidationStatus: 'SUCCESS', ResourceRecord: { Name: '_x.api.example.com.', Type: 'CNAME', Value: '_y.acm-validations.aws.' } }],
    },
  });
});

describe('every step against the doubles, in the order of a whole run', () => {
  test('imports, monitors, checks the private and public certificates, then leaves nothing behind', async () => {
    await runExercise(steps, options({ ...baseOutputs, ...pcaOutputs(), ...publicOutputs }));
    expect(aws.imported()).toEqual([]);
    expect(aws.alarms.size).toBe(0);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^verified offline: CN=service\.CertificatesLab\.internal → CN=Certificates lab private root CA$/)]));
  });

  test('without pca and without a domain, the private-ca and public-certificate steps explain and skip', async () => {
    await runExercise([...step('private-ca'), ...step('public-certificate')], options());
    expect(lines.filter((l) => !l.startsWith('\n=='))).toEqual([
      expect.stringContaining('the pca feature is off'),
      expect.stringContaining('no public certificate: deploy with -c certificates:domain=<name> -c certificates:hosted-zone-id=<zone id>'),
    ]);
  });
});

describe('import-certificate', () => {
  test('imports a 20-day certificate with the lab tag, alarms on its DaysToExpiry, and re-imports into the same ARN', async () => {
    await runExercise(step('import-certificate'), options());
    const [first] = aws.imported();
    expect(first.tags).toEqual([{ Key: 'certificates-lab-stack', Value: STACK_NAME }]);
    expect(first.detail.DomainName).toBe(CERTIFICATES_LAB.importedDomainName);
    expect(Math.round(((first.detail.NotAfter?.getTime() ?? 0) - Date.now()) / 86_400_000)).toBe(20);
    const alarm = aws.alarms.get(ALARM_NAME);
    expect(alarm).toMatchObject({
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: first.detail.CertificateArn }],
      Statistic: 'Minimum',
      Period: 86_400,
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [TOPIC_ARN],
    });
    await runExercise(step('import-certificate'), options());
    expect(aws.imported().map((c) => c.detail.CertificateArn)).toEqual([first.detail.CertificateArn]);
    expect(lines).toEqual(expect.arrayContaining([`re-imported into ${first.detail.CertificateArn}: an imported certificate costs nothing in ACM`]));
  });

  test('fails when ACM records another expiry than the certificate\'s', async () => {
    aws.faults.importShiftsExpiryMs = 86_400_000;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toMatch(/^ACM says it expires .+, the certificate says .+$/);
  });

  test('fails when ACM would renew an imported certificate', async () => {
    aws.faults.renewImported = true;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toBe("RenewalEligibility is ELIGIBLE: ACM never renews an imported certificate");
  });

  test('fails when a re-import lands in another ARN', async () => {
    await runExercise(step('import-certificate'), options());
    aws.faults.importNewArnEachTime = true;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toMatch(/^re-importing into \S+ gave another ARN, \S+$/);
  });
});

describe('expiry-monitoring', () => {
  test('passes once the certificate is imported and the alarm created', async () => {
    await runExercise([...step('import-certificate'), ...step('expiry-monitoring')], options());
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringContaining('DaysToExpiry: no datapoint yet'),
      expect.stringContaining('TestEventPattern: rule CertificatesLab-ExpiryRule matches the expiry event of this certificate and not ACM\'s other events'),
    ]));
  });

  test('says what to run when nothing was imported', async () => {
    const failure = await failureOf(runExercise(step('expiry-monitoring'), options()));
    expect(failure).toBeInstanceOf(LabNotReady);
    expect(failure?.message).toBe('no certificate imported by the lab: run npm run lab -- exercise certificates import-certificate');
  });

  test('fails when the alarm watches another certificate', async () => {
    await runExercise(step('import-certificate'), options());
    const alarm = aws.alarms.get(ALARM_NAME)!;
    aws.alarms.set(alarm.AlarmName!, { ...alarm, Dimensions: [{ Name: 'CertificateArn', Value: PUBLIC_ARN }] });
    const failure = await failureOf(runExercise(step('expiry-monitoring'), options()));
    expect(failure?.message).toMatch(/^the alarm watches certificate .+\/public, not the imported .+$/);
  });

  test('fails when the rule matches every ACM event, not just the expiry one', async () => {
    await runExercise(step('import-certificate'), options());
    aws.rulePattern = JSON.stringify({ source: ['aws.acm'] });
    const failure = await failureOf(runExercise(step('expiry-monitoring'), options()));
    expect(failure?.message).toBe('rule CertificatesLab-ExpiryRule also matches ACM\'s other events ("ACM Certificate Available")');
  });

  test('fails when the rule misses the expiry event', async () => {
    await runExercise(step('import-certificate'), options());
    aws.rulePattern = JSON.stringify({ source: ['aws.acm'], 'detail-type': ['ACM Certificate Expired'] });
    const failure = await failureOf(runExercise(step('expiry-monitoring'), options()));
    expect(failure?.message).toBe('rule CertificatesLab-ExpiryRule does not match ACM\'s "ACM Certificate Approaching Expiration" event');
  });

  test('fails when the account starts expiry events later than the certificate\'s remaining days', async () => {
    await runExercise(step('import-certificate'), options());
    aws.daysBeforeExpiry = 10;
    const failure = await failureOf(runExercise(step('expiry-monitoring'), options()));
    expect(failure?.message).toMatch(/^the certificate expires in 19 days, outside the 10 days before expiry in which ACM sends events$/);
  });
});

describe('private-ca', () => {
  const runPrivateCa = () => failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs() })));

  test('INELIGIBLE before its first export, ELIGIBLE once exported (read again until ACM says so); a second run expects ELIGIBLE', async () => {
    aws.eligibleAfterDescribes = 2;
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining([
      'RenewalEligibility INELIGIBLE: never exported and in use by nothing, ACM would let it expire',
      expect.stringMatching(/^RenewalEligibility ELIGIBLE \d+\.\d s after the export: ACM now renews it from 60 days before expiry/),
    ]));
    expect(aws.find(PRIVATE_ARN).tags).toEqual([CERTIFICATES_LAB.exportedTag]);
    lines.length = 0;
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining(['RenewalEligibility ELIGIBLE before this export: an earlier run exported it']));
  });

  test('fails when a certificate never exported and not in use reads ELIGIBLE', async () => {
    aws.find(PRIVATE_ARN).detail.RenewalEligibility = 'ELIGIBLE';
    expect((await runPrivateCa())?.message).toBe(
      'RenewalEligibility is ELIGIBLE, but the exercise never exported the certificate and nothing uses it: ACM renews a private certificate only ' +
        'once it is exported or in use (exported it by hand? tag it certificates-lab-exported=true)',
    );
  });

  test('fails when the certificate stays INELIGIBLE after its export', async () => {
    aws.faults.exportLeavesIneligible = true;
    const failure = await runPrivateCa();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toMatch(/^RenewalEligibility is still INELIGIBLE \d+\.\d s after ExportCertificate: ACM renews an exported private certificate$/);
  });

  test('fails when a certificate an earlier run exported reads INELIGIBLE', async () => {
    aws.find(PRIVATE_ARN).tags = [{ ...CERTIFICATES_LAB.exportedTag }];
    expect((await runPrivateCa())?.message).toBe('RenewalEligibility is INELIGIBLE although the certificate was exported already: ACM should renew it');
  });

  test('a certificate in use is ELIGIBLE before any export', async () => {
    Object.assign(aws.find(PRIVATE_ARN).detail, { RenewalEligibility: 'ELIGIBLE', InUseBy: ['arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal/1'] });
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining(['RenewalEligibility ELIGIBLE before this export: in use by arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal/1']));
  });

  test('fails when the exported chain leads to another root than the lab CA\'s', async () => {
    const other = await createRootCa({ commonName: CERTIFICATES_LAB.privateCaName, validityDays: 730 });
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs(), PrivateCaCertificatePem: other.certificate.toString('pem') })));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toMatch(/^the exported certificate does not verify against the lab CA's certificate: \[OfflinePki.UntrustedRoot\]/);
  });

  test('fails when the exported private key is not encrypted with the passphrase', async () => {
    aws.faults.exportPlainKey = true;
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs() })));
    expect(failure?.message).toBe('ExportCertificate returned a private key that is not encrypted with the passphrase');
  });

  test('fails when the certificate was issued by another CA', async () => {
    aws.find(PRIVATE_ARN).detail.CertificateAuthorityArn = `${CA_ARN}-other`;
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs() })));
    expect(failure?.message).toBe(`the certificate was issued by ${CA_ARN}-other, not the lab's CA ${CA_ARN}`);
  });

  test('fails when the certificate is for another name', async () => {
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs(), PrivateCertificateDomain: 'other.internal' })));
    expect(failure?.message).toBe('the certificate names service.certificateslab.internal, not other.internal');
  });
});

describe('public-certificate', () => {
  const run = (provided = answer('api.example.com')) => failureOf(runExercise(step('public-certificate'), options({ ...baseOutputs, ...publicOutputs }, [provided])));

  test('passes on an issued, DNS-validated certificate in use, and a 200 for the domain', async () => {
    expect(await run()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining([expect.stringContaining('validated by the CNAME _x.api.example.com. → _y.acm-validations.aws.')]));
  });

  test('fails while validation is pending', async () => {
    Object.assign(aws.find(PUBLIC_ARN).detail, { Status: 'PENDING_VALIDATION' });
    expect((await run())?.message).toBe('the public certificate is AMAZON_ISSUED PENDING_VALIDATION, not AMAZON_ISSUED ISSUED');
  });

  test('fails when nothing uses the certificate, so ACM would not renew it', async () => {
    aws.find(PUBLIC_ARN).detail.InUseBy = [];
    expect((await run())?.message).toBe('the certificate is in use by nothing: ACM renews only certificates in use');
  });

  test('fails when the API answers for another name or with an error', async () => {
    expect((await run(answer('abc.execute-api.us-east-1.amazonaws.com')))?.message).toBe('the API answered for abc.execute-api.us-east-1.amazonaws.com, not api.example.com');
    expect((await run(answer('api.example.com', 403)))?.message).toBe('GET https://api.example.com/ answered 403');
  });
});

describe('remove-imported', () => {
  test('two deployments of the lab in one account keep their own certificate and alarm', async () => {
    const other = { ...baseOutputs, StackName: 'CertificatesLabBob' };
    await runExercise(step('import-certificate'), options());
    await runExercise(step('import-certificate'), options(other));
    expect(aws.imported().map((c) => c.tags)).toEqual([
      [{ Key: 'certificates-lab-stack', Value: STACK_NAME }],
      [{ Key: 'certificates-lab-stack', Value: 'CertificatesLabBob' }],
    ]);
    expect([...aws.alarms.keys()]).toEqual([ALARM_NAME, 'CertificatesLabBob-imported-days-to-expiry']);
    await runExercise(step('remove-imported'), options());
    expect(aws.imported().map((c) => c.tags[0].Value)).toEqual(['CertificatesLabBob']);
    expect([...aws.alarms.keys()]).toEqual(['CertificatesLabBob-imported-days-to-expiry']);
    await runExercise(step('expiry-monitoring'), options(other));
  });

  test('fails when a certificate survives DeleteCertificate', async () => {
    await runExercise(step('import-certificate'), options());
    aws.faults.deleteIgnored = true;
    const failure = await failureOf(runExercise(step('remove-imported'), options()));
    expect(failure?.message).toMatch(/^ACM still lists arn:aws:acm:us-east-1:111122223333:certificate\/imported-1 after DeleteCertificate$/);
  });
});

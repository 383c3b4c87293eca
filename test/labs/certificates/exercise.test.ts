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
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { CERTIFICATES_LAB } from '../../../labs/certificates/constants';
import { httpsGet, steps, timing } from '../../../labs/certificates/exercise';
import { certificatesLab } from '../../../labs/certificates/lab';
import { createRootCa, issueServerCertificate, IssuedCertificate, parsePemBundle } from '../../../labs/certificates/offline-pki';
import { ExerciseCheckFailed, ExerciseRunOptions, LabNotReady, provide, runExercise, startExerciseRun } from '../../../labs/support/exercise';
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
/** The public certificate ACM issued (it renews it from 60 days before this date). */
const PUBLIC_NOT_AFTER = new Date('2027-03-14T23:59:59.000Z');
/** ListCertificates answers this many certificates a page, then a NextToken (MaxItems, which the exercise does not set). */
const LIST_PAGE_SIZE = 1;

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
  rulePattern: string | undefined = RULE_PATTERN;
  /** ACM's DaysToExpiry datapoints, per certificate: GetMetricStatistics answers those of the period asked for. */
  readonly datapoints: { arn: string; timestamp: Date; minimum: number }[] = [];
  /** The events TestEventPattern was given. */
  readonly testedEvents: Record<string, unknown>[] = [];
  /** Certificates DeleteCertificate removed (what they were, for the assertions of a test). */
  readonly deleted: StoredCertificate[] = [];
  /** Deviations a negative test switches on. */
  readonly faults = {
    importShiftsExpiryMs: 0,
    importNewArnEachTime: false,
    importReturnsNoArn: false,
    deleteIgnored: false,
    renewImported: false,
    exportPlainKey: false,
    exportNoCertificate: false,
    /** ACM keeps an exported private certificate INELIGIBLE. */
    exportLeavesIneligible: false,
    /** DescribeCertificate answers no certificate for these ARNs. */
    describeNothingFor: [] as string[],
  };
  /** How many DescribeCertificate calls after an export still read INELIGIBLE: ACM updates it shortly after. */
  eligibleAfterDescribes = 0;
  /** DescribeCertificate calls after the private certificate's export. */
  describesAfterExport = 0;
  private nextId = 0;

  constructor() {
    const acm = acmMock.reset();
    acm.on(ImportCertificateCommand).callsFake(async (input) => {
      if (input.CertificateArn && input.Tags) throw Object.assign(new Error('Tags cannot be applied when re-importing'), { name: 'ValidationException' });
      const [leaf] = parsePemBundle(Buffer.from(input.Certificate).toString());
      if (input.CertificateArn) this.find(input.CertificateArn);
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
      return this.faults.importReturnsNoArn ? {} : { CertificateArn: arn };
    });
    acm.on(ListCertificatesCommand).callsFake(async (input) => {
      // Without Includes.keyTypes, ACM lists RSA 2048 certificates only; a page at a time, the next one by NextToken.
      const keyTypes: string[] = input.Includes?.keyTypes ?? ['RSA_2048'];
      const listed = [...this.certificates.values()].filter((c) => keyTypes.includes(c.detail.KeyAlgorithm ?? ''));
      const start = input.NextToken === undefined ? 0 : Number(Buffer.from(input.NextToken, 'base64').toString().replace(/^page-/, ''));
      if (!Number.isInteger(start)) throw Object.assign(new Error('Invalid NextToken'), { name: 'InvalidArgsException' });
      const page = listed.slice(start, start + LIST_PAGE_SIZE);
      return {
        CertificateSummaryList: page.map(({ detail }) => ({
          CertificateArn: detail.CertificateArn,
          DomainName: detail.DomainName,
          Type: detail.Type,
          KeyAlgorithm: detail.KeyAlgorithm,
          Status: detail.Status,
          NotAfter: detail.NotAfter,
          InUse: (detail.InUseBy ?? []).length > 0,
        })),
        NextToken: start + LIST_PAGE_SIZE < listed.length ? Buffer.from(`page-${start + LIST_PAGE_SIZE}`).toString('base64') : undefined,
      };
    });
    acm.on(ListTagsForCertificateCommand).callsFake(async (input) => ({ Tags: this.find(input.CertificateArn).tags }));
    acm.on(DescribeCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      if (this.faults.describeNothingFor.includes(input.CertificateArn)) return {};
      if (stored.exported) this.describesAfterExport += 1;
      if (stored.exported && !this.faults.exportLeavesIneligible && this.eligibleAfterDescribes-- <= 0) stored.detail.RenewalEligibility = 'ELIGIBLE';
      return { Certificate: { ...stored.detail } };
    });
    acm.on(AddTagsToCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      stored.tags = [...stored.tags.filter((tag) => !(input.Tags ?? []).some((added: Tag) => added.Key === tag.Key)), ...(input.Tags ?? [])];
      return {};
    });
    acm.on(DeleteCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      if (!this.faults.deleteIgnored) {
        this.certificates.delete(input.CertificateArn ?? '');
        this.deleted.push(stored);
      }
      return {};
    });
    acm.on(GetAccountConfigurationCommand).callsFake(async () => (this.daysBeforeExpiry ? { ExpiryEvents: { DaysBeforeExpiry: this.daysBeforeExpiry } } : {}));
    acm.on(ExportCertificateCommand).callsFake(async (input) => {
      const stored = this.find(input.CertificateArn);
      check(Buffer.from(input.Passphrase).length >= 4, 'passphrase too short');
      const label = this.faults.exportPlainKey ? 'PRIVATE KEY' : 'ENCRYPTED PRIVATE KEY';
      stored.exported = true;
      return { Certificate: this.faults.exportNoCertificate ? undefined : stored.pem, CertificateChain: stored.chain, PrivateKey: `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----` };
    });

    const cloudWatch = cloudWatchMock.reset();
    cloudWatch.on(PutMetricAlarmCommand).callsFake(async (input) => {
      // A new alarm starts INSUFFICIENT_DATA, with the reason CloudWatch gives before its first evaluation.
      this.alarms.set(input.AlarmName, {
        ...input,
        AlarmArn: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${input.AlarmName}`,
        StateValue: 'INSUFFICIENT_DATA',
        StateReason: 'Unchecked: Initial alarm creation',
      } as MetricAlarm);
      return {};
    });
    cloudWatch.on(DescribeAlarmsCommand).callsFake(async (input) => ({
      MetricAlarms: (input.AlarmNames ?? []).flatMap((name: string) => (this.alarms.has(name) ? [this.alarms.get(name)] : [])),
    }));
    cloudWatch.on(DeleteAlarmsCommand).callsFake(async (input) => {
      for (const name of input.AlarmNames ?? []) this.alarms.delete(name);
      return {};
    });
    cloudWatch.on(GetMetricStatisticsCommand).callsFake(async (input) => {
      if (input.Period % 60 !== 0) throw Object.assign(new Error('The parameter Period must be a multiple of 60.'), { name: 'InvalidParameterValueException' });
      const arn = (input.Dimensions ?? []).find((d: { Name: string }) => d.Name === 'CertificateArn')?.Value;
      const acmMetric = input.Namespace === 'AWS/CertificateManager' && input.MetricName === 'DaysToExpiry' && (input.Dimensions ?? []).length === 1;
      const inPeriod = (t: Date) => t >= input.StartTime && t < input.EndTime;
      return {
        Label: input.MetricName,
        Datapoints: this.datapoints
          .filter((d) => acmMetric && d.arn === arn && inPeriod(d.timestamp))
          .map((d) => ({ Timestamp: d.timestamp, Unit: 'None', ...((input.Statistics ?? []).includes('Minimum') ? { Minimum: d.minimum } : {}) })),
      };
    });

    const eventBridge = eventBridgeMock.reset();
    eventBridge.on(DescribeRuleCommand).callsFake(async (input) => {
      if (input.Name !== baseOutputs.ExpiryRuleName) throw Object.assign(new Error(`Rule ${input.Name} does not exist on EventBus default.`), { name: 'ResourceNotFoundException' });
      return { Name: input.Name, EventPattern: this.rulePattern, State: 'ENABLED' };
    });
    eventBridge.on(TestEventPatternCommand).callsFake(async (input) => {
      const event = JSON.parse(input.Event) as Record<string, unknown>;
      // The fields TestEventPattern requires of an event.
      const missing = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'].filter((field) => event[field] === undefined);
      if (missing.length > 0) throw Object.assign(new Error(`Parameter(s) ${missing.join(', ')} must be specified`), { name: 'InvalidEventPatternException' });
      this.testedEvents.push(event);
      return { Result: matches(JSON.parse(input.EventPattern), event) };
    });
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
/** The run's id (a fixed one: it names the expiry event the exercise tests). */
const RUN_ID = 'run-certs01';
const options = (outputs: Record<string, string> = baseOutputs, provided = [answer('api.example.com')]): ExerciseRunOptions => ({
  outputs,
  runId: RUN_ID,
  log: (line) => lines.push(line),
  provide: [shortTiming, ...provided],
});
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);

beforeAll(async () => {
  privateCa = await createRootCa({ commonName: CERTIFICATES_LAB.privateCaName, validityDays: 730 });
  privateLeaf = await issueServerCertificate(privateCa, { domainName: PRIVATE_DOMAIN, subjectAlternativeNames: ['Api.CertificatesLab.internal'], validityDays: 395 });
});

beforeEach(() => {
  lines.length = 0;
  aws = new FakeAws();
  aws.certificates.set(PRIVATE_ARN, {
    tags: [],
    pem: privateLeaf.certificate.toString('pem'),
    chain: privateCa.certificate.toString('pem'),
    // Requested from the CA, never exported, in use by nothing: ACM would not renew it yet.
    detail: { CertificateArn: PRIVATE_ARN, Type: 'PRIVATE', Status: 'ISSUED', CertificateAuthorityArn: CA_ARN, RenewalEligibility: 'INELIGIBLE', KeyAlgorithm: 'EC_prime256v1', InUseBy: [], DomainName: PRIVATE_DOMAIN, NotAfter: privateLeaf.certificate.notAfter },
  });
  aws.certificates.set(PUBLIC_ARN, {
    tags: [],
    detail: {
      CertificateArn: PUBLIC_ARN,
      Type: 'AMAZON_ISSUED',
      Status: 'ISSUED',
      KeyAlgorithm: 'RSA_2048',
      DomainName: 'api.example.com',
      NotAfter: PUBLIC_NOT_AFTER,
      RenewalEligibility: 'ELIGIBLE',
      InUseBy: [`arn:aws:apigateway:us-east-1::/domainnames/api.example.com`, `arn:aws:apigateway:us-east-1::/domainnames/api.example.com+abc123`],
      DomainValidationOptions: [{ DomainName: 'api.example.com', ValidationMethod: 'DNS', ValidationStatus: 'SUCCESS', ResourceRecord: { Name: '_x.api.example.com.', Type: 'CNAME', Value: '_y.acm-validations.aws.' } }],
    },
  });
});


const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
/** The stored certificate the lab imported (deleted or not). */
const importedOf = (arn: string) => [...aws.imported(), ...aws.deleted].find((c) => c.detail.CertificateArn === arn)!;
const IMPORTED_1 = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/imported-1`;

describe('every step against the doubles, in the order of a whole run', () => {
  test('imports, monitors, checks the private and public certificates, then leaves nothing behind', async () => {
    await runExercise(steps, options({ ...baseOutputs, ...pcaOutputs(), ...publicOutputs }));
    expect(aws.imported()).toEqual([]);
    expect(aws.alarms.size).toBe(0);
    const expires = importedOf(IMPORTED_1).detail.NotAfter!;
    expect(Math.round((expires.getTime() - Date.now()) / 86_400_000)).toBe(20);
    expect(lines.map((line) => line.replace(/ELIGIBLE \d+\.\d s after/, 'ELIGIBLE N s after'))).toEqual([
      '\n== 1/5 import-certificate: make a CA and a certificate offline, import them into ACM, alarm on DaysToExpiry',
      'made offline: a root CA "CN=Certificates lab offline root CA" and a server certificate for imported.certificates-lab.internal valid 20 days; the chain verifies',
      `imported as ${IMPORTED_1}: an imported certificate costs nothing in ACM`,
      `DescribeCertificate: IMPORTED, EC_prime256v1, expires ${expires.toISOString()} (in 19 days), RenewalEligibility INELIGIBLE`,
      'alarm CertificatesLab-imported-days-to-expiry: DaysToExpiry (daily minimum) < 30 → the expiry topic; $0.10/month until the remove-imported step deletes it',
      '\n== 2/5 expiry-monitoring: the alarm, the DaysToExpiry metric, the expiry window and the EventBridge rule',
      'alarm CertificatesLab-imported-days-to-expiry: INSUFFICIENT_DATA (Unchecked: Initial alarm creation)',
      'DaysToExpiry: no datapoint yet (ACM publishes it once a day); run this step again tomorrow',
      'account configuration: ACM sends "ACM Certificate Approaching Expiration" daily from 45 days before expiry (PutAccountConfiguration sets 1–45); this certificate is at 19',
      'TestEventPattern: rule CertificatesLab-ExpiryRule matches the expiry event of this certificate and not ACM\'s other events',
      '\n== 3/5 private-ca: a private certificate from the lab CA: export it and verify its chain offline',
      `DescribeCertificate: PRIVATE, ISSUED by ${CA_ARN}, valid until ${privateLeaf.certificate.notAfter.toISOString()}`,
      'RenewalEligibility INELIGIBLE: never exported and in use by nothing, ACM would let it expire',
      'ExportCertificate: certificate, chain and the private key encrypted with a passphrase (the first export bills the one-time private certificate fee)',
      'RenewalEligibility ELIGIBLE N s after the export: ACM now renews it from 60 days before expiry (export the renewed certificate again to install it)',
      'verified offline: CN=service.CertificatesLab.internal → CN=Certificates lab private root CA',
      'against another root of the same name: refused (OfflinePki.UntrustedRoot)',
      '\n== 4/5 public-certificate: a DNS-validated public certificate on the API custom domain',
      'DescribeCertificate: ISSUED, validated by the CNAME _x.api.example.com. → _y.acm-validations.aws. (keep it: renewal checks it again)',
      'in use by arn:aws:apigateway:us-east-1::/domainnames/api.example.com, arn:aws:apigateway:us-east-1::/domainnames/api.example.com+abc123; renewal ELIGIBLE; valid until 2027-03-14T23:59:59.000Z',
      'GET https://api.example.com/: 200 over TLS with the ACM certificate, which Node trusted without being told anything',
      '\n== 5/5 remove-imported: delete the alarm and the imported certificate',
      'deleted the alarm CertificatesLab-imported-days-to-expiry and 1 imported certificate(s): nothing of the exercise is left for cdk destroy to miss',
    ]);
    // The events expiry-monitoring tested against the rule: ACM's expiry event for the imported certificate, then another of ACM's events.
    const event = (detailType: string) => ({
      version: '0',
      id: `${RUN_ID}-expiry`,
      'detail-type': detailType,
      source: 'aws.acm',
      account: ACCOUNT,
      time: expect.stringMatching(ISO),
      region: 'us-east-1',
      resources: [IMPORTED_1],
      detail: { DaysToExpiry: 19, CommonName: 'imported.certificates-lab.internal' },
    });
    expect(aws.testedEvents).toEqual([event('ACM Certificate Approaching Expiration'), event('ACM Certificate Available')]);
    expect(Math.abs(Date.parse(String(aws.testedEvents[0].time)) - Date.now())).toBeLessThan(60_000);
  });

  test('without pca and without a domain, the private-ca and public-certificate steps explain and skip', async () => {
    await runExercise([...step('private-ca'), ...step('public-certificate')], options());
    expect(lines).toEqual([
      '\n== 1/2 private-ca: a private certificate from the lab CA: export it and verify its chain offline',
      'the pca feature is off: nothing to check ($400/month while on; see the README before deploying with -c certificates:pca=true)',
      '\n== 2/2 public-certificate: a DNS-validated public certificate on the API custom domain',
      'no public certificate: deploy with -c certificates:domain=<name> -c certificates:hosted-zone-id=<zone id> (a public hosted zone of this account) to request one',
    ]);
  });

  test('the public-certificate step calls the custom domain with fetch, by default', async () => {
    const server = createServer((request, response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ path: request.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const run = startExerciseRun({ outputs: baseOutputs, log: () => undefined });
    try {
      const get = await run.context.use(httpsGet);
      expect(await get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hello`)).toEqual({ status: 201, body: '{"path":"/hello"}' });
    } finally {
      await run.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('import-certificate', () => {
  test('imports a 20-day certificate with the lab tag, alarms on its DaysToExpiry, and re-imports into the same ARN', async () => {
    await runExercise(step('import-certificate'), options());
    const [first] = aws.imported();
    expect(first.tags).toEqual([{ Key: 'certificates-lab-stack', Value: STACK_NAME }]);
    expect(first.detail.DomainName).toBe(CERTIFICATES_LAB.importedDomainName);
    expect(Math.round(((first.detail.NotAfter?.getTime() ?? 0) - Date.now()) / 86_400_000)).toBe(20);
    expect(aws.alarms.get(ALARM_NAME)).toEqual({
      AlarmName: ALARM_NAME,
      AlarmArn: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${ALARM_NAME}`,
      AlarmDescription: 'The certificate the certificates lab imported expires in less than 30 days',
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: first.detail.CertificateArn }],
      Statistic: 'Minimum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [TOPIC_ARN],
      OKActions: [TOPIC_ARN],
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
    });
    lines.length = 0;
    await runExercise(step('import-certificate'), options());
    expect(aws.imported().map((c) => c.detail.CertificateArn)).toEqual([IMPORTED_1]);
    expect(aws.imported()[0].tags).toEqual([{ Key: 'certificates-lab-stack', Value: STACK_NAME }]);
    expect(lines[2]).toBe(`re-imported into ${IMPORTED_1}: an imported certificate costs nothing in ACM`);
  });

  test('finds the certificate to re-import on a later page of ListCertificates', async () => {
    // Certificates of another stack first: the lab's is on the third page.
    await runExercise(step('import-certificate'), options({ ...baseOutputs, StackName: 'CertificatesLabBob' }));
    await runExercise(step('import-certificate'), options());
    await runExercise(step('import-certificate'), options());
    expect(aws.imported().map((c) => `${c.detail.CertificateArn?.split('/')[1]} ${c.tags[0].Value}`)).toEqual(['imported-1 CertificatesLabBob', 'imported-2 CertificatesLab']);
  });

  test('fails when ImportCertificate returns no ARN', async () => {
    aws.faults.importReturnsNoArn = true;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('ImportCertificate returned no ARN');
  });

  test('fails when DescribeCertificate returns nothing', async () => {
    aws.faults.describeNothingFor = [IMPORTED_1];
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(`DescribeCertificate returned nothing for ${IMPORTED_1}`);
  });

  test('fails when ACM does not describe the certificate as imported', async () => {
    const describeAs = (Type: string) => acmMock.on(DescribeCertificateCommand).callsFake(async (input) => ({ Certificate: { ...aws.find(input.CertificateArn).detail, Type } }));
    describeAs('AMAZON_ISSUED');
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toBe('ACM lists the certificate as AMAZON_ISSUED, not IMPORTED');
  });

  test('fails when ACM records another expiry than the certificate\'s', async () => {
    aws.faults.importShiftsExpiryMs = 86_400_000;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    const recorded = aws.find(IMPORTED_1).detail.NotAfter!;
    expect(failure?.message).toBe(`ACM says it expires ${recorded.toISOString()}, the certificate says ${new Date(recorded.getTime() - 86_400_000).toISOString()}`);
  });

  test('fails when ACM records no expiry', async () => {
    acmMock.on(DescribeCertificateCommand).callsFake(async (input) => ({ Certificate: { ...aws.find(input.CertificateArn).detail, NotAfter: undefined } }));
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toBe(`ACM says it expires undefined, the certificate says ${aws.find(IMPORTED_1).detail.NotAfter?.toISOString()}`);
  });

  test('fails when ACM would renew an imported certificate', async () => {
    aws.faults.renewImported = true;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toBe('RenewalEligibility is ELIGIBLE: ACM never renews an imported certificate');
  });

  test('fails when a re-import lands in another ARN', async () => {
    await runExercise(step('import-certificate'), options());
    aws.faults.importNewArnEachTime = true;
    const failure = await failureOf(runExercise(step('import-certificate'), options()));
    expect(failure?.message).toBe(`re-importing into ${IMPORTED_1} gave another ARN, arn:aws:acm:us-east-1:${ACCOUNT}:certificate/imported-2`);
  });
});

describe('expiry-monitoring', () => {
  const monitor = () => failureOf(runExercise(step('expiry-monitoring'), options()));
  const importThen = async () => {
    await runExercise(step('import-certificate'), options());
    lines.length = 0;
  };
  const changeAlarm = (change: Partial<MetricAlarm>) => aws.alarms.set(ALARM_NAME, { ...aws.alarms.get(ALARM_NAME)!, ...change });

  test('passes once the certificate is imported and the alarm created', async () => {
    await importThen();
    expect(await monitor()).toBeUndefined();
    expect(lines.slice(1)).toEqual([
      'alarm CertificatesLab-imported-days-to-expiry: INSUFFICIENT_DATA (Unchecked: Initial alarm creation)',
      'DaysToExpiry: no datapoint yet (ACM publishes it once a day); run this step again tomorrow',
      'account configuration: ACM sends "ACM Certificate Approaching Expiration" daily from 45 days before expiry (PutAccountConfiguration sets 1–45); this certificate is at 19',
      'TestEventPattern: rule CertificatesLab-ExpiryRule matches the expiry event of this certificate and not ACM\'s other events',
    ]);
  });

  test('prints the newest DaysToExpiry datapoint of the certificate from the last three days, and the alarm\'s state', async () => {
    await importThen();
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    aws.datapoints.push(
      { arn: IMPORTED_1, timestamp: daysAgo(2), minimum: 21 },
      { arn: IMPORTED_1, timestamp: daysAgo(1), minimum: 20 },
      { arn: IMPORTED_1, timestamp: daysAgo(1.5), minimum: 20.5 },
      { arn: PUBLIC_ARN, timestamp: daysAgo(0.5), minimum: 300 },
    );
    changeAlarm({ StateValue: 'OK', StateReason: undefined });
    expect(await monitor()).toBeUndefined();
    expect(lines.slice(1, 3)).toEqual([
      'alarm CertificatesLab-imported-days-to-expiry: OK (not evaluated yet)',
      `DaysToExpiry: 20 on ${aws.datapoints[1].timestamp.toISOString()}`,
    ]);
  });

  test('finds the lab\'s certificate among the account\'s others, page after page', async () => {
    await importThen();
    const tag = { Key: 'certificates-lab-stack', Value: STACK_NAME };
    const another = (id: string, detail: Partial<CertificateDetail>, tags: Tag[]) =>
      aws.certificates.set(`arn:aws:acm:us-east-1:${ACCOUNT}:certificate/${id}`, {
        tags,
        detail: { CertificateArn: `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/${id}`, DomainName: CERTIFICATES_LAB.importedDomainName, Type: 'IMPORTED', Status: 'ISSUED', KeyAlgorithm: 'EC_prime256v1', NotAfter: PUBLIC_NOT_AFTER, ...detail },
      });
    // Each is the lab's but for one fact: requested from ACM, for another name, of another stack, tagged otherwise.
    another('requested', { Type: 'AMAZON_ISSUED' }, [tag]);
    another('other-name', { DomainName: 'other.certificates-lab.internal' }, [tag]);
    another('other-stack', {}, [{ ...tag, Value: 'CertificatesLabBob' }]);
    another('other-tag', {}, [{ Key: 'owner', Value: STACK_NAME }]);
    // The lab's own certificate, tagged by someone else too.
    aws.find(IMPORTED_1).tags.push({ Key: 'owner', Value: 'platform-team' });
    expect(await monitor()).toBeUndefined();
    expect(aws.testedEvents[0].resources).toEqual([IMPORTED_1]);
  });

  test('says what to run when nothing was imported', async () => {
    const failure = await monitor();
    expect(failure).toBeInstanceOf(LabNotReady);
    expect(failure?.message).toBe('no certificate imported by the lab: run npm run lab -- exercise certificates import-certificate');
  });

  test('fails when two imported certificates carry the lab\'s tag', async () => {
    await importThen();
    aws.certificates.set(`${IMPORTED_1}-copy`, { ...aws.find(IMPORTED_1), detail: { ...aws.find(IMPORTED_1).detail, CertificateArn: `${IMPORTED_1}-copy` } });
    const failure = await monitor();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('2 imported certificates carry the lab\'s tag: run the remove-imported step and import again');
  });

  test('fails when the alarm is missing', async () => {
    await importThen();
    aws.alarms.clear();
    expect((await monitor())?.message).toBe('no alarm CertificatesLab-imported-days-to-expiry: run the import-certificate step again');
  });

  test.each<[string, Partial<MetricAlarm>, string]>([
    ['another metric', { MetricName: 'DaysToExpiryX' }, 'the alarm watches AWS/CertificateManager/DaysToExpiryX, not AWS/CertificateManager/DaysToExpiry'],
    ['another namespace', { Namespace: 'AWS/ACM' }, 'the alarm watches AWS/ACM/DaysToExpiry, not AWS/CertificateManager/DaysToExpiry'],
    ['another certificate', { Dimensions: [{ Name: 'CertificateArn', Value: PUBLIC_ARN }] }, `the alarm watches certificate ${PUBLIC_ARN}, not the imported ${IMPORTED_1}`],
    ['no certificate dimension', { Dimensions: [{ Name: 'DomainName', Value: IMPORTED_1 }] }, `the alarm watches certificate undefined, not the imported ${IMPORTED_1}`],
    ['no dimensions', { Dimensions: undefined }, `the alarm watches certificate undefined, not the imported ${IMPORTED_1}`],
    ['another topic', { AlarmActions: [`${TOPIC_ARN}-other`] }, 'the alarm does not notify the expiry topic'],
    ['no action', { AlarmActions: undefined }, 'the alarm does not notify the expiry topic'],
  ])('fails when the alarm watches %s', async (_name, change, message) => {
    await importThen();
    changeAlarm(change);
    const failure = await monitor();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(message);
  });

  test('fails when the rule has no event pattern', async () => {
    await importThen();
    aws.rulePattern = undefined;
    expect((await monitor())?.message).toBe('rule CertificatesLab-ExpiryRule has no event pattern');
  });

  test('fails when the rule matches every ACM event, not just the expiry one', async () => {
    await importThen();
    aws.rulePattern = JSON.stringify({ source: ['aws.acm'] });
    expect((await monitor())?.message).toBe('rule CertificatesLab-ExpiryRule also matches ACM\'s other events ("ACM Certificate Available")');
  });

  test('fails when the rule misses the expiry event', async () => {
    await importThen();
    aws.rulePattern = JSON.stringify({ source: ['aws.acm'], 'detail-type': ['ACM Certificate Expired'] });
    expect((await monitor())?.message).toBe('rule CertificatesLab-ExpiryRule does not match ACM\'s "ACM Certificate Approaching Expiration" event');
  });

  test('passes when the account starts expiry events on the certificate\'s remaining days, fails when later', async () => {
    await importThen();
    aws.daysBeforeExpiry = 19;
    expect(await monitor()).toBeUndefined();
    expect(lines).toContain('account configuration: ACM sends "ACM Certificate Approaching Expiration" daily from 19 days before expiry (PutAccountConfiguration sets 1–45); this certificate is at 19');
    aws.daysBeforeExpiry = 10;
    const failure = await monitor();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('the certificate expires in 19 days, outside the 10 days before expiry in which ACM sends events');
  });
});

describe('private-ca', () => {
  const runPrivateCa = () => failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs() })));

  test('INELIGIBLE before its first export, ELIGIBLE once exported (read again until ACM says so); a second run expects ELIGIBLE', async () => {
    aws.eligibleAfterDescribes = 2;
    expect(await runPrivateCa()).toBeUndefined();
    expect(aws.describesAfterExport).toBe(3);
    expect(lines).toEqual(expect.arrayContaining([
      'RenewalEligibility INELIGIBLE: never exported and in use by nothing, ACM would let it expire',
      expect.stringMatching(/^RenewalEligibility ELIGIBLE 0\.\d s after the export: ACM now renews it from 60 days before expiry/),
    ]));
    expect(aws.find(PRIVATE_ARN).tags).toEqual([CERTIFICATES_LAB.exportedTag]);
    lines.length = 0;
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining(['RenewalEligibility ELIGIBLE before this export: an earlier run exported it']));
  });

  test('a tag of the same key with another value, or of another key, is not the mark of an export', async () => {
    aws.find(PRIVATE_ARN).tags = [{ Key: CERTIFICATES_LAB.exportedTag.Key, Value: 'false' }, { Key: 'exported', Value: 'true' }];
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toContain('RenewalEligibility INELIGIBLE: never exported and in use by nothing, ACM would let it expire');
  });

  test('fails when a certificate never exported and not in use reads ELIGIBLE', async () => {
    aws.find(PRIVATE_ARN).detail.RenewalEligibility = 'ELIGIBLE';
    expect((await runPrivateCa())?.message).toBe(
      'RenewalEligibility is ELIGIBLE, but the exercise never exported the certificate and nothing uses it: ACM renews a private certificate only ' +
        'once it is exported or in use (exported it by hand? tag it certificates-lab-exported=true)',
    );
  });

  test('fails when the certificate stays INELIGIBLE after its export, having read it again until the deadline', async () => {
    aws.faults.exportLeavesIneligible = true;
    const failure = await runPrivateCa();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toMatch(/^RenewalEligibility is still INELIGIBLE 0\.[2-9] s after ExportCertificate: ACM renews an exported private certificate$/);
    // Every 0.01 s for 0.2 s: at most 21 reads (fewer when timers run late).
    expect(aws.describesAfterExport).toBeGreaterThanOrEqual(2);
    expect(aws.describesAfterExport).toBeLessThanOrEqual(21);
  });

  test('fails when a certificate an earlier run exported reads INELIGIBLE', async () => {
    aws.find(PRIVATE_ARN).tags = [{ ...CERTIFICATES_LAB.exportedTag }];
    expect((await runPrivateCa())?.message).toBe('RenewalEligibility is INELIGIBLE although the certificate was exported already: ACM should renew it');
  });

  test('a certificate in use is ELIGIBLE before any export', async () => {
    const balancers = ['arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal/1', 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal/2'];
    Object.assign(aws.find(PRIVATE_ARN).detail, { RenewalEligibility: 'ELIGIBLE', InUseBy: balancers });
    expect(await runPrivateCa()).toBeUndefined();
    expect(lines).toEqual(expect.arrayContaining([`RenewalEligibility ELIGIBLE before this export: in use by ${balancers.join(', ')}`]));
  });

  test('fails when a certificate in use reads INELIGIBLE', async () => {
    aws.find(PRIVATE_ARN).detail.InUseBy = ['arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/internal/1'];
    expect((await runPrivateCa())?.message).toBe('RenewalEligibility is INELIGIBLE although the certificate was in use already: ACM should renew it');
  });

  test.each<[string, Partial<CertificateDetail>, string]>([
    ['imported', { Type: 'IMPORTED' }, 'the private certificate is IMPORTED ISSUED, not PRIVATE ISSUED'],
    ['failed', { Status: 'FAILED' }, 'the private certificate is PRIVATE FAILED, not PRIVATE ISSUED'],
    ['issued by another CA', { CertificateAuthorityArn: `${CA_ARN}-other` }, `the certificate was issued by ${CA_ARN}-other, not the lab's CA ${CA_ARN}`],
  ])('fails when the certificate is %s', async (_name, change, message) => {
    Object.assign(aws.find(PRIVATE_ARN).detail, change);
    const failure = await runPrivateCa();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(message);
  });

  test('fails when the exported chain leads to another root than the lab CA\'s', async () => {
    const other = await createRootCa({ commonName: CERTIFICATES_LAB.privateCaName, validityDays: 730 });
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs(), PrivateCaCertificatePem: other.certificate.toString('pem') })));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(
      'the exported certificate does not verify against the lab CA\'s certificate: [OfflinePki.UntrustedRoot] the chain of CN=service.CertificatesLab.internal ' +
        'ends at CN=Certificates lab private root CA, not at the trusted root CN=Certificates lab private root CA',
    );
  });

  test('fails when the exported private key is not encrypted with the passphrase', async () => {
    aws.faults.exportPlainKey = true;
    expect((await runPrivateCa())?.message).toBe('ExportCertificate returned a private key that is not encrypted with the passphrase');
  });

  test('fails when ExportCertificate returns no certificate', async () => {
    aws.faults.exportNoCertificate = true;
    expect((await runPrivateCa())?.message).toBe('ExportCertificate returned no certificate');
  });

  test('fails when the certificate is for another name', async () => {
    const failure = await failureOf(runExercise(step('private-ca'), options({ ...baseOutputs, ...pcaOutputs(), PrivateCertificateDomain: 'other.internal' })));
    expect(failure?.message).toBe('the certificate names service.certificateslab.internal, api.certificateslab.internal, not other.internal');
  });
});

describe('public-certificate', () => {
  const run = (provided = answer('api.example.com')) => failureOf(runExercise(step('public-certificate'), options({ ...baseOutputs, ...publicOutputs }, [provided])));

  test('passes on an issued, DNS-validated certificate in use, and a 200 for the domain', async () => {
    expect(await run()).toBeUndefined();
    expect(lines.slice(1)).toEqual([
      'DescribeCertificate: ISSUED, validated by the CNAME _x.api.example.com. → _y.acm-validations.aws. (keep it: renewal checks it again)',
      'in use by arn:aws:apigateway:us-east-1::/domainnames/api.example.com, arn:aws:apigateway:us-east-1::/domainnames/api.example.com+abc123; renewal ELIGIBLE; valid until 2027-03-14T23:59:59.000Z',
      'GET https://api.example.com/: 200 over TLS with the ACM certificate, which Node trusted without being told anything',
    ]);
  });

  const validation = (change: object) => ({ DomainValidationOptions: [{ ...aws.find(PUBLIC_ARN).detail.DomainValidationOptions![0], ...change }] });
  test.each<[string, () => Partial<CertificateDetail>, string]>([
    ['validation is pending', () => ({ Status: 'PENDING_VALIDATION' }), 'the public certificate is AMAZON_ISSUED PENDING_VALIDATION, not AMAZON_ISSUED ISSUED'],
    ['the certificate was imported', () => ({ Type: 'IMPORTED' }), 'the public certificate is IMPORTED ISSUED, not AMAZON_ISSUED ISSUED'],
    ['it was validated by email', () => validation({ ValidationMethod: 'EMAIL' }), 'validation is EMAIL SUCCESS, not DNS SUCCESS'],
    ['its DNS validation failed', () => validation({ ValidationStatus: 'FAILED' }), 'validation is DNS FAILED, not DNS SUCCESS'],
    ['it has no validation', () => ({ DomainValidationOptions: undefined }), 'validation is undefined undefined, not DNS SUCCESS'],
    ['ACM would not renew it', () => ({ RenewalEligibility: 'INELIGIBLE' }), 'RenewalEligibility is INELIGIBLE: a DNS-validated certificate in use renews by itself'],
    ['nothing uses it, so ACM would not renew it', () => ({ InUseBy: [] }), 'the certificate is in use by nothing: ACM renews only certificates in use'],
    ['ACM names no user', () => ({ InUseBy: undefined }), 'the certificate is in use by nothing: ACM renews only certificates in use'],
  ])('fails when %s', async (_name, change, message) => {
    Object.assign(aws.find(PUBLIC_ARN).detail, change());
    const failure = await run();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(message);
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
    lines.length = 0;
    await runExercise(step('remove-imported'), options());
    expect(lines).toEqual([
      '\n== 1/1 remove-imported: delete the alarm and the imported certificate',
      'deleted the alarm CertificatesLab-imported-days-to-expiry and 1 imported certificate(s): nothing of the exercise is left for cdk destroy to miss',
    ]);
    expect(aws.imported().map((c) => c.tags[0].Value)).toEqual(['CertificatesLabBob']);
    expect([...aws.alarms.keys()]).toEqual(['CertificatesLabBob-imported-days-to-expiry']);
    await runExercise(step('expiry-monitoring'), options(other));
  });

  test('deletes every certificate of the stack, on every page', async () => {
    await runExercise(step('import-certificate'), options());
    aws.certificates.set(`${IMPORTED_1}-copy`, { ...aws.find(IMPORTED_1), detail: { ...aws.find(IMPORTED_1).detail, CertificateArn: `${IMPORTED_1}-copy` } });
    lines.length = 0;
    await runExercise(step('remove-imported'), options());
    expect(aws.imported()).toEqual([]);
    expect(lines[1]).toBe('deleted the alarm CertificatesLab-imported-days-to-expiry and 2 imported certificate(s): nothing of the exercise is left for cdk destroy to miss');
  });

  test('fails when certificates survive DeleteCertificate', async () => {
    await runExercise(step('import-certificate'), options());
    aws.certificates.set(`${IMPORTED_1}-copy`, { ...aws.find(IMPORTED_1), detail: { ...aws.find(IMPORTED_1).detail, CertificateArn: `${IMPORTED_1}-copy` } });
    aws.faults.deleteIgnored = true;
    const failure = await failureOf(runExercise(step('remove-imported'), options()));
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe(`ACM still lists ${IMPORTED_1}, ${IMPORTED_1}-copy after DeleteCertificate`);
  });
});

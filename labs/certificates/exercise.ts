import { randomBytes } from 'node:crypto';
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
} from '@aws-sdk/client-acm';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeRuleCommand, EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { check, defineFixture, defineTiming, elapsedSeconds, ExerciseContext, ExerciseStep, LabNotReady, requireOutput } from '../support/exercise';
import { CERTIFICATES_LAB } from './constants';
import {
  ChainVerificationError,
  createRootCa,
  dnsNamesOf,
  issueServerCertificate,
  IssuedCertificate,
  parsePemBundle,
  privateKeyPem,
  verifyChain,
} from './offline-pki';

const acmOf = (context: ExerciseContext) => context.client(ACMClient, 'ACM');
const cloudWatchOf = (context: ExerciseContext) => context.client(CloudWatchClient, 'CLOUDWATCH');
const eventBridgeOf = (context: ExerciseContext) => context.client(EventBridgeClient, 'EVENTBRIDGE');

/** How the public-certificate step calls the custom domain: `fetch`, which refuses a certificate Node does not trust. */
export const httpsGet = defineFixture('HTTPS client', () => async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
});

export const timing = defineTiming(CERTIFICATES_LAB.exerciseTiming);

const DAY_MS = 86_400_000;
const daysUntil = (date: Date | undefined) => Math.floor(((date?.getTime() ?? 0) - Date.now()) / DAY_MS);
const pem = (issued: IssuedCertificate) => issued.certificate.toString('pem');
const sameSecond = (a: Date | undefined, b: Date) => Math.floor((a?.getTime() ?? 0) / 1000) === Math.floor(b.getTime() / 1000);

async function describe(context: ExerciseContext, arn: string): Promise<CertificateDetail> {
  const { Certificate } = await acmOf(context).send(new DescribeCertificateCommand({ CertificateArn: arn }));
  check(Certificate !== undefined, `DescribeCertificate returned nothing for ${arn}`);
  return Certificate;
}

/** What the exercise creates outside CloudFormation is named and tagged after the stack (output StackName). */
const stackNameOf = (context: ExerciseContext) => requireOutput(context.outputs, 'StackName');
const expiryAlarmNameOf = (context: ExerciseContext) => `${stackNameOf(context)}${CERTIFICATES_LAB.expiryAlarmSuffix}`;
const importTagOf = (context: ExerciseContext) => ({ Key: CERTIFICATES_LAB.importTagKey, Value: stackNameOf(context) });

/**
 * The certificates the exercise imported for this stack: ListCertificates shows RSA 2048 keys only unless asked for
 * other key types, so it asks for ECDSA P-256; a certificate counts when it is imported, for the lab's name, and
 * carries the tag with this stack's name.
 */
async function importedCertificates(context: ExerciseContext): Promise<string[]> {
  const { Key, Value } = importTagOf(context);
  const arns: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await acmOf(context).send(new ListCertificatesCommand({ Includes: { keyTypes: ['EC_prime256v1'] }, NextToken }));
    for (const summary of page.CertificateSummaryList ?? []) {
      if (summary.Type !== 'IMPORTED' || summary.DomainName !== CERTIFICATES_LAB.importedDomainName || !summary.CertificateArn) continue;
      const { Tags } = await acmOf(context).send(new ListTagsForCertificateCommand({ CertificateArn: summary.CertificateArn }));
      if ((Tags ?? []).some((tag) => tag.Key === Key && tag.Value === Value)) arns.push(summary.CertificateArn);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return arns;
}

async function theImportedCertificate(context: ExerciseContext): Promise<string> {
  const [arn, ...others] = await importedCertificates(context);
  if (!arn) throw new LabNotReady('no certificate imported by the lab: run npm run lab -- exercise certificates import-certificate');
  check(others.length === 0, `${others.length + 1} imported certificates carry the lab's tag: run the remove-imported step and import again`);
  return arn;
}

async function importCertificate(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'ExpiryTopicArn');
  const ca = await createRootCa({ commonName: CERTIFICATES_LAB.offlineCaName, validityDays: CERTIFICATES_LAB.offlineCaValidity.toDays() });
  const validityDays = CERTIFICATES_LAB.importedValidity.toDays();
  const leaf = await issueServerCertificate(ca, { domainName: CERTIFICATES_LAB.importedDomainName, validityDays });
  await verifyChain(leaf.certificate, [], ca.certificate);
  log(`made offline: a root CA "${ca.certificate.subject}" and a server certificate for ${CERTIFICATES_LAB.importedDomainName} valid ${validityDays} days; the chain verifies`);

  const certificateArn = (await importedCertificates(context))[0];
  const { CertificateArn } = await acmOf(context).send(
    new ImportCertificateCommand({
      // Importing into an ARN replaces what it holds: how an imported certificate is "renewed".
      CertificateArn: certificateArn,
      Certificate: Buffer.from(pem(leaf)),
      PrivateKey: Buffer.from(await privateKeyPem(leaf.keys)),
      CertificateChain: Buffer.from(pem(ca)),
      // Tags can be given on the first import only: ACM refuses them when re-importing into an ARN.
      Tags: certificateArn ? undefined : [importTagOf(context)],
    }),
  );
  check(CertificateArn !== undefined, 'ImportCertificate returned no ARN');
  check(!certificateArn || CertificateArn === certificateArn, `re-importing into ${certificateArn} gave another ARN, ${CertificateArn}`);
  log(`${certificateArn ? 're-imported into' : 'imported as'} ${CertificateArn}: an imported certificate costs nothing in ACM`);

  const detail = await describe(context, CertificateArn);
  check(detail.Type === 'IMPORTED', `ACM lists the certificate as ${detail.Type}, not IMPORTED`);
  check(sameSecond(detail.NotAfter, leaf.certificate.notAfter), `ACM says it expires ${detail.NotAfter?.toISOString()}, the certificate says ${leaf.certificate.notAfter.toISOString()}`);
  check(detail.RenewalEligibility === 'INELIGIBLE', `RenewalEligibility is ${detail.RenewalEligibility}: ACM never renews an imported certificate`);
  log(`DescribeCertificate: IMPORTED, ${detail.KeyAlgorithm}, expires ${detail.NotAfter?.toISOString()} (in ${daysUntil(detail.NotAfter)} days), RenewalEligibility INELIGIBLE`);

  const alarmName = expiryAlarmNameOf(context);
  await cloudWatchOf(context).send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      AlarmDescription: `The certificate the certificates lab imported expires in less than ${CERTIFICATES_LAB.expiryAlarmThresholdDays} days`,
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: CertificateArn }],
      Statistic: 'Minimum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: CERTIFICATES_LAB.expiryAlarmThresholdDays,
      ComparisonOperator: 'LessThanThreshold',
      // ACM stops publishing DaysToExpiry once the certificate has expired: silence means the worst.
      TreatMissingData: 'breaching',
      AlarmActions: [topicArn],
      OKActions: [topicArn],
    }),
  );
  log(`alarm ${alarmName}: DaysToExpiry (daily minimum) < ${CERTIFICATES_LAB.expiryAlarmThresholdDays} → the expiry topic; $0.10/month until the remove-imported step deletes it`);
}

async function expiryMonitoring(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const topicArn = requireOutput(outputs, 'ExpiryTopicArn');
  const ruleName = requireOutput(outputs, 'ExpiryRuleName');
  const arn = await theImportedCertificate(context);
  const detail = await describe(context, arn);

  const alarmName = expiryAlarmNameOf(context);
  const { MetricAlarms } = await cloudWatchOf(context).send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
  const alarm = MetricAlarms?.[0];
  check(alarm !== undefined, `no alarm ${alarmName}: run the import-certificate step again`);
  const watched = alarm.Dimensions?.find((d) => d.Name === 'CertificateArn')?.Value;
  check(alarm.MetricName === 'DaysToExpiry' && alarm.Namespace === 'AWS/CertificateManager', `the alarm watches ${alarm.Namespace}/${alarm.MetricName}, not AWS/CertificateManager/DaysToExpiry`);
  check(watched === arn, `the alarm watches certificate ${watched}, not the imported ${arn}`);
  check((alarm.AlarmActions ?? []).includes(topicArn), 'the alarm does not notify the expiry topic');
  log(`alarm ${alarm.AlarmName}: ${alarm.StateValue} (${alarm.StateReason ?? 'not evaluated yet'})`);

  const { Datapoints } = await cloudWatchOf(context).send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/CertificateManager',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'CertificateArn', Value: arn }],
      StartTime: new Date(Date.now() - 3 * DAY_MS),
      EndTime: new Date(),
      Period: 86_400,
      Statistics: ['Minimum'],
    }),
  );
  const latest = [...(Datapoints ?? [])].sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
  log(latest ? `DaysToExpiry: ${latest.Minimum} on ${latest.Timestamp?.toISOString()}` : 'DaysToExpiry: no datapoint yet (ACM publishes it once a day); run this step again tomorrow');

  const { ExpiryEvents } = await acmOf(context).send(new GetAccountConfigurationCommand({}));
  const daysBefore = ExpiryEvents?.DaysBeforeExpiry ?? CERTIFICATES_LAB.defaultDaysBeforeExpiry;
  const daysLeft = daysUntil(detail.NotAfter);
  check(daysLeft <= daysBefore, `the certificate expires in ${daysLeft} days, outside the ${daysBefore} days before expiry in which ACM sends events`);
  log(`account configuration: ACM sends "${CERTIFICATES_LAB.expiryEventDetailType}" daily from ${daysBefore} days before expiry (PutAccountConfiguration sets 1–45); this certificate is at ${daysLeft}`);

  const { EventPattern } = await eventBridgeOf(context).send(new DescribeRuleCommand({ Name: ruleName }));
  check(EventPattern !== undefined, `rule ${ruleName} has no event pattern`);
  const expiryEvent = (detailType: string) =>
    JSON.stringify({
      version: '0',
      id: `${context.runId}-expiry`,
      'detail-type': detailType,
      source: 'aws.acm',
      account: arn.split(':')[4],
      time: new Date().toISOString(),
      region: arn.split(':')[3],
      resources: [arn],
      detail: { DaysToExpiry: daysLeft, CommonName: CERTIFICATES_LAB.importedDomainName },
    });
  const matches = async (detailType: string) =>
    (await eventBridgeOf(context).send(new TestEventPatternCommand({ EventPattern, Event: expiryEvent(detailType) }))).Result === true;
  check(await matches(CERTIFICATES_LAB.expiryEventDetailType), `rule ${ruleName} does not match ACM's "${CERTIFICATES_LAB.expiryEventDetailType}" event`);
  check(!(await matches('ACM Certificate Available')), `rule ${ruleName} also matches ACM's other events ("ACM Certificate Available")`);
  log(`TestEventPattern: rule ${ruleName} matches the expiry event of this certificate and not ACM's other events`);
}

/** RenewalEligibility after an export, read until ELIGIBLE or the deadline of `timing`: ACM updates it shortly after. */
async function renewalEligibilityAfterExport(context: ExerciseContext, arn: string): Promise<{ value: string | undefined; seconds: string }> {
  const { renewalEligibilityPollSeconds, renewalEligibilityDeadlineSeconds } = await context.use(timing);
  const started = Date.now();
  for (;;) {
    const { RenewalEligibility } = await describe(context, arn);
    if (RenewalEligibility === 'ELIGIBLE' || Date.now() - started >= renewalEligibilityDeadlineSeconds * 1000) {
      return { value: RenewalEligibility, seconds: elapsedSeconds(started) };
    }
    await new Promise((resolve) => setTimeout(resolve, renewalEligibilityPollSeconds * 1000));
  }
}

async function privateCa(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.PrivateCertificateArn) {
    log('the pca feature is off: nothing to check ($400/month while on; see the README before deploying with -c certificates:pca=true)');
    return;
  }
  const caArn = requireOutput(outputs, 'PrivateCaArn');
  const trustedRoot = parsePemBundle(requireOutput(outputs, 'PrivateCaCertificatePem'))[0];
  const certificateArn = outputs.PrivateCertificateArn;
  const detail = await describe(context, certificateArn);
  check(detail.Type === 'PRIVATE' && detail.Status === 'ISSUED', `the private certificate is ${detail.Type} ${detail.Status}, not PRIVATE ISSUED`);
  check(detail.CertificateAuthorityArn === caArn, `the certificate was issued by ${detail.CertificateAuthorityArn}, not the lab's CA ${caArn}`);
  log(`DescribeCertificate: PRIVATE, ISSUED by ${caArn}, valid until ${detail.NotAfter?.toISOString()}`);

  // ACM renews a private certificate it requested only once it has been exported or is in use by an integrated
  // service; nothing uses the lab's, so it is INELIGIBLE until its first export, which this step tags.
  const { Tags } = await acmOf(context).send(new ListTagsForCertificateCommand({ CertificateArn: certificateArn }));
  const { Key, Value } = CERTIFICATES_LAB.exportedTag;
  const exportedBefore = (Tags ?? []).some((tag) => tag.Key === Key && tag.Value === Value);
  const inUse = (detail.InUseBy ?? []).length > 0;
  if (exportedBefore || inUse) {
    check(detail.RenewalEligibility === 'ELIGIBLE', `RenewalEligibility is ${detail.RenewalEligibility} although the certificate was ${inUse ? 'in use' : 'exported'} already: ACM should renew it`);
    log(`RenewalEligibility ELIGIBLE before this export: ${inUse ? `in use by ${(detail.InUseBy ?? []).join(', ')}` : 'an earlier run exported it'}`);
  } else {
    check(detail.RenewalEligibility === 'INELIGIBLE', `RenewalEligibility is ${detail.RenewalEligibility}, but the exercise never exported the certificate and nothing uses it: ACM renews a private certificate only once it is exported or in use (exported it by hand? tag it ${Key}=${Value})`);
    log('RenewalEligibility INELIGIBLE: never exported and in use by nothing, ACM would let it expire');
  }

  const passphrase = randomBytes(24).toString('base64url');
  const exported = await acmOf(context).send(new ExportCertificateCommand({ CertificateArn: certificateArn, Passphrase: Buffer.from(passphrase) }));
  await acmOf(context).send(new AddTagsToCertificateCommand({ CertificateArn: certificateArn, Tags: [{ Key, Value }] }));
  check((exported.PrivateKey ?? '').includes('BEGIN ENCRYPTED PRIVATE KEY'), 'ExportCertificate returned a private key that is not encrypted with the passphrase');
  log('ExportCertificate: certificate, chain and the private key encrypted with a passphrase (the first export bills the one-time private certificate fee)');
  const eligibility = await renewalEligibilityAfterExport(context, certificateArn);
  check(eligibility.value === 'ELIGIBLE', `RenewalEligibility is still ${eligibility.value} ${eligibility.seconds} s after ExportCertificate: ACM renews an exported private certificate`);
  log(`RenewalEligibility ELIGIBLE ${eligibility.seconds} s after the export: ACM now renews it from 60 days before expiry (export the renewed certificate again to install it)`);
  const leaf = parsePemBundle(exported.Certificate ?? '')[0];
  check(leaf !== undefined, 'ExportCertificate returned no certificate');
  const chain = parsePemBundle(exported.CertificateChain ?? '');
  const path = await verifyChain(leaf, chain, trustedRoot).catch((error: unknown) => {
    check(!(error instanceof ChainVerificationError), `the exported certificate does not verify against the lab CA's certificate: ${(error as Error).message}`);
    throw error;
  });
  const domain = requireOutput(outputs, 'PrivateCertificateDomain').toLowerCase();
  const names = dnsNamesOf(leaf).map((name) => name.toLowerCase());
  check(names.includes(domain), `the certificate names ${names.join(', ')}, not ${domain}`);
  log(`verified offline: ${path.map((c) => c.subject).join(' → ')}`);

  const stranger = await createRootCa({ commonName: CERTIFICATES_LAB.privateCaName, validityDays: 1 });
  const refused = await verifyChain(leaf, chain, stranger.certificate).then(
    () => undefined,
    (error: unknown) => error,
  );
  check(refused instanceof ChainVerificationError, 'the chain also verified against another root with the same name: the check trusts names, not keys');
  log(`against another root of the same name: refused (${refused.code})`);
}

async function publicCertificate(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.PublicCertificateArn) {
    log('no public certificate: deploy with -c certificates:domain=<name> -c certificates:hosted-zone-id=<zone id> (a public hosted zone of this account) to request one');
    return;
  }
  const detail = await describe(context, outputs.PublicCertificateArn);
  const validation = detail.DomainValidationOptions?.[0];
  check(detail.Type === 'AMAZON_ISSUED' && detail.Status === 'ISSUED', `the public certificate is ${detail.Type} ${detail.Status}, not AMAZON_ISSUED ISSUED`);
  check(validation?.ValidationMethod === 'DNS' && validation.ValidationStatus === 'SUCCESS', `validation is ${validation?.ValidationMethod} ${validation?.ValidationStatus}, not DNS SUCCESS`);
  check(detail.RenewalEligibility === 'ELIGIBLE', `RenewalEligibility is ${detail.RenewalEligibility}: a DNS-validated certificate in use renews by itself`);
  check((detail.InUseBy ?? []).length > 0, 'the certificate is in use by nothing: ACM renews only certificates in use');
  log(`DescribeCertificate: ISSUED, validated by the CNAME ${validation.ResourceRecord?.Name} → ${validation.ResourceRecord?.Value} (keep it: renewal checks it again)`);
  log(`in use by ${(detail.InUseBy ?? []).join(', ')}; renewal ELIGIBLE; valid until ${detail.NotAfter?.toISOString()}`);

  const url = requireOutput(outputs, 'CustomDomainUrl');
  const get = await context.use(httpsGet);
  const response = await get(url);
  const body = JSON.parse(response.body) as { domainName?: string };
  check(response.status === 200, `GET ${url} answered ${response.status}`);
  check(body.domainName === new URL(url).hostname, `the API answered for ${body.domainName}, not ${new URL(url).hostname}`);
  log(`GET ${url}: 200 over TLS with the ACM certificate, which Node trusted without being told anything`);
}

async function removeImported(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const alarmName = expiryAlarmNameOf(context);
  await cloudWatchOf(context).send(new DeleteAlarmsCommand({ AlarmNames: [alarmName] }));
  const arns = await importedCertificates(context);
  for (const arn of arns) await acmOf(context).send(new DeleteCertificateCommand({ CertificateArn: arn }));
  const left = await importedCertificates(context);
  check(left.length === 0, `ACM still lists ${left.join(', ')} after DeleteCertificate`);
  log(`deleted the alarm ${alarmName} and ${arns.length} imported certificate(s): nothing of the exercise is left for cdk destroy to miss`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'import-certificate', title: 'make a CA and a certificate offline, import them into ACM, alarm on DaysToExpiry', run: importCertificate },
  { id: 'expiry-monitoring', title: 'the alarm, the DaysToExpiry metric, the expiry window and the EventBridge rule', run: expiryMonitoring },
  { id: 'private-ca', title: 'a private certificate from the lab CA: export it and verify its chain offline', run: privateCa },
  { id: 'public-certificate', title: 'a DNS-validated public certificate on the API custom domain', run: publicCertificate },
  { id: 'remove-imported', title: 'delete the alarm and the imported certificate', run: removeImported },
];

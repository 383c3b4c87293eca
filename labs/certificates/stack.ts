import * as path from 'node:path';
import { Annotations, Aws, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { PrivateCertificateAuthority } from '../../lib/private-certificate-authority';
import { labAlarmTopic } from '../support/alarm-topic';
import { withCdkDurations } from '../support/cdk-duration';
import { LabConfigError, LabStack, LabStackProps } from '../support/lab-stack';
import { CERTIFICATES_LAB as CERTIFICATES_LAB_SPEC } from './constants';
import type { certificatesLab } from './lab';

/** The shared constants (./constants.ts) with CDK durations. */
const CERTIFICATES_LAB = withCdkDurations(CERTIFICATES_LAB_SPEC);

/**
 * Certificates lab: ACM's daily expiry event routed to a topic (for the certificate the exercise imports); with a
 * domain and its hosted zone, a public certificate validated by DNS on an HTTP API custom domain; with `pca`, a
 * private root CA and a private certificate ACM requests from it.
 */
export class CertificatesLabStack extends LabStack<typeof certificatesLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const expiryTopic = labAlarmTopic(this, 'ExpiryTopic');
    const expiryRule = new events.Rule(this, 'ExpiryRule', {
      description: 'ACM sends this event once a day per certificate from DaysBeforeExpiry days before it expires',
      eventPattern: { source: ['aws.acm'], detailType: [CERTIFICATES_LAB.expiryEventDetailType] },
      targets: [new targets.SnsTopic(expiryTopic)],
    });
    // The exercise names and tags what it creates outside CloudFormation (the imported certificate, its alarm) after
    // the stack, so two deployments of the lab in one account never touch each other's.
    this.addOutputs({ StackName: Aws.STACK_NAME, ExpiryTopicArn: expiryTopic.topicArn, ExpiryRuleName: expiryRule.ruleName });

    const domain = this.parameter('domain');
    const hostedZoneId = this.parameter('hosted-zone-id');
    if ((domain === undefined) !== (hostedZoneId === undefined)) {
      throw new LabConfigError(
        'a public certificate needs both -c certificates:domain=<name> and -c certificates:hosted-zone-id=<id> (the zone that holds the name), or neither',
      );
    }
    if (domain !== undefined && hostedZoneId !== undefined) this.publicCertificate(domain, hostedZoneId);

    if (this.feature('pca')) {
      const ca = new PrivateCertificateAuthority(this, 'PrivateCa', {
        commonName: CERTIFICATES_LAB.privateCaName,
        organization: 'AWS Developer Associate labs',
        validity: CERTIFICATES_LAB.privateCaValidity,
      });
      // Printed by every synth and deploy that includes the CA, also `npx cdk deploy` without the lab CLI's question.
      Annotations.of(ca).addInfo(
        'AWS Private CA bills $400/month ($0.55/hour) from creation until the CA is deleted: destroy the lab the same day (npx cdk destroy CertificatesLab)',
      );
      const domainName = `${CERTIFICATES_LAB.privateHostName}.${Aws.STACK_NAME}.internal`;
      const certificate = ca.privateCertificate('ServiceCertificate', { domainName });
      this.addOutputs({
        PrivateCaArn: ca.certificateAuthority.attrArn,
        PrivateCaCertificatePem: ca.caCertificatePem,
        PrivateCertificateArn: certificate.certificateArn,
        PrivateCertificateDomain: domainName,
      });
    }
  }

  /**
   * A public certificate for `domain`, validated by the CNAME record CloudFormation writes into the hosted zone (and
   * leaves there: ACM's managed renewal checks it again), served by a regional HTTP API custom domain in this stack's
   * own Region, so the us-east-1 rule of CloudFront and edge-optimized APIs does not apply.
   */
  private publicCertificate(domain: string, hostedZoneId: string): void {
    const zone = route53.HostedZone.fromHostedZoneId(this, 'Zone', hostedZoneId);
    const certificate = new acm.Certificate(this, 'PublicCertificate', {
      domainName: domain,
      validation: acm.CertificateValidation.fromDns(zone),
    });
    const customDomain = new apigwv2.DomainName(this, 'CustomDomain', {
      domainName: domain,
      certificate,
      securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
    });
    const hello = new SafeNodejsFunction(this, 'HelloFunction', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'certificates-hello', 'index.ts'),
      description: 'Certificates lab: answers on the custom domain',
    });
    // Only the custom domain answers: the default execute-api endpoint would serve the API under Amazon's certificate.
    const api = new apigwv2.HttpApi(this, 'Api', {
      defaultIntegration: new HttpLambdaIntegration('Hello', hello),
      createDefaultStage: false,
      disableExecuteApiEndpoint: true,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs');
    api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      domainMapping: { domainName: customDomain },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'The lab API answers one public GET with a fixed greeting: what it shows is the certificate, not who calls.',
    });
    new route53.CfnRecordSet(this, 'AliasRecord', {
      hostedZoneId,
      name: `${domain}.`,
      type: 'A',
      aliasTarget: { dnsName: customDomain.regionalDomainName, hostedZoneId: customDomain.regionalHostedZoneId },
    });
    this.addOutputs({ PublicCertificateArn: certificate.certificateArn, CustomDomainUrl: `https://${domain}/` });
  }
}

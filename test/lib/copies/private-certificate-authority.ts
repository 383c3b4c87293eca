import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { PrivateCertificateAuthority } from '../../../lib/private-certificate-authority';

/** A root CA valid 10 years and a private certificate ACM requests from it; the CA certificate as an output. */
export function build(stack: Stack): void {
  const ca = new PrivateCertificateAuthority(stack, 'Ca', { commonName: 'Example internal root', validity: Duration.days(3650) });
  const certificate = ca.privateCertificate('Orders', { domainName: 'orders.internal.example.com' });
  new CfnOutput(stack, 'CaCertificate', { value: ca.caCertificatePem });
  new CfnOutput(stack, 'OrdersCertificateArn', { value: certificate.certificateArn });
}

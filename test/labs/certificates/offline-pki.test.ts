import {
  ChainVerificationError,
  CLOCK_SKEW_ALLOWANCE_MS,
  createRootCa,
  dnsNamesOf,
  issueServerCertificate,
  IssuedCertificate,
  OfflinePkiError,
  parsePemBundle,
  privateKeyPem,
  SERVER_AUTH,
  verifyChain,
  x509,
} from '../../../labs/certificates/offline-pki';

const NOW = new Date('2026-12-01T00:00:00Z');
const DAY_MS = 86_400_000;
let ca: IssuedCertificate;
let leaf: IssuedCertificate;

beforeAll(async () => {
  ca = await createRootCa({ commonName: 'Test root', validityDays: 30, now: NOW });
  leaf = await issueServerCertificate(ca, { domainName: 'api.example.internal', subjectAlternativeNames: ['www.example.internal'], validityDays: 20, now: NOW });
});

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

test('the root CA is a self-signed CA that signs certificates and CRLs only, valid for the days asked', async () => {
  const { certificate } = ca;
  expect(certificate.subject).toBe('CN=Test root');
  expect(certificate.issuer).toBe(certificate.subject);
  expect(await certificate.verify({ signatureOnly: true })).toBe(true);
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  expect(constraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
  expect(certificate.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  expect(certificate.notAfter.getTime() - certificate.notBefore.getTime()).toBe(30 * DAY_MS);
});

test('the server certificate is an end entity for TLS servers, named by its SANs, signed by the CA', async () => {
  const { certificate } = leaf;
  expect(certificate.issuer).toBe('CN=Test root');
  expect(certificate.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
  expect(certificate.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
  expect(certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([SERVER_AUTH]);
  expect(dnsNamesOf(certificate)).toEqual(['api.example.internal', 'www.example.internal']);
  expect(certificate.notAfter).toEqual(new Date(NOW.getTime() + 20 * DAY_MS));
  expect(await certificate.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true })).toBe(true);
  expect(await privateKeyPem(leaf.keys)).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----$/);
});

test('without a start time, validity starts 5 minutes ago, so a service whose clock is behind ours already takes it', async () => {
  const before = Date.now();
  const root = await createRootCa({ commonName: 'Skewed root', validityDays: 2 });
  const server = await issueServerCertificate(root, { domainName: 'api.example.internal', validityDays: 1 });
  const after = Date.now();
  expect(CLOCK_SKEW_ALLOWANCE_MS).toBe(5 * 60_000);
  for (const { certificate } of [root, server]) {
    // X.509 times have whole seconds: the start is the second 5 minutes before the call, or the one before it.
    expect(certificate.notBefore.getTime()).toBeGreaterThanOrEqual(Math.floor((before - CLOCK_SKEW_ALLOWANCE_MS) / 1000) * 1000);
    expect(certificate.notBefore.getTime()).toBeLessThanOrEqual(after - CLOCK_SKEW_ALLOWANCE_MS);
  }
  // What ACM, its clock 4 minutes behind ours, sees at import: valid already.
  await expect(verifyChain(server.certificate, [], root.certificate, new Date(after - 4 * 60_000))).resolves.toHaveLength(2);
});

test('a certificate that would outlive its CA, a name that is not a DNS name and a validity of 0 are refused together', async () => {
  const error = await refusal(issueServerCertificate(ca, { domainName: 'not a name', subjectAlternativeNames: ['-bad.example'], validityDays: 31, now: NOW }));
  expect(error).toBeInstanceOf(OfflinePkiError);
  expect((error as OfflinePkiError).problems.map((p) => p.code)).toEqual([
    'OfflinePki.NotADomainName',
    'OfflinePki.NotADomainName',
    'OfflinePki.ValidityOutlivesCa',
  ]);
  expect((error as Error).message).toContain('[OfflinePki.NotADomainName] "not a name" is not a DNS name');
  const zero = await refusal(createRootCa({ commonName: '', validityDays: 0 }));
  expect((zero as OfflinePkiError).problems.map((p) => p.code)).toEqual(['OfflinePki.ValidityNotPositive', 'OfflinePki.CommonNameLength']);
  // The CA's last day is still allowed.
  await expect(issueServerCertificate(ca, { domainName: 'edge.example.internal', validityDays: 30, now: NOW })).resolves.toBeDefined();
});

describe('verifyChain', () => {
  const at = new Date(NOW.getTime() + DAY_MS);

  test('builds and verifies leaf → root, through an intermediate when there is one', async () => {
    expect((await verifyChain(leaf.certificate, [], ca.certificate, at)).map((c) => c.subject)).toEqual(['CN=api.example.internal', 'CN=Test root']);
    const bundle = parsePemBundle(`${leaf.certificate.toString('pem')}\n${ca.certificate.toString('pem')}`);
    expect(bundle.map((c) => c.subject)).toEqual(['CN=api.example.internal', 'CN=Test root']);
  });

  test('refuses another root with the same name: the keys decide, not the names', async () => {
    const impostor = await createRootCa({ commonName: 'Test root', validityDays: 30, now: NOW });
    const error = await refusal(verifyChain(leaf.certificate, [ca.certificate], impostor.certificate, at));
    expect(error).toBeInstanceOf(ChainVerificationError);
    expect((error as ChainVerificationError).code).toBe('OfflinePki.UntrustedRoot');
  });

  test('refuses a certificate signed by another key that claims the trusted issuer', async () => {
    const impostor = await createRootCa({ commonName: 'Test root', validityDays: 30, now: NOW });
    const forged = await issueServerCertificate(impostor, { domainName: 'api.example.internal', validityDays: 10, now: NOW });
    const error = await refusal(verifyChain(forged.certificate, [], ca.certificate, at));
    expect((error as ChainVerificationError).code).toBe('OfflinePki.BadSignature');
  });

  test('refuses a chain outside its validity', async () => {
    const later = new Date(NOW.getTime() + 21 * DAY_MS);
    const error = await refusal(verifyChain(leaf.certificate, [], ca.certificate, later));
    expect((error as ChainVerificationError).code).toBe('OfflinePki.OutsideValidity');
    expect((error as Error).message).toContain('CN=api.example.internal is valid from 2026-12-01T00:00:00.000Z to 2026-12-21T00:00:00.000Z');
  });

  test('refuses a chain whose issuer is not a CA', async () => {
    // The leaf's key signs a certificate of its own: a signature that verifies, from a key that may not sign certificates.
    const child = await issueServerCertificate(leaf, { domainName: 'child.example.internal', validityDays: 5, now: NOW });
    const error = await refusal(verifyChain(child.certificate, [leaf.certificate], ca.certificate, at));
    expect((error as ChainVerificationError).code).toBe('OfflinePki.IssuerNotACa');
  });

  test('refuses a leaf that is not for server authentication', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as IssuedCertificate['keys'];
    const clientOnly = await x509.X509CertificateGenerator.create({
      subject: 'CN=client', issuer: ca.certificate.subjectName, notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY_MS * 5),
      publicKey: keys.publicKey, signingKey: ca.keys.privateKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    });
    const error = await refusal(verifyChain(clientOnly, [], ca.certificate, at));
    expect((error as ChainVerificationError).code).toBe('OfflinePki.NotForServerAuth');
  });
});

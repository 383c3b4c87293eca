/**
 * The lab's offline PKI: a root CA and a server certificate made on the learner's machine with @peculiar/x509 over
 * Node's WebCrypto (ECDSA P-256, SHA-256), and a chain check that needs no network. The exercise imports what this
 * makes into ACM (an imported certificate) and checks what AWS Private CA issued with `verifyChain`.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { PRIVATE_CA_LIMITS } from '../../lib/private-certificate-authority/limits';

/** The library, for code that must load it after the Reflect polyfill above (tests, the exercise). */
export { x509 };

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/**
 * How far before the current time a certificate's validity starts unless told: ACM's ImportCertificate refuses a
 * certificate that is not valid yet, which a learner's clock a little ahead of AWS's would otherwise make.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;
const validityStart = (now: Date | undefined) => now ?? new Date(Date.now() - CLOCK_SKEW_ALLOWANCE_MS);
/** id-kp-serverAuth: the certificate may authenticate a TLS server. */
export const SERVER_AUTH = x509.ExtendedKeyUsage.serverAuth;

/** A problem in what the offline PKI was asked to make, or in a chain it was asked to trust. */
export interface PkiProblem {
  /** `OfflinePki.<Code>` */
  readonly code: string;
  readonly message: string;
}

/** Bad input to the offline PKI: every problem at once, each with its code. */
export class OfflinePkiError extends Error {
  constructor(readonly problems: readonly PkiProblem[]) {
    super(problems.map((p) => `[${p.code}] ${p.message}`).join('\n'));
    this.name = 'OfflinePkiError';
  }
}

/** A chain that does not lead to the trusted root, or that a client must refuse. */
export class ChainVerificationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
    this.name = 'ChainVerificationError';
  }
}

/** A certificate with the key pair of its subject. */
export interface IssuedCertificate {
  readonly certificate: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

export interface RootCaOptions {
  readonly commonName: string;
  readonly validityDays: number;
  /** When the validity starts. @default CLOCK_SKEW_ALLOWANCE_MS before the current time */
  readonly now?: Date;
}

export interface ServerCertificateOptions {
  readonly domainName: string;
  readonly subjectAlternativeNames?: readonly string[];
  readonly validityDays: number;
  /** When the validity starts. @default CLOCK_SKEW_ALLOWANCE_MS before the current time */
  readonly now?: Date;
}

const isDomainName = (name: string) =>
  name.length <= PRIVATE_CA_LIMITS.maxDomainNameLength && PRIVATE_CA_LIMITS.domainNamePattern.test(name);

const generateKeys = async () => (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;

function validityProblem(days: number): PkiProblem[] {
  return Number.isInteger(days) && days > 0
    ? []
    : [{ code: 'OfflinePki.ValidityNotPositive', message: `validityDays must be a whole number of days above 0, got ${days}` }];
}

/** A self-signed root CA: CA:TRUE with path length 0 (it signs end-entity certificates only), keyCertSign and cRLSign. */
export async function createRootCa(options: RootCaOptions): Promise<IssuedCertificate> {
  const problems = validityProblem(options.validityDays);
  if (options.commonName.length === 0 || options.commonName.length > PRIVATE_CA_LIMITS.maxCommonNameLength) {
    problems.push({ code: 'OfflinePki.CommonNameLength', message: `commonName must have 1–64 characters, got ${options.commonName.length}` });
  }
  if (problems.length > 0) throw new OfflinePkiError(problems);
  const keys = await generateKeys();
  const notBefore = validityStart(options.now);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [options.commonName] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.validityDays * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

/**
 * A TLS server certificate signed by `ca`: CA:FALSE, digitalSignature (an ECDSA key signs the handshake; there is no
 * key to encipher), serverAuth, the names as DNS subject alternative names (what clients match, not the CN). Refused
 * when it would outlive the CA or a name is not a DNS name.
 */
export async function issueServerCertificate(ca: IssuedCertificate, options: ServerCertificateOptions): Promise<IssuedCertificate> {
  const names = [options.domainName, ...(options.subjectAlternativeNames ?? [])];
  const problems = validityProblem(options.validityDays);
  for (const name of names.filter((n) => !isDomainName(n))) {
    problems.push({ code: 'OfflinePki.NotADomainName', message: `${JSON.stringify(name)} is not a DNS name` });
  }
  const notBefore = validityStart(options.now);
  const notAfter = new Date(notBefore.getTime() + options.validityDays * DAY_MS);
  if (notAfter > ca.certificate.notAfter) {
    problems.push({
      code: 'OfflinePki.ValidityOutlivesCa',
      message: `the certificate would end ${notAfter.toISOString()}, after its CA (${ca.certificate.notAfter.toISOString()}): clients would stop trusting it early`,
    });
  }
  if (problems.length > 0) throw new OfflinePkiError(problems);
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [options.domainName] }],
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([SERVER_AUTH], false),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })), false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false),
    ],
  });
  return { certificate, keys };
}

/** The private key as unencrypted PKCS #8 PEM: what ACM's ImportCertificate takes. */
export async function privateKeyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

/** The certificates of a PEM bundle (a chain as ACM returns it: several certificates one after the other). */
export function parsePemBundle(pem: string): x509.X509Certificate[] {
  return x509.PemConverter.decode(pem).map((der) => new x509.X509Certificate(der));
}

/** The DNS names of a certificate's subject alternative name extension. */
export function dnsNamesOf(certificate: x509.X509Certificate): string[] {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => n.value);
}

/** Whether a certificate's key may sign other certificates: CA:TRUE and, when a key usage is given, keyCertSign. */
function canSignCertificates(certificate: x509.X509Certificate): boolean {
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  const ca = certificate.getExtension(x509.BasicConstraintsExtension)?.ca === true;
  return ca && (!usage || (usage.usages & x509.KeyUsageFlags.keyCertSign) !== 0);
}

/**
 * The path from `leaf` up through `candidates`, by names as a client builds it before checking anything: each step
 * takes the candidate whose subject is the current certificate's issuer, until a self-signed certificate or no issuer.
 */
function buildPath(leaf: x509.X509Certificate, candidates: readonly x509.X509Certificate[]): x509.X509Certificate[] {
  const path = [leaf];
  for (let current = leaf; current.issuer !== current.subject && path.length <= candidates.length; ) {
    const issuer = candidates.find((candidate) => candidate.subject === current.issuer && !path.includes(candidate));
    if (!issuer) break;
    path.push(issuer);
    current = issuer;
  }
  return path;
}

/**
 * Verifies, as a TLS client would before trusting a server, that `leaf` chains through `intermediates` to
 * `trustedRoot`: every signature checks with the issuer's key, every certificate is valid at `at`, every issuer is
 * a CA allowed to sign certificates, the leaf is for server authentication, and the path ends at the trusted root
 * itself (same bytes), not at another self-signed certificate with the same name. Returns the path, leaf first.
 */
export async function verifyChain(
  leaf: x509.X509Certificate,
  intermediates: readonly x509.X509Certificate[],
  trustedRoot: x509.X509Certificate,
  at = new Date(),
): Promise<x509.X509Certificate[]> {
  const path = buildPath(leaf, [...intermediates, trustedRoot]);
  const top = path[path.length - 1];
  if (!Buffer.from(top.rawData).equals(Buffer.from(trustedRoot.rawData))) {
    throw new ChainVerificationError('OfflinePki.UntrustedRoot', `the chain of ${leaf.subject} ends at ${top.subject}, not at the trusted root ${trustedRoot.subject}`);
  }
  for (const [index, certificate] of path.entries()) {
    const issuer = path[index + 1] ?? trustedRoot;
    if (!(await certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true }))) {
      throw new ChainVerificationError('OfflinePki.BadSignature', `the signature of ${certificate.subject} does not verify with the key of ${issuer.subject}`);
    }
    if (at < certificate.notBefore || at > certificate.notAfter) {
      throw new ChainVerificationError(
        'OfflinePki.OutsideValidity',
        `${certificate.subject} is valid from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}, not at ${at.toISOString()}`,
      );
    }
    if (index > 0 && !canSignCertificates(certificate)) {
      throw new ChainVerificationError('OfflinePki.IssuerNotACa', `${certificate.subject} signs ${path[index - 1].subject} but is not a CA allowed to sign certificates`);
    }
  }
  const usages = leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  if (!usages.includes(SERVER_AUTH)) {
    throw new ChainVerificationError('OfflinePki.NotForServerAuth', `${leaf.subject} has no serverAuth extended key usage (${usages.join(', ') || 'none'})`);
  }
  return path;
}

/**
 * Limits of AWS Private CA and ACM that PrivateCertificateAuthority checks its props against at synth. This file
 * imports nothing, so code that must not load CDK (a lab's parameters, its offline PKI) shares them.
 */
export const PRIVATE_CA_LIMITS = {
  /**
   * ACM issues every private certificate for 13 months, and the request fails unless the signing CA's certificate
   * ends later (ACM user guide, "Private certificates in AWS Certificate Manager").
   */
  acmPrivateCertificateValidityDays: 395,
  /** X.509's upper bound of a common name (RFC 5280, ub-common-name). */
  maxCommonNameLength: 64,
  /** A DNS name has at most 253 characters. */
  maxDomainNameLength: 253,
  /**
   * ACM takes DNS-compliant names only: dot-separated labels of 1–63 letters, digits or hyphens (not first or last),
   * at least two labels, and a leading `*.` for a wildcard.
   */
  domainNamePattern: /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i,
} as const;

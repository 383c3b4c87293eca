import { totp } from '../../../labs/cognito/session';

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (base32 below), last 6 of the 8 published digits.
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test.each([
  [59, '287082'],
  [1_111_111_109, '081804'],
  [1_111_111_111, '050471'],
  [1_234_567_890, '005924'],
  [2_000_000_000, '279037'],
  [20_000_000_000, '353130'],
])('TOTP at %d s is %s (RFC 6238 test vector)', (seconds, code) => {
  expect(totp(SEED, seconds * 1000)).toBe(code);
});

test('codes change every 30 s and ignore base32 padding, case and spaces', () => {
  expect(totp(SEED, 60_000)).not.toBe(totp(SEED, 90_000));
  expect(totp('gezd gnbv gy3t qojq gezd gnbv gy3t qojq====', 59_000)).toBe('287082');
  expect(() => totp('not-base32!', 0)).toThrow('not a base32 character: -');
});

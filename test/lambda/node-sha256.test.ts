import { NodeSha256 } from '../../lambda/node-sha256';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
// SHA-256("abc") from FIPS 180-2 (appendix B.1); HMAC-SHA-256 of RFC 4231, test case 2 (key "Jefe").
const SHA256_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const HMAC_JEFE = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';

async function digestOf(hash: NodeSha256, ...chunks: (string | ArrayBuffer | ArrayBufferView)[]): Promise<string> {
  for (const chunk of chunks) hash.update(chunk);
  return hex(await hash.digest());
}

test('hashes what it is given, in chunks, whether strings, byte views or buffers', async () => {
  expect(await digestOf(new NodeSha256(), 'abc')).toBe(SHA256_ABC);
  expect(await digestOf(new NodeSha256(), 'a', new TextEncoder().encode('b'), new TextEncoder().encode('c').buffer)).toBe(SHA256_ABC);
  // Only the view's own bytes count, not the rest of the buffer it looks into.
  expect(await digestOf(new NodeSha256(), new Uint8Array(Buffer.from('xabcx')).subarray(1, 4))).toBe(SHA256_ABC);
});

test('with a secret it is HMAC-SHA-256, the secret given as a string or as bytes', async () => {
  expect(await digestOf(new NodeSha256('Jefe'), 'what do ya want for nothing?')).toBe(HMAC_JEFE);
  expect(await digestOf(new NodeSha256(new TextEncoder().encode('Jefe')), 'what do ya want for nothing?')).toBe(HMAC_JEFE);
});

test('reset starts over, keeping the secret', async () => {
  const hmac = new NodeSha256('Jefe');
  hmac.update('something else');
  hmac.reset();
  expect(await digestOf(hmac, 'what do ya want for nothing?')).toBe(HMAC_JEFE);
});

import { presignUrl, signRequest, SigningError } from '../../../labs/iam-sts/sigv4';

// AWS Signature Version 4 test suite (credentials and date of every vector in it).
const suite = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  service: 'service',
  date: new Date('2015-08-30T12:36:00Z'),
};

test('signs the test suite\'s get-vanilla request to its published signature', async () => {
  const signed = await signRequest({ ...suite, method: 'GET', url: 'https://example.amazonaws.com/' });
  expect(signed.headers.authorization).toBe(
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ' +
      'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  );
  expect(signed.headers['x-amz-date']).toBe('20150830T123600Z');
});

test('sorts the query as get-vanilla-query-order-key-case expects', async () => {
  const signed = await signRequest({ ...suite, method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1' });
  expect(signed.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
});

test('presigns the S3 documentation\'s query-string example to its published signature', async () => {
  const presigned = await presignUrl({
    method: 'GET',
    url: 'https://examplebucket.s3.amazonaws.com/test.txt',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    region: 'us-east-1',
    service: 's3',
    date: new Date('2013-05-24T00:00:00Z'),
    expiresInSeconds: 86_400,
  });
  expect(presigned.url).toBe(
    'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  );
});

test('temporary credentials add X-Amz-Security-Token, and change the signature', async () => {
  const base = { ...suite, method: 'GET', url: 'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15', service: 'sts', expiresInSeconds: 60 };
  const plain = await presignUrl(base);
  const session = await presignUrl({ ...base, credentials: { ...suite.credentials, sessionToken: 'token' } });
  expect(new URL(session.url).searchParams.get('X-Amz-Security-Token')).toBe('token');
  expect(session.signature).not.toBe(plain.signature);
});

test('bad input gives a clear error', async () => {
  await expect(signRequest({ ...suite, method: 'GET', url: 'example.amazonaws.com/' })).rejects.toThrow(new SigningError('not an absolute URL: example.amazonaws.com/'));
  await expect(signRequest({ ...suite, method: 'GET', url: 'https://e.amazonaws.com/', region: 'Virginia' })).rejects.toThrow('not a Region: "Virginia"');
  await expect(signRequest({ ...suite, method: 'GET', url: 'https://e.amazonaws.com/', credentials: { accessKeyId: '', secretAccessKey: '' } })).rejects.toThrow(
    'credentials need an accessKeyId and a secretAccessKey',
  );
  await expect(presignUrl({ ...suite, method: 'GET', url: 'https://e.amazonaws.com/', expiresInSeconds: 604_801 })).rejects.toThrow(
    'expiresInSeconds must be a whole number from 1 to 604800 (7 days), got 604801',
  );
});

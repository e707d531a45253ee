/**
 * The tests' S3 server (scripts/s3-server.sh) checks signatures, as a real store does: objects put
 * and read with the right keys, 403 for a bad secret, an expired presigned URL and an anonymous GET.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_ENV, s3Available, s3Client, tempBucket } from '../helpers/s3.js';

const hasS3 = await s3Available();
if (!hasS3) console.warn(`s3-server.test.ts: SKIPPED: no S3 server on ${S3_ENV.AWS_ENDPOINT_URL_S3} (start it with scripts/s3-server.sh, as .ci/run does)`);

describe.skipIf(!hasS3)('the S3 server of the tests', () => {
  let bucket: Awaited<ReturnType<typeof tempBucket>>;
  const body = Buffer.from('omniprep object store test body\n');
  beforeAll(async () => {
    bucket = await tempBucket();
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'a/b.txt', Body: body }));
  }, 120_000);
  afterAll(async () => bucket?.drop());

  it('serves a signed GET and a presigned URL with the bytes put', async () => {
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'a/b.txt' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
    const url = await getSignedUrl(bucket.client, new GetObjectCommand({ Bucket: bucket.name, Key: 'a/b.txt' }), { expiresIn: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
  });

  it('refuses a bad secret, an expired presigned URL and an anonymous GET with 403', async () => {
    const bad = s3Client('not-the-secret');
    const refused = await bad.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'a/b.txt' })).then(
      () => undefined,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    bad.destroy();
    expect(refused).toBe(403);
    // Signed an hour ago for 60 s: expired without waiting.
    const expired = await getSignedUrl(bucket.client, new GetObjectCommand({ Bucket: bucket.name, Key: 'a/b.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3600_000),
    });
    expect((await fetch(expired)).status).toBe(403);
    expect((await fetch(`${S3_ENV.AWS_ENDPOINT_URL_S3}/${bucket.name}/a/b.txt`)).status).toBe(403);
  });
});

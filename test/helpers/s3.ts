/**
 * The S3 server of the object-store tests (scripts/s3-server.sh: Ceph's RADOS Gateway on
 * 127.0.0.1:7480, started by .ci/run). Its endpoint and keys come from the environment the script
 * prints, else its defaults; tests skip with one line when nothing answers there.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

export const S3_ENV = {
  AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3 ?? 'http://127.0.0.1:7480',
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'omniprep-test-key',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'omniprep-test-secret',
  AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
};

/** True when the S3 endpoint answers HTTP within 2 s. */
export async function s3Available(): Promise<boolean> {
  try {
    await fetch(S3_ENV.AWS_ENDPOINT_URL_S3, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

export function s3Client(secret = S3_ENV.AWS_SECRET_ACCESS_KEY): S3Client {
  return new S3Client({
    endpoint: S3_ENV.AWS_ENDPOINT_URL_S3,
    region: S3_ENV.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: secret },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key under a prefix of a bucket. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) keys.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** A new empty bucket; `drop()` empties and removes it. */
export async function tempBucket(): Promise<{ name: string; client: S3Client; drop(): Promise<void> }> {
  const client = s3Client();
  const name = `omniprep-test-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    client,
    async drop() {
      const keys = await listKeys(client, name);
      for (let i = 0; i < keys.length; i += 1000)
        await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}

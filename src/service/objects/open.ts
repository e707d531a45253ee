/**
 * The node's object store: the data directory (the embedded default: files stay where they were
 * always kept), or S3-compatible storage with `--store s3://BUCKET/PREFIX`, checked at start-up
 * (wrong credentials, a missing bucket or an unreachable endpoint fail in one line). The SDK is
 * loaded only when a store is given.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ResolvedConfig } from '../config.js';
import { loadOptional } from '../../util/optional.js';
import { LocalObjects } from './local.js';
import type { ObjectStore } from './types.js';

export interface OpenedObjects {
  objects: ObjectStore;
  /** The store endpoint's addresses: the range reader may reach them for the store's own objects (loopback or private). */
  endpointAddresses: ReadonlySet<string>;
}

async function addressesOf(endpoint: string | undefined): Promise<Set<string>> {
  if (!endpoint) return new Set();
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return new Set([host]);
  return new Set((await lookup(host, { all: true }).catch(() => [])).map((a) => a.address));
}

export async function openObjects(config: ResolvedConfig): Promise<OpenedObjects> {
  if (!config.store) return { objects: new LocalObjects(config.dataDir), endpointAddresses: new Set() };
  // The SDK warns on Node 20 (which omniprep supports) in seven lines on stderr, at every start:
  // a node's start-up says one line, unless the operator asks for the SDK's warning.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Objects } = await loadOptional('--store s3://', () => import('./s3.js'));
  const objects = new S3Objects(config.store, { endpoint: config.s3Endpoint });
  try {
    await objects.check();
  } catch (e) {
    objects.close();
    throw e;
  }
  return { objects, endpointAddresses: await addressesOf(objects.endpoint) };
}

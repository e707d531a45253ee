/**
 * The SSRF-safe downloader. Every request goes to a server on 127.0.0.1 that this test runs; host
 * names are resolved by a stub (media.test -> 127.0.0.1), which also shows that the connection
 * goes to the address the check saw, not to a second lookup.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OmniprepError } from '../../src/errors.js';
import { checkUrl, download, forbiddenAddressReason, parseIPv6, type DownloadOptions } from '../../src/source/download.js';
import { resolveConfig } from '../../src/service/config.js';
import { DataDir } from '../../src/service/data.js';
import { ensureInput, intakeUrl } from '../../src/service/intake.js';
import { fixture, tempDir } from '../helpers/fixtures.js';
import { api, startService, waitJob } from '../helpers/service.js';

describe('addresses', () => {
  it('refuses loopback, private, link-local, multicast, unspecified and reserved IPv4', () => {
    const refused: Array<[string, RegExp]> = [
      ['127.0.0.1', /loopback/],
      ['127.255.0.9', /loopback/],
      ['10.0.0.1', /private/],
      ['172.16.5.4', /private/],
      ['172.31.255.255', /private/],
      ['192.168.1.1', /private/],
      ['169.254.169.254', /link-local/],
      ['100.64.0.1', /CGNAT/],
      ['0.0.0.0', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['239.255.255.250', /multicast/],
      ['240.0.0.1', /reserved/],
      ['255.255.255.255', /broadcast/],
      ['192.0.2.10', /documentation/],
      ['198.18.0.1', /benchmarking/],
    ];
    for (const [ip, why] of refused) expect(forbiddenAddressReason(ip), ip).toMatch(why);
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '93.184.216.34'])
      expect(forbiddenAddressReason(ip), ip).toBeUndefined();
  });

  it('refuses the same in IPv6, IPv4 inside IPv6 included', () => {
    const refused: Array<[string, RegExp]> = [
      ['::1', /loopback/],
      ['::', /unspecified/],
      ['fe80::1', /link-local/],
      ['fe80::1%eth0', /link-local/],
      ['fc00::1', /unique local/],
      ['fd12:3456::1', /unique local/],
      ['ff02::1', /multicast/],
      ['::ffff:127.0.0.1', /loopback address \(IPv4 inside IPv6\)/],
      ['::ffff:7f00:1', /loopback/],
      ['::ffff:10.0.0.1', /private/],
      ['::ffff:169.254.169.254', /link-local/],
      ['::127.0.0.1', /loopback/],
      ['64:ff9b::10.0.0.1', /private/],
      ['2002:a9fe:a9fe::1', /link-local/], // 6to4 around 169.254.169.254
      ['2001:db8::1', /documentation/],
      ['fec0::1', /site-local/],
      ['2001::1', /Teredo/],
    ];
    for (const [ip, why] of refused) expect(forbiddenAddressReason(ip), ip).toMatch(why);
    for (const ip of ['2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])
      expect(forbiddenAddressReason(ip), ip).toBeUndefined();
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6('1::2::3')).toBeUndefined();
    expect(parseIPv6('1:2:3')).toBeUndefined();
  });

  it('checks URLs: scheme, credentials, and every address a name resolves to', async () => {
    const code = async (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: OmniprepError) => `${e.code}: ${e.message}`,
      );
    expect(await code(checkUrl('file:///etc/passwd'))).toMatch(/^FORBIDDEN_URL: file:\/\/\/etc\/passwd: the scheme file is refused/);
    expect(await code(checkUrl('ftp://example.com/x'))).toMatch(/FORBIDDEN_URL: .*scheme ftp/);
    expect(await code(checkUrl('http://user:pw@example.com/x'))).toMatch(/FORBIDDEN_URL: .*credentials/);
    expect(await code(checkUrl('not a url'))).toMatch(/FORBIDDEN_URL: not a url: is not a valid URL/);
    expect(await code(checkUrl('http://2130706433/'))).toMatch(/FORBIDDEN_URL: .*loopback/); // 127.0.0.1 as a number
    expect(await code(checkUrl('http://0x7f.1/'))).toMatch(/FORBIDDEN_URL: .*loopback/);
    // A name that resolves to a public and a private address (DNS rebinding) is refused outright.
    const mixed = async (): Promise<Array<{ address: string; family: number }>> => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    expect(await code(checkUrl('https://cdn.example/x.mp4', { resolve: mixed }))).toMatch(
      /FORBIDDEN_URL: .*cdn\.example resolves to 10\.0\.0\.7, which is a private address/,
    );
    const fails = async (): Promise<never> => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    expect(await code(checkUrl('https://nowhere.example/', { resolve: fails }))).toMatch(/^NOT_FOUND: .*cannot be resolved \(ENOTFOUND\)/);
    const pub = async (): Promise<Array<{ address: string; family: number }>> => [{ address: '93.184.216.34', family: 4 }];
    expect(await checkUrl('https://cdn.example/x.mp4', { resolve: pub })).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(await checkUrl('http://10.0.0.7/', { allowPrivate: true })).toMatchObject({ address: '10.0.0.7' });
  });
});

describe('download', () => {
  let server: Server;
  let port: number;
  const hosts: string[] = [];
  const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/file': (_q, r) => r.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body),
    '/chunked': (_q, r) => {
      r.writeHead(200);
      for (let i = 0; i < 5; i++) r.write(body);
      r.end();
    },
    '/r1': (_q, r) => r.writeHead(302, { location: '/r2' }).end(),
    '/r2': (_q, r) => r.writeHead(301, { location: `http://media.test:${port}/file` }).end(),
    '/to-private': (_q, r) => r.writeHead(302, { location: 'http://10.0.0.1/secret' }).end(),
    '/to-file': (_q, r) => r.writeHead(307, { location: 'file:///etc/passwd' }).end(),
    '/to-v6-loopback': (_q, r) => r.writeHead(308, { location: `http://[::1]:${port}/file` }).end(),
    '/loop': (_q, r) => r.writeHead(302, { location: '/loop' }).end(),
    '/slow': (_q, r) => {
      r.writeHead(200);
      r.write('a');
    },
    '/missing': (_q, r) => r.writeHead(404).end(),
    '/broken': (_q, r) => r.writeHead(500).end(),
  };
  const opts = (o: DownloadOptions = {}): DownloadOptions => ({
    resolve: async (h) => (h === 'media.test' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '192.0.2.1', family: 4 }]),
    allowAddress: (a) => a === '127.0.0.1',
    ...o,
  });
  const dir = tempDir('download-');
  const dest = join(dir, 'out');
  const fail = (p: Promise<unknown>): Promise<OmniprepError> =>
    p.then(
      () => {
        throw new Error('resolved');
      },
      (e: OmniprepError) => e,
    );

  beforeAll(async () => {
    server = createServer((req, res) => {
      hosts.push(String(req.headers.host));
      (routes[req.url!.split('?')[0]!] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches through the checked address, hashing and counting the body', async () => {
    const r = await download(`http://media.test:${port}/file`, dest, opts());
    expect(r).toMatchObject({ bytes: 5000, address: '127.0.0.1', redirects: 0, contentType: 'video/mp4' });
    expect(r.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(readFileSync(dest)).toEqual(body);
    expect(hosts.at(-1)).toBe(`media.test:${port}`); // no real DNS: the stub's address was used
  });

  it('follows redirects, checking each target; refuses too many, private targets and other schemes', async () => {
    const r = await download(`http://media.test:${port}/r1`, dest, opts());
    expect(r).toMatchObject({ bytes: 5000, redirects: 2, finalUrl: `http://media.test:${port}/file` });
    expect((await fail(download(`http://media.test:${port}/r1`, dest, opts({ maxRedirects: 1 })))).message).toMatch(/more than 1 redirects/);
    expect((await fail(download(`http://media.test:${port}/loop`, dest, opts()))).message).toMatch(/more than 5 redirects/);
    const priv = await fail(download(`http://media.test:${port}/to-private`, dest, opts()));
    expect(priv.code).toBe('FORBIDDEN_URL');
    expect(priv.message).toMatch(/^http:\/\/10\.0\.0\.1\/secret: 10\.0\.0\.1 is a private address/);
    expect((await fail(download(`http://media.test:${port}/to-file`, dest, opts()))).message).toMatch(/scheme file is refused/);
    expect((await fail(download(`http://media.test:${port}/to-v6-loopback`, dest, opts()))).message).toMatch(/::1 is a loopback address/);
    expect(existsSync(dest)).toBe(false);
  });

  it('bounds size (declared or streamed) and time, and reports HTTP errors', async () => {
    const declared = await fail(download(`http://media.test:${port}/file`, dest, opts({ maxBytes: 1000 })));
    expect([declared.code, declared.message]).toEqual(['TOO_LARGE', `http://media.test:${port}/file: is 5000 bytes, over the 1000-byte limit`]);
    const streamed = await fail(download(`http://media.test:${port}/chunked`, dest, opts({ maxBytes: 12_000 })));
    expect(streamed.code).toBe('TOO_LARGE');
    expect(streamed.message).toMatch(/passed the 12000-byte limit/);
    const t0 = Date.now();
    const slow = await fail(download(`http://media.test:${port}/slow`, dest, opts({ timeoutMs: 300 })));
    expect(slow.code).toBe('TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(3000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect((await fail(download(`http://media.test:${port}/slow`, dest, opts({ signal: ac.signal })))).code).toBe('ABORTED');
    expect((await fail(download(`http://media.test:${port}/missing`, dest, opts()))).code).toBe('NOT_FOUND');
    const e500 = await fail(download(`http://media.test:${port}/broken`, dest, opts()));
    expect([e500.code, e500.message]).toEqual(['REQUEST_FAILED', `http://media.test:${port}/broken: the server answered HTTP 500`]);
    expect((await fail(download(`http://127.0.0.1:${port}/file`, dest, {}))).code).toBe('FORBIDDEN_URL');
    expect(existsSync(dest)).toBe(false);
  });

  it('the service downloads URL inputs itself when private URLs are allowed; a worker without the blob fetches it again', async () => {
    const clip = readFileSync(await fixture('audioFirst'));
    routes['/clip.mp4'] = (_q, r) => r.writeHead(200, { 'content-length': clip.length }).end(clip);
    const s = await startService({ workers: 1, allowPrivateUrls: true });
    try {
      const r = await api(s.url, 'POST', '/v1/jobs', { url: `http://127.0.0.1:${port}/clip.mp4`, options: { every: 2 } });
      expect(r.status, r.text).toBe(202);
      expect(r.json.input).toMatchObject({ kind: 'url', bytes: clip.length, sha256: createHash('sha256').update(clip).digest('hex') });
      expect((await waitJob(s.url, r.json.id)).state).toBe('succeeded');

      // A worker on another machine (its own --data) downloads the input again and checks the hash.
      const job = (await s.svc.store.get(r.json.id))!;
      const other = new DataDir(tempDir('svc-other-'));
      await other.init();
      const config = resolveConfig({ dataDir: other.root, allowPrivateUrls: true });
      const file = await ensureInput(job.input, other, config);
      expect(readFileSync(file)).toEqual(clip);
      routes['/clip.mp4'] = (_q, res) => res.writeHead(200).end(Buffer.concat([clip, Buffer.from('x')]));
      rmSync(file);
      await expect(ensureInput(job.input, other, config)).rejects.toThrow(/serves other bytes than when the job was planned/);
      const upload = { ...job.input, kind: 'upload' as const, url: undefined };
      await expect(ensureInput(upload, other, config)).rejects.toThrow(/not on this worker .*shared --data directory, or a URL input/);
      await expect(intakeUrl(`http://127.0.0.1:${port}/missing`, other, config)).rejects.toThrow(/HTTP 404/);
    } finally {
      await s.close();
    }
  });
});

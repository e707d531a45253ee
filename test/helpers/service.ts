/** Shared by the service tests: start a service, talk to it, wait for jobs, look at child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { createService, type CreateOptions, type Service } from '../../src/service/service.js';
import type { ServiceConfig } from '../../src/service/config.js';
import { CLI } from './cli.js';
import { ROOT, tempDir } from './fixtures.js';

export interface Running {
  svc: Service;
  url: string;
  close(): Promise<void>;
}

export async function startService(cfg: ServiceConfig = {}, o: CreateOptions = {}): Promise<Running> {
  const own = cfg.dataDir ? undefined : tempDir('svc-data-');
  const svc = await createService({ dataDir: own, port: 0, ...cfg }, o);
  const url = await svc.listen();
  return {
    svc,
    url,
    close: async () => {
      await svc.close();
      if (own) rmSync(own, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  json: any;
  headers: Headers;
  text: string;
}

export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers, text };
}

export async function upload(
  base: string,
  file: string | Buffer,
  options: unknown = {},
  o: { name?: string; headers?: Record<string, string>; path?: string } = {},
): Promise<Answer> {
  const bytes = typeof file === 'string' ? await readFile(file) : file;
  const form = new FormData();
  form.append('options', typeof options === 'string' ? options : JSON.stringify(options));
  form.append('file', new Blob([bytes]), o.name ?? (typeof file === 'string' ? basename(file) : 'upload.bin'));
  const res = await fetch(base + (o.path ?? '/v1/jobs'), { method: 'POST', body: form, headers: o.headers ?? {} });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers, text };
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls a job until it ends. */
export async function waitJob(base: string, id: string, timeoutMs = 60_000, headers: Record<string, string> = {}): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(base, 'GET', `/v1/jobs/${id}`, undefined, headers);
    if (r.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${r.status} ${r.text}`);
    if (TERMINAL.has(r.json.state)) return r.json;
    if (Date.now() > until) throw new Error(`job ${id} did not finish in ${timeoutMs} ms (state ${r.json.state})`);
    await sleep(50);
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Direct children of a process, with their command names and states (from /proc). */
export function childProcesses(pid = process.pid): Array<{ pid: number; comm: string; state: string }> {
  const out: Array<{ pid: number; comm: string; state: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (Number(ppid) === pid) out.push({ pid: Number(entry), comm, state: state! });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * ffmpeg/ffprobe children that still run. Zombies (exited, not yet reaped) are left out: a child
 * of a worker thread that was terminated stays one, since its thread's event loop died with it.
 */
export const decoders = (pid = process.pid): Array<{ pid: number; comm: string; state: string }> =>
  childProcesses(pid).filter((c) => /ffmpeg|ffprobe/.test(c.comm) && c.state !== 'Z');

/** True when a Redis answers PING on 127.0.0.1:6379 within 500 ms. */
export function redisAvailable(url = 'redis://127.0.0.1:6379'): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export interface CliNode {
  child: ChildProcess;
  /** The URL a `serve` printed (undefined for a worker). */
  url: string | undefined;
  output: () => string;
  /** Resolves with the exit code or signal. */
  exited: Promise<string>;
}

/** Spawns the built CLI (`serve` or `worker`) and waits for its ready line. */
export function spawnNode(args: string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<CliNode> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<string>((r) => child.on('exit', (code, sig) => r(sig ?? String(code))));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`omniprep ${args.join(' ')} did not start in ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m || /taking jobs from/.test(out)) {
        clearTimeout(timer);
        resolve({ child, url: m?.[1], output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`omniprep ${args.join(' ')} exited (${code}) before it was ready: ${out}`));
    });
  });
}

/** A PNG whose header claims width x height (valid signature, IHDR and CRCs; almost no pixels). */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const { crc32, deflateSync } = await import('node:zlib');
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export { ROOT };

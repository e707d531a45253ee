/**
 * Upload once, re-plan by id (issue 23), against today's multipart POST /v1/plan that sends the
 * whole file with every estimate: a ~100 MB MP4 (made once at bench time with ffmpeg: testsrc2,
 * 1280x720, MPEG-4 Part 2 at -q:v 1, 80 s) is planned, then planned again after each of a few
 * option changes. Reports the bytes the client sent for each re-plan (request line, headers and
 * body, counted on the socket) and the time to the answer, both ways. Used by bench/service.ts.
 */
import { createReadStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { resolveBinary } from '../src/ffmpeg/binaries.js';
import { runProcess } from '../src/ffmpeg/runner.js';

const CHANGES = [{ every: 3 }, { every: 4, detail: 'low' }, { every: 6, maxSide: 512 }, { every: 2, model: 'gpt-4.1-mini' }, { every: 5, mode: 'exact' }];

/** The ~100 MB clip, made once under `dir`. */
export async function bigClip(dir: string): Promise<string> {
  const out = join(dir, 'upload-100mb.mp4');
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.mp4`;
  const lavfi = 'testsrc2=s=1280x720:r=25:d=80';
  await runProcess({
    command: resolveBinary('ffmpeg').path,
    input: lavfi,
    timeoutMs: 600_000,
    args: ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', lavfi, '-c:v', 'mpeg4', '-q:v', '1', '-g', '50', `file:${tmp}`],
  });
  renameSync(tmp, out);
  return out;
}

interface Sent {
  status: number;
  json: any;
  bytesSent: number;
  ms: number;
}

/** One POST through node:http, counting what went out on the socket. */
function post(url: string, headers: Record<string, string | number>, body: string | (() => Readable[])): Promise<Sent> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), bytesSent: req.socket?.bytesWritten ?? 0, ms: performance.now() - started });
      });
    });
    req.on('error', reject);
    if (typeof body === 'string') return void req.end(body);
    const parts = body();
    const next = (): void => {
      const p = parts.shift();
      if (!p) return void req.end();
      p.on('end', next);
      p.pipe(req, { end: false });
    };
    next();
  });
}

const json = (url: string, body: unknown): Promise<Sent> => {
  const text = JSON.stringify(body);
  return post(url, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, text);
};

/** A multipart form with the file (and options, when given), streamed. */
function form(url: string, file: string, options?: unknown): Promise<Sent> {
  const boundary = `----omniprep${Date.now()}`;
  const opts = options === undefined ? '' : `--${boundary}\r\ncontent-disposition: form-data; name="options"\r\n\r\n${JSON.stringify(options)}\r\n`;
  const head = `${opts}--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="clip.mp4"\r\ncontent-type: video/mp4\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const length = Buffer.byteLength(head) + statSync(file).size + Buffer.byteLength(tail);
  const text = (s: string): Readable => Readable.from([Buffer.from(s)]);
  return post(url, { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length }, () => [
    text(head),
    createReadStream(file),
    text(tail),
  ]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

function check(r: Sent, what: string): Sent {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r;
}

/** The measurement: upload once and re-plan by id, against the multipart POST /v1/plan each time. */
export async function replanBench(url: string, dir: string, log: (s: string) => void): Promise<Record<string, unknown>> {
  const clip = await bigClip(dir);
  const size = statSync(clip).size;
  log(`replan: a ${round(size / 1e6)} MB clip; ${CHANGES.length} option changes each way`);
  // Today: the whole file with every estimate.
  const first = check(await form(`${url}/v1/plan`, clip, { every: 2 }), 'multipart plan');
  const multipart: Sent[] = [];
  for (const o of CHANGES) multipart.push(check(await form(`${url}/v1/plan`, clip, o), 'multipart re-plan'));
  // Upload once, then plans by id.
  const uploaded = check(await form(`${url}/v1/uploads`, clip), 'upload');
  const id = uploaded.json.id as string;
  const firstById = check(await json(`${url}/v1/plan`, { upload: id, options: { every: 2 } }), 'plan by id');
  const byId: Sent[] = [];
  for (const o of CHANGES) byId.push(check(await json(`${url}/v1/plan`, { upload: id, options: o }), 're-plan by id'));
  const same = CHANGES.every((_, i) => JSON.stringify(byId[i]!.json.frames) === JSON.stringify(multipart[i]!.json.frames));
  return {
    fileBytes: size,
    changes: CHANGES.length,
    multipartEveryTime: {
      firstPlanMs: round(first.ms),
      replanBytesSent: median(multipart.map((r) => r.bytesSent)),
      replanMs: { median: round(median(multipart.map((r) => r.ms))), max: round(Math.max(...multipart.map((r) => r.ms))) },
    },
    uploadOnce: {
      uploadMs: round(uploaded.ms),
      uploadBytesSent: uploaded.bytesSent,
      firstPlanMs: round(firstById.ms),
      replanBytesSent: median(byId.map((r) => r.bytesSent)),
      replanMs: { median: round(median(byId.map((r) => r.ms))), max: round(Math.max(...byId.map((r) => r.ms))) },
    },
    samePlans: same,
  };
}

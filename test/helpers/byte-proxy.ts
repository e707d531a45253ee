/**
 * TEST CODE. An HTTP proxy in front of a service that counts what each request sends: its request
 * line and headers as they arrived, and every byte of its body as it streamed through (a browser's
 * own count leaves a multipart body's file out). The page is opened at the proxy's URL.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Counted {
  method: string;
  path: string;
  /** Request line and headers, as received. */
  headerBytes: number;
  bodyBytes: number;
}

export interface ByteProxy {
  url: string;
  /** Every request that has ended its body, in order. */
  requests: Counted[];
  close(): Promise<void>;
}

function headerBytes(req: IncomingMessage): number {
  let n = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`.length + 2;
  for (let i = 0; i < req.rawHeaders.length; i += 2) n += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`.length;
  return n;
}

export async function startByteProxy(target: string): Promise<ByteProxy> {
  const to = new URL(target);
  const requests: Counted[] = [];
  const server: Server = createServer((req, res) => {
    const counted: Counted = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, headerBytes: headerBytes(req), bodyBytes: 0 };
    req.on('data', (chunk: Buffer) => {
      counted.bodyBytes += chunk.length;
    });
    req.on('end', () => requests.push(counted));
    const out = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

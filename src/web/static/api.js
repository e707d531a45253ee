// The service's API as the page uses it: every request carries the bearer token in the
// Authorization header (never in a URL); the token lives in sessionStorage for this tab only.

const TOKEN_KEY = 'omniprep.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let unauthorized = () => {};

/** Called with the error whenever the server answers 401. */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lasts until the page is left */
  }
  memoryToken = token;
}

let memoryToken = getToken();

export function authHeaders() {
  const t = memoryToken || getToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function failure(status, text) {
  let code = `HTTP_${status}`;
  let message = `the server answered ${status}`;
  try {
    const j = JSON.parse(text);
    if (j?.error) {
      code = j.error.code;
      message = j.error.message;
    }
  } catch {
    /* not JSON */
  }
  const e = new ApiError(status, code, message);
  if (status === 401) unauthorized(e);
  return e;
}

/** fetch with the token; JSON or FormData bodies; answers the parsed JSON (or the Response with raw). */
export async function api(method, path, body, o = {}) {
  const headers = { ...authHeaders() };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, signal: o.signal, cache: 'no-store', credentials: 'omit' });
  if (o.raw) {
    if (!res.ok) throw await failure(res.status, await res.text());
    return res;
  }
  const text = await res.text();
  if (!res.ok) throw await failure(res.status, text);
  return o.text ? text : text ? JSON.parse(text) : undefined;
}

/**
 * POST a FormData with upload progress (fetch cannot report it): resolves with the JSON answer.
 * A connection that fails before the whole body was sent is tried once more: the server cannot
 * have acted on a body it did not get (a job needs its whole file), so nothing is done twice.
 */
export function upload(path, form, onProgress, o = {}) {
  return sendForm(path, form, onProgress, o).catch((e) => {
    if (!(e instanceof ApiError && e.code === 'NETWORK' && !e.sent) || o.signal?.aborted) throw e;
    return new Promise((r) => setTimeout(r, 250)).then(() => sendForm(path, form, onProgress, o));
  });
}

function sendForm(path, form, onProgress, o) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let sent = false;
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => {
      sent = true;
    };
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch (e) {
          reject(e);
        }
      } else reject(await failure(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(Object.assign(new ApiError(0, 'NETWORK', 'the server could not be reached'), { sent }));
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'the upload was cancelled'));
    if (o.signal) o.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/**
 * A job's or an eval's server-sent events (`path`: /v1/jobs/ID/events), read with fetch
 * (EventSource cannot send the Authorization header). Calls onEvent(name, data) for each event;
 * resolves when the server ends the stream.
 */
export async function events(path, onEvent, signal) {
  const res = await api('GET', path, undefined, { raw: true, signal });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (!data.length) continue; // a comment (keep-alive)
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        parsed = data.join('\n');
      }
      onEvent(name, parsed);
    }
  }
}

/** An image or audio chunk the API serves, as a blob URL (the request carries the token; an <img> or <audio> src could not). */
export async function blobUrl(path, signal) {
  const res = await api('GET', path, undefined, { raw: true, signal });
  return URL.createObjectURL(await res.blob());
}

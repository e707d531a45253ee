// Files sent once: POST /v1/uploads stores a file by its hash on the server, and every estimate,
// curve, job and eval after names it by id, so changing an option never sends the file again.
import { ApiError, upload } from './api.js';
import { kb } from './dom.js';

export const fileKey = (f) => `${f.name}:${f.size}:${f.lastModified}`;

/** An upload the server no longer has (it expired unheld): the caller sends it again, once. */
export const uploadGone = (e) => e instanceof ApiError && (e.status === 404 || e.status === 410) && /upload/i.test(e.message);

/**
 * One file input's uploads: `id(file)` resolves with the file's upload id, sending it only the
 * first time (or again with `again`, after the server let it expire); progress shows in `bar` and
 * `status` (a live region).
 */
export function uploader(bar, status) {
  let current = null; // { key, promise }
  let abort = null;
  return function id(file, again = false) {
    if (!file) return Promise.resolve(undefined);
    const key = fileKey(file);
    if (!again && current?.key === key) return current.promise;
    abort?.abort();
    abort = new AbortController();
    bar.hidden = false;
    bar.value = 0;
    status.textContent = `Uploading ${file.name}…`;
    const form = new FormData();
    form.append('file', file, file.name);
    const progress = (f) => {
      bar.value = f;
      status.textContent = f < 1 ? `Uploading ${file.name}… ${Math.round(f * 100)}%` : `Uploaded ${file.name}; checking it…`;
    };
    const promise = upload('/v1/uploads', form, progress, { signal: abort.signal }).then(
      (u) => {
        if (current?.promise === promise) {
          bar.hidden = true;
          status.textContent = `${file.name} (${kb(u.size)}) uploaded once${u.deduplicated ? ' (the server had it already)' : ''}: estimates and jobs name it by id.`;
        }
        return u.id;
      },
      (e) => {
        if (current?.promise === promise) {
          bar.hidden = true;
          status.textContent = '';
          current = null;
        }
        throw e;
      },
    );
    current = { key, promise };
    return promise;
  };
}

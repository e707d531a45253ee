// The omniprep page: choose an input and options, see the plan and the cost curve, run the job,
// follow it, look at its frames. Everything goes through the service's API (api.js); text from
// the server is only ever set as textContent.
import { api, ApiError, events, getToken, blobUrl, onUnauthorized, setToken } from './api.js';
import { $, confirmDelete, el, kb, num, saveText, secs, usd } from './dom.js';
import { evalModels } from './eval.js';
import { fileKey, uploader, uploadGone } from './uploads.js';

const STEPS = [0.25, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 60, 120];
const CURVE_EVERY = [1, 2, 5, 10, 30];
const INPUT_CODES = new Set([
  'NOT_FOUND',
  'NOT_A_FILE',
  'EMPTY',
  'UNSUPPORTED_FORMAT',
  'CORRUPT',
  'NO_VIDEO_STREAM',
  'NO_AUDIO_STREAM',
  'TOO_LARGE',
  'FORBIDDEN_PATH',
  'FORBIDDEN_URL',
  'PROCESS_FAILED',
  'TIMEOUT',
  'LIMIT_EXCEEDED',
]);
const FIELDS = ['every', 'start', 'end', 'maxFrames', 'maxSide', 'grid', 'model', 'detail', 'tier', 'budget', 'prompt', 'call', 'api'];

const state = {
  models: [],
  file: null,
  planSeq: 0,
  planAbort: null,
  curveKey: '',
  curveSeq: 0,
  curveUrl: null,
  job: null,
  follow: null,
  blobs: new Map(),
  cursor: null,
  authorized: false,
  lastPlan: null,
  curve: null,
  manifestText: null,
};

// ---------- token ----------

function needToken(e) {
  state.authorized = false;
  const t = $('token');
  t.setAttribute('aria-invalid', 'true');
  $('token-status').textContent =
    e && e.code === 'UNAUTHORIZED' && /wrong/.test(e.message) ? 'The token is wrong: type the right one.' : 'This server needs a bearer token: type it here.';
  $('token-status').className = 'status error';
  clearJobs();
  if (document.activeElement !== t) t.focus();
}

function tokenOk() {
  state.authorized = true;
  $('token').removeAttribute('aria-invalid');
  $('token-status').className = 'status';
  $('token-status').textContent = getToken() ? 'Token in use (kept for this tab only).' : '';
}

onUnauthorized(needToken);

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('token').value.trim());
  void start();
});

// ---------- form ----------

function kind() {
  return document.querySelector('input[name="kind"]:checked').value;
}

function showKind() {
  const k = kind();
  for (const name of ['upload', 'path', 'url']) $(`kind-${name}`).hidden = name !== k;
}

function numberField(id) {
  const v = $(id).value.trim();
  if (v === '') return undefined;
  return Number(v);
}

/** The job options from the form (only what the user set). */
function options() {
  const o = {};
  const every = numberField('every');
  if (every !== undefined) o.every = every;
  o.mode = $('mode').value;
  for (const k of ['start', 'end', 'maxFrames', 'maxSide', 'budget']) {
    const v = numberField(k);
    if (v !== undefined) o[k] = v;
  }
  const grid = $('grid').value.trim();
  if (grid) {
    const m = /^(\d+)\s*[x×]\s*(\d+)$/i.exec(grid);
    if (!m) throw new FieldError('grid', 'grid: write it as COLSxROWS, e.g. 2x2');
    o.grid = { cols: Number(m[1]), rows: Number(m[2]) };
  }
  if ($('dedup').checked) o.dedup = true;
  o.model = $('model').value;
  if ($('detail').value) o.detail = $('detail').value;
  o.tier = $('tier').value;
  if ($('audio').checked) o.audio = true;
  const prompt = $('prompt').value;
  if (prompt.trim()) o.prompt = prompt;
  if ($('api').value) o.api = $('api').value;
  if (currentModel()?.video) o.send = $('send').value;
  return o;
}

const currentModel = () => state.models.find((x) => x.name === $('model').value);

class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

const uploadedId = uploader($('upload-progress'), $('upload-status'));

/** The input as a JSON body ({ upload: id } once the file is uploaded, or { path } / { url }). Undefined when none is given. */
async function body(opts, again = false) {
  const k = kind();
  if (k === 'upload') {
    const id = await uploadedId(state.file, again);
    return id === undefined ? undefined : { upload: id, options: opts };
  }
  const v = $(k).value.trim();
  if (!v) return undefined;
  return { [k]: v, options: opts };
}

/** POSTs the input and options to `path`; an expired upload is sent again once. */
async function postInput(path, opts, o = {}) {
  const b = await body(opts);
  if (!b) return undefined;
  try {
    return await api('POST', path, b, o);
  } catch (e) {
    if (!(b.upload && uploadGone(e))) throw e;
    return api('POST', path, await body(opts, true), o);
  }
}

function inputKey() {
  const k = kind();
  if (k === 'upload') return state.file ? `upload:${fileKey(state.file)}` : '';
  const v = $(k).value.trim();
  return v ? `${k}:${v}` : '';
}

function clearErrors() {
  for (const e of document.querySelectorAll('#job-form .error')) e.textContent = '';
  for (const f of FIELDS) $(f)?.removeAttribute('aria-invalid');
}

/** Shows a service error next to the field it names (options.every, option budget, ...), else by the input or the form. */
function showError(e, fallback = 'form') {
  const message = e instanceof Error ? e.message : String(e);
  let field = e instanceof FieldError ? e.field : undefined;
  if (!field) {
    const m = /(?:option |options\.|body\.options\.)([A-Za-z]+)/.exec(message);
    if (m && FIELDS.includes(m[1])) field = m[1];
  }
  if (!field && e instanceof ApiError && (INPUT_CODES.has(e.code) || /^(multipart|give exactly one)/.test(message))) field = 'input';
  if (e instanceof ApiError && e.status === 401) return; // the token field asks
  const target = $(`err-${field ?? fallback}`) ?? $('err-form');
  target.textContent = message;
  if (field && $(field)) $(field).setAttribute('aria-invalid', 'true');
}

let planTimer;
function schedulePlan() {
  clearTimeout(planTimer);
  planTimer = setTimeout(() => void refreshPlan(), 300);
}

async function refreshPlan() {
  clearErrors();
  let opts;
  try {
    opts = options();
  } catch (e) {
    showError(e);
    return;
  }
  if (!inputKey()) {
    $('plan').hidden = true;
    hideCurve();
    $('plan-status').textContent = 'Choose an input to see its plan.';
    return;
  }
  const seq = ++state.planSeq;
  state.planAbort?.abort();
  const ctrl = new AbortController();
  state.planAbort = ctrl;
  $('plan-status').textContent = 'Planning…';
  $('cost').setAttribute('aria-busy', 'true');
  try {
    // A model that takes video: the other way of sending is planned too, and shown beside it.
    const other = opts.send ? { ...opts, send: opts.send === 'video' ? 'frames' : 'video' } : undefined;
    const [plan, alt] = await Promise.all([
      postInput('/v1/plan', opts, { signal: ctrl.signal }),
      other ? postInput('/v1/plan', other, { signal: ctrl.signal }).catch((e) => e) : undefined,
    ]);
    if (seq !== state.planSeq) return;
    renderPlan(plan);
    renderSendCompare(plan, alt);
    $('plan-status').textContent = `Plan for ${plan.input}: every ${plan.every} s, ${plan.mode}.`;
    void refreshCurve(opts);
  } catch (e) {
    if (seq !== state.planSeq || (e && e.name === 'AbortError')) return;
    $('plan').hidden = true;
    hideCurve();
    $('plan-status').textContent = 'No plan: see the error in the form.';
    showError(e, 'input');
  } finally {
    if (seq === state.planSeq) $('cost').removeAttribute('aria-busy');
  }
}

/** Row of the frames-or-video table: [label, value of a plan]. */
const SEND_ROWS = [
  [
    'What is sent',
    (p) =>
      p.send === 'video'
        ? `the video, sampled by the provider at ${p.video.fps} fps: ${num(p.video.frames)} frames`
        : `${num(p.frames.length)} frames at ${p.width}×${p.height}`,
  ],
  ['Image or video tokens', (p) => num(p.imageTokens)],
  ['Audio tokens', (p) => num(p.audioTokens)],
  ['Text tokens', (p) => num(p.textTokens)],
  ['Input tokens', (p) => num(p.inputTokens)],
  ['Dollars', (p) => `${usd(p.costUsd)} (${p.tier})`],
];

/** For a model that takes video: the plan as frames beside the plan as native video. */
function renderSendCompare(plan, alt) {
  const table = $('send-compare');
  table.hidden = alt === undefined;
  if (alt === undefined) return;
  const byWay = { [plan.send ?? 'frames']: plan };
  if (!(alt instanceof Error)) byWay[alt.send ?? (plan.send === 'video' ? 'frames' : 'video')] = alt;
  $('send-compare-caption').textContent = `${plan.model}: frames or native video`;
  $('send-compare-body').replaceChildren(
    ...SEND_ROWS.map(([label, value], i) =>
      el(
        'tr',
        { 'data-row': String(i) },
        el('th', { scope: 'row', text: label }),
        ...['frames', 'video'].map((way) =>
          el('td', {
            'data-send': way,
            class: way === (plan.send ?? 'frames') ? 'current' : '',
            text: byWay[way] ? value(byWay[way]) : `no plan: ${alt.message}`,
          }),
        ),
      ),
    ),
  );
}

function renderPlan(p) {
  $('plan').hidden = false;
  $('plan-frames').textContent =
    p.send === 'video' ? `${num(p.video.frames)} (sent as video at ${p.video.fps} fps)` : `${num(p.frames.length)}${p.upperBound ? ' at most' : ''}`;
  $('plan-image-tokens').textContent = num(p.imageTokens);
  $('plan-audio-tokens').textContent = num(p.audioTokens);
  $('plan-text-tokens').textContent = num(p.textTokens);
  $('plan-input-tokens').textContent = num(p.inputTokens);
  $('plan-cost').textContent = `${usd(p.costUsd)} (${p.tier})`;
  const tiers = $('plan-tiers');
  tiers.replaceChildren(
    ...Object.entries(p.costByTier ?? {}).map(([t, v]) =>
      el('tr', { class: t === p.tier ? 'current' : '' }, el('th', { scope: 'row', text: t }), el('td', { text: usd(v), 'data-tier': t })),
    ),
  );
  $('plan-rule').textContent =
    p.send === 'video'
      ? `${p.model}, sent as video at ${p.video.fps} fps, ${p.video.tokensPerFrame} tokens a frame and ${num(p.video.audioTokens)} audio tokens; registry ${p.rules.registryVersion}; ${p.requests} request${p.requests === 1 ? '' : 's'}.`
      : `${p.model}, detail ${p.detail}${p.detail !== p.detailApplied ? ` (applied: ${p.detailApplied})` : ''}, ${p.width}×${p.height} px, ${p.tokensPerFrame} tokens a frame; rule ${p.rules.image} (registry ${p.rules.registryVersion}); ${p.requests} request${p.requests === 1 ? '' : 's'}.`;
  const budget = $('plan-budget');
  if (p.budget) {
    const c = p.budget.chosen;
    budget.hidden = false;
    budget.textContent = `Budget ${p.budget.limitUsd !== null ? usd(p.budget.limitUsd) : `${num(p.budget.limitTokens)} tokens`}: the densest plan that fits samples every ${c.every} s at detail ${c.detail}${c.maxSide ? `, max side ${c.maxSide}` : ''}${c.maxFrames ? `, at most ${c.maxFrames} frames` : ''}${p.budget.changed ? ' (changed from what was asked)' : ' (as asked)'}; ${p.budget.tried} plans tried.`;
  } else budget.hidden = true;
  $('plan-warnings').replaceChildren(...[...(p.warnings ?? []), ...(p.audioNote ? [p.audioNote] : [])].map((w) => el('li', { text: w })));
  $('plan-times').replaceChildren(...p.frames.map((f) => el('li', { text: `${secs(f.timestampSec)}${f.keyframe ? ' key' : ''}` })));
  state.lastPlan = p;
  markCurve();
}

// ---------- cost curve ----------

async function refreshCurve(opts) {
  const { every: _e, budget: _b, maxFrames: _m, api: _a, ...rest } = opts;
  const key = JSON.stringify([inputKey(), rest]);
  if (key === state.curveKey || !inputKey()) return;
  state.curveKey = key;
  const seq = ++state.curveSeq;
  $('curve-status').textContent = 'Drawing the cost curve…';
  try {
    const curve = await postInput(`/v1/cost-curve?every=${CURVE_EVERY.join(',')}`, rest);
    if (seq !== state.curveSeq) return;
    if (state.curveUrl) URL.revokeObjectURL(state.curveUrl);
    state.curveUrl = URL.createObjectURL(new Blob([curve.svg], { type: 'image/svg+xml' }));
    const img = $('curve-img');
    img.src = state.curveUrl;
    img.alt = `Cost curve of ${curve.input}: dollars per run against the sampling interval (${curve.intervals.join(', ')} s), one line per model and detail${curve.shots ? '; below, the share of shots that still get a frame' : ''}. The table below has the numbers.`;
    $('curve').hidden = false;
    $('curve-data').hidden = false;
    state.curve = curve;
    renderCurveTable(curve);
    $('curve-status').textContent = curve.warnings.length ? curve.warnings.join('; ') : '';
  } catch (e) {
    if (seq !== state.curveSeq) return;
    state.curveKey = '';
    $('curve-status').textContent = `No cost curve: ${e.message}`;
  }
}

/** No curve for an input that has no plan (and a curve still being drawn is dropped when it comes). */
function hideCurve() {
  state.curveSeq++;
  state.curveKey = '';
  state.curve = null;
  $('curve').hidden = true;
  $('curve-data').hidden = true;
  $('curve-status').textContent = '';
}

function renderCurveTable(curve) {
  const head = el(
    'tr',
    {},
    ...['Model', 'Detail', 'Every', 'Frames', 'Input tokens', ...curve.tiers.map((t) => `${t} $`), ...(curve.shots ? ['Shots covered'] : [])].map((h) =>
      el('th', { scope: 'col', text: h }),
    ),
  );
  const rows = [];
  for (const s of curve.series) {
    for (const p of s.points) {
      rows.push(
        el(
          'tr',
          { 'data-every': String(p.every) },
          el('td', { text: s.model }),
          el('td', { text: s.detail === s.detailApplied ? s.detail : `${s.detail} (${s.detailApplied})` }),
          el('td', { text: `${p.every} s` }),
          el('td', { text: num(p.frames) }),
          el('td', { text: num(p.inputTokens) }),
          ...curve.tiers.map((t) => el('td', { text: usd(p.costByTier[t]) })),
          ...(curve.shots ? [el('td', { text: `${p.shotsCovered}/${curve.shots.shots.length}` })] : []),
        ),
      );
    }
  }
  $('curve-table').replaceChildren(
    el('caption', { text: `${curve.input}: ${curve.durationSec.toFixed(1)} s, ${curve.width}×${curve.height}` }),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
  markCurve();
}

function markCurve() {
  const p = state.lastPlan;
  if (!p || !state.curve) return;
  for (const tr of document.querySelectorAll('#curve-table tbody tr')) tr.classList.toggle('current', Number(tr.dataset.every) === p.every);
  $('curve-caption').textContent = `This plan: every ${p.every} s, ${num(p.frames.length)} frames, ${usd(p.costUsd)} (${p.tier}).`;
}

// ---------- jobs ----------

$('job-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void submitJob();
});

async function submitJob() {
  clearErrors();
  let opts;
  try {
    opts = options();
  } catch (e) {
    showError(e);
    return;
  }
  if ($('call').checked) opts.call = true;
  if (!inputKey()) {
    showError(new FieldError('input', kind() === 'upload' ? 'input: choose or drop a file first' : `input: give a ${kind()}`));
    return;
  }
  const button = $('start-job');
  button.disabled = true;
  try {
    clearTimeout(planTimer);
    $('upload-status').textContent = 'Submitting…';
    const job = await postInput('/v1/jobs', opts);
    $('upload-status').textContent = `Job ${job.id} submitted.`;
    void openJob(job);
    void loadJobs();
  } catch (e) {
    $('upload-status').textContent = '';
    showError(e, 'input');
  } finally {
    button.disabled = false;
  }
}

function renderRun(job) {
  $('run').hidden = false;
  $('job-id').textContent = `${job.input?.name ?? ''} · job ${job.id}`;
  const badge = $('job-state');
  badge.textContent = job.state;
  badge.className = `badge ${job.state}`;
  renderProgress(job.progress, job.state);
  $('cancel-job').hidden = !(job.state === 'queued' || job.state === 'running');
  $('job-error').textContent = job.error ? `${job.error.code}: ${job.error.message}` : '';
}

function renderProgress(p, jobState) {
  if (!p) return;
  const total = p.framesTotal || 0;
  const bar = $('job-progress');
  bar.max = Math.max(1, total);
  bar.value = Math.min(p.framesDone ?? 0, bar.max);
  $('job-stage').textContent = jobState === 'succeeded' ? 'done' : jobState === 'failed' || jobState === 'cancelled' ? `${jobState} (${p.stage})` : p.stage;
  $('job-count').textContent =
    `${p.framesDone ?? 0} of ${total} frames${p.requestsTotal ? `, ${p.requestsDone ?? 0} of ${p.requestsTotal} requests` : ''}${p.note ? ` (${p.note})` : ''}`;
}

async function openJob(job) {
  state.follow?.abort();
  state.job = job;
  for (const url of state.blobs.values()) URL.revokeObjectURL(url);
  state.blobs.clear();
  $('result').hidden = true;
  renderRun(job);
  if (job.state === 'succeeded') return showResult(job);
  if (job.state !== 'queued' && job.state !== 'running') return;
  const ctrl = new AbortController();
  state.follow = ctrl;
  try {
    await events(
      `/v1/jobs/${encodeURIComponent(job.id)}/events`,
      (name, data) => {
        if (state.job?.id !== job.id) return;
        if (name === 'state') {
          state.job = { ...state.job, state: data.state, error: data.error ?? null };
          renderRun(state.job);
        } else if (name === 'progress') {
          renderProgress(data, state.job.state);
        } else if (name === 'end') {
          state.job = data;
          renderRun(data);
        }
      },
      ctrl.signal,
    );
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    $('job-error').textContent = e.message;
    return;
  }
  if (state.job?.id !== job.id) return;
  const last = await api('GET', `/v1/jobs/${job.id}`).catch(() => state.job);
  state.job = last;
  renderRun(last);
  void loadJobs();
  if (last.state === 'succeeded') await showResult(last);
}

/** Stops a queued or running job (its data stays: Delete removes it). */
async function cancelJob(id) {
  await api('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  const after = await api('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  if (state.job?.id === id) {
    state.job = after;
    renderRun(after);
  }
  void loadJobs();
}

/** Deletes a job and its data on the server, once the user confirms. */
async function deleteJob(j, status) {
  if (
    !(await confirmDelete(
      `job ${j.id} (${j.input?.name ?? ''})? Its frames, requests and results are removed from the server, and its upload unless another job holds it`,
    ))
  )
    return false;
  await api('DELETE', `/v1/jobs/${encodeURIComponent(j.id)}`);
  if (state.job?.id === j.id) {
    state.follow?.abort();
    state.job = null;
    $('run').hidden = true;
    $('result').hidden = true;
  }
  await loadJobs(); // (the list's own status line first, then this one)
  status.textContent = `Job ${j.id} deleted.`;
  return true;
}

$('cancel-job').addEventListener('click', async () => {
  const job = state.job;
  if (!job) return;
  $('cancel-job').disabled = true;
  try {
    await cancelJob(job.id);
  } catch (e) {
    $('job-error').textContent = e.message;
  } finally {
    $('cancel-job').disabled = false;
  }
});

$('delete-job').addEventListener('click', async () => {
  const job = state.job;
  if (!job) return;
  try {
    await deleteJob(job, $('jobs-status'));
  } catch (e) {
    $('job-error').textContent = e.message;
  }
});

// ---------- result ----------

let observer;
function lazyImages() {
  observer?.disconnect();
  observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        void loadThumb(entry.target);
      }
    },
    { rootMargin: '200px' },
  );
  return observer;
}

/** An image of a job (frames/N, grids/N, audio/N) as a blob URL, fetched once per job shown. */
async function jobBlob(jobId, what, index) {
  const key = `${jobId}/${what}/${index}`;
  let url = state.blobs.get(key);
  if (!url) {
    url = await blobUrl(`/v1/jobs/${jobId}/${what}/${index}`);
    state.blobs.set(key, url);
  }
  return url;
}
const frameBlob = (jobId, index) => jobBlob(jobId, 'frames', index);
const gridBlob = (jobId, index) => jobBlob(jobId, 'grids', index);

async function loadThumb(img) {
  try {
    img.src = img.dataset.grid !== undefined ? await gridBlob(img.dataset.job, img.dataset.grid) : await frameBlob(img.dataset.job, img.dataset.index);
    img.dataset.loaded = 'true';
  } catch (e) {
    img.alt = `${img.dataset.grid !== undefined ? `grid ${img.dataset.grid}` : `frame ${img.dataset.index}`}: ${e.message}`;
  }
}

/** The grid images the job sent, each a button that opens it, with the times of its cells. */
function renderGrids(job, grids, obs) {
  const cols = job.options?.grid?.cols ?? 1;
  $('grids').replaceChildren(
    ...(grids.length ? [el('h3', { text: 'Grids (one image each, as sent)' })] : []),
    ...grids.map((g) => {
      const label = `grid ${g.index}: frames at ${g.timestamps.map(secs).join(', ')}; ${g.width}×${g.height}, ${num(g.tokens)} tokens`;
      const img = el('img', { alt: label, loading: 'lazy', width: g.width, height: g.height });
      img.dataset.job = job.id;
      img.dataset.grid = String(g.index);
      obs.observe(img);
      const open = el('button', { type: 'button', class: 'thumb', 'aria-label': `Open ${label}` }, img);
      open.addEventListener('click', () => void openGrid(job.id, g));
      const cells = el('div', { class: 'gridset', 'aria-hidden': 'true' }, ...g.timestamps.map((t) => el('span', { text: secs(t) })));
      cells.style.gridTemplateColumns = `repeat(${cols}, auto)`;
      return el(
        'figure',
        { class: 'grid-figure', 'data-grid': String(g.index) },
        open,
        el('figcaption', {}, cells, `${g.width}×${g.height} · ${kb(g.bytes)} · ${num(g.tokens)} tokens`),
      );
    }),
  );
}

/** The audio chunks on a timeline, with a player. */
function renderAudio(job, chunks) {
  $('audio-result').hidden = !chunks.length;
  if (chunks.length) {
    const end = Math.max(...chunks.map((c) => c.endSec));
    const start = Math.min(...chunks.map((c) => c.startSec));
    const span = Math.max(0.001, end - start);
    $('timeline').replaceChildren(
      ...chunks.map((c) => {
        const d = el('button', { type: 'button', class: 'chunk', text: `${c.index}`, title: `${secs(c.startSec)}–${secs(c.endSec)}, ${num(c.tokens)} tokens` });
        d.setAttribute('aria-label', `Play audio chunk ${c.index}: ${secs(c.startSec)} to ${secs(c.endSec)}, ${num(c.tokens)} tokens, ${kb(c.bytes)}`);
        d.dataset.chunk = String(c.index);
        d.style.left = `${((c.startSec - start) / span) * 100}%`;
        d.style.width = `${((c.endSec - c.startSec) / span) * 100}%`;
        d.addEventListener('click', () => void playChunk(job.id, c));
        return d;
      }),
    );
    $('cuts').textContent =
      chunks
        .slice(1)
        .map((c) => secs(c.startSec))
        .join(', ') || 'none (one chunk)';
    void loadChunk(job.id, chunks[0]);
  }
}

async function showResult(job) {
  const text = await api('GET', `/v1/jobs/${job.id}/manifest`, undefined, { text: true });
  if (state.job?.id !== job.id) return;
  const m = JSON.parse(text);
  state.manifestText = text;
  $('result').hidden = false;
  requestButtons(job);
  $('download-error').textContent = '';

  const est = job.estimate ?? {};
  const e = est.estimated ?? {};
  const a = est.actual ?? {};
  $('estimate').replaceChildren(
    ...[
      ['Frames (estimated / written)', `${num(e.frames)} / ${num(a.frames)}`],
      ['Image tokens', `${num(e.imageTokens)} / ${num(a.imageTokens)}`],
      ['Audio seconds', `${e.audioSeconds ?? 0} / ${a.audioSeconds ?? 0}`],
      [
        'Input tokens (estimated / billed)',
        `${num(e.inputTokens)} / ${a.inputTokens === null || a.inputTokens === undefined ? 'not called' : num(a.inputTokens)}`,
      ],
      ['Dollars (estimated / billed)', `${usd(e.costUsd)} / ${a.costUsd === null || a.costUsd === undefined ? 'not called' : usd(a.costUsd)}`],
    ].map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))),
  );

  const answers = job.result?.dispatch?.answers ?? [];
  $('answers').replaceChildren(
    ...(answers.length ? [el('h3', { text: 'Answer' })] : []),
    ...answers.map((r) => el('p', { class: 'answer', text: r.status === 'ok' ? r.text : `${r.status}: ${r.error?.message ?? r.message ?? r.reason ?? ''}` })),
  );

  const obs = lazyImages();
  const frames = m.frames?.frames ?? [];
  const items = frames.map((f) => {
    const img = el('img', { alt: `frame ${f.index} at ${secs(f.timestampSec)}`, loading: 'lazy', width: f.width, height: f.height });
    img.dataset.job = job.id;
    img.dataset.index = String(f.index);
    obs.observe(img);
    const open = el('button', { type: 'button', class: 'thumb', 'aria-label': `Open frame ${f.index} at ${secs(f.timestampSec)}` }, img);
    open.addEventListener('click', () => void openFrame(job.id, f));
    return el(
      'li',
      { 'data-index': String(f.index), class: 'frame' },
      open,
      el(
        'div',
        { class: 'meta' },
        el('strong', { text: secs(f.timestampSec) }),
        ` · ${f.keyframe ? 'keyframe' : 'not a keyframe'} · ${f.width}×${f.height} · ${kb(f.bytes)} · ${num(f.tokens)} tokens`,
      ),
    );
  });
  const dropped = (m.frames?.dropped ?? []).map((d) =>
    el(
      'li',
      { class: 'dropped', 'data-dropped': String(d.index) },
      el('div', { class: 'thumb-none', text: `dropped: a repeat of frame ${d.duplicateOf} (distance ${d.distance})` }),
      el('div', { class: 'meta' }, el('strong', { text: secs(d.timestampSec) }), ' · not sent'),
    ),
  );
  const all = [...items, ...dropped].sort((x, y) => timeOf(x) - timeOf(y));
  $('sheet').replaceChildren(...all);

  renderGrids(job, m.frames?.grids ?? [], obs);
  renderAudio(job, m.audio ?? []);
  $('segments').replaceChildren(
    ...(m.segments ?? []).map((s) =>
      el('li', {
        text: `${secs(s.startSec)}–${secs(s.endSec)}: ${s.frames.length} frame${s.frames.length === 1 ? '' : 's'}${s.audio.length ? `, ${s.audio.length} audio chunk${s.audio.length === 1 ? '' : 's'}` : ''}`,
      }),
    ),
  );
}

async function loadChunk(jobId, c) {
  const url = await jobBlob(jobId, 'audio', c.index);
  if (state.job?.id !== jobId) return undefined;
  const player = $('audio-player');
  player.src = url;
  player.dataset.chunk = String(c.index);
  $('audio-which').textContent = `${c.index}: ${secs(c.startSec)}–${secs(c.endSec)}`;
  return player;
}

async function playChunk(jobId, c) {
  try {
    const player = await loadChunk(jobId, c);
    await player?.play();
  } catch (e) {
    $('download-error').textContent = e.message;
  }
}

async function download(path, name, type, button) {
  const job = state.job;
  if (!job) return;
  $('download-error').textContent = '';
  button.disabled = true;
  try {
    saveText(await api('GET', path, undefined, { text: true }), name, type);
  } catch (e) {
    $('download-error').textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

/** One download button per API the job's provider speaks (GET /v1/jobs/:id/requests?api=...). */
function requestButtons(job) {
  const apis = state.models.find((m) => m.name === job.options?.model)?.apis ?? ['chat', 'responses'];
  const order = ['chat', 'responses', 'messages', 'gemini'].filter((a) => apis.includes(a));
  $('download-requests').replaceChildren(
    ...order.map((which) => {
      const b = el('button', { type: 'button', id: `download-${which}`, text: `${API_LABELS[which] ?? which} requests` });
      b.addEventListener('click', (ev) => {
        void download(`/v1/jobs/${job.id}/requests?api=${which}`, `omniprep-${job.id}-${which}.json`, 'application/json', ev.currentTarget);
      });
      return b;
    }),
  );
}
$('download-batch').addEventListener('click', (ev) => {
  const id = state.job?.id;
  if (id) void download(`/v1/jobs/${id}/batch`, `omniprep-${id}.jsonl`, 'application/jsonl', ev.currentTarget);
});

function timeOf(li) {
  const t = li.querySelector('.meta strong')?.textContent ?? '0';
  return parseFloat(t);
}

async function showImage(title, alt, src) {
  $('frame-dialog-title').textContent = title;
  const img = $('frame-full');
  img.alt = alt;
  img.src = await src;
  $('frame-dialog').showModal();
  $('frame-close').focus();
}

const openFrame = (jobId, f) =>
  showImage(
    `Frame ${f.index} at ${secs(f.timestampSec)} (${f.width}×${f.height}, ${num(f.tokens)} tokens)`,
    `frame ${f.index} at ${secs(f.timestampSec)}`,
    frameBlob(jobId, f.index),
  );

const openGrid = (jobId, g) =>
  showImage(
    `Grid ${g.index}: ${g.frames.length} frames (${g.width}×${g.height}, ${num(g.tokens)} tokens)`,
    `grid ${g.index}: frames at ${g.timestamps.map(secs).join(', ')}`,
    gridBlob(jobId, g.index),
  );

$('download-manifest').addEventListener('click', () => {
  if (!state.manifestText || !state.job) return;
  saveText(state.manifestText, `omniprep-${state.job.id}-manifest.json`, 'application/json');
});

// ---------- jobs list ----------

function clearJobs() {
  $('jobs-body').replaceChildren();
  $('more-jobs').hidden = true;
  $('jobs-status').textContent = '';
}

async function loadJobs(more = false) {
  try {
    const q = more && state.cursor ? `?limit=20&cursor=${encodeURIComponent(state.cursor)}` : '?limit=20';
    const page = await api('GET', `/v1/jobs${q}`);
    const rows = page.jobs.map(jobRow);
    if (more) $('jobs-body').append(...rows);
    else $('jobs-body').replaceChildren(...rows);
    state.cursor = page.next;
    $('more-jobs').hidden = !page.next;
    $('jobs-status').textContent = $('jobs-body').children.length ? '' : 'No jobs yet.';
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) $('jobs-status').textContent = `Jobs: ${e.message}`;
  }
}

function jobRow(j) {
  const billed = j.estimate?.actual?.costUsd;
  const actions = el('div', { class: 'actions' });
  const open = el('button', { type: 'button', text: 'Open', 'aria-label': `Open job ${j.id}` });
  open.addEventListener('click', () => void openJob(j));
  actions.append(open);
  if (j.state === 'queued' || j.state === 'running') {
    const cancel = el('button', { type: 'button', text: 'Cancel', 'aria-label': `Cancel job ${j.id}` });
    cancel.addEventListener('click', () => cancelJob(j.id).catch((e) => ($('jobs-status').textContent = e.message)));
    actions.append(cancel);
  }
  const del = el('button', { type: 'button', text: 'Delete', 'aria-label': `Delete job ${j.id}` });
  del.addEventListener('click', () => deleteJob(j, $('jobs-status')).catch((e) => ($('jobs-status').textContent = e.message)));
  actions.append(del);
  if (j.input.kind !== 'upload' && (j.state === 'failed' || j.state === 'cancelled')) {
    const retry = el('button', { type: 'button', text: 'Retry', 'aria-label': `Run job ${j.id} again` });
    retry.addEventListener('click', async () => {
      try {
        const again = await api('POST', '/v1/jobs', { [j.input.kind]: j.input.name, options: j.options });
        void openJob(again);
      } catch (e) {
        $('jobs-status').textContent = e.message;
      }
      void loadJobs();
    });
    actions.append(retry);
  }
  const err = j.error ? el('div', { class: 'error', text: `${j.error.code}: ${j.error.message}` }) : null;
  // data-label: the column's name, shown before each cell where the table is laid out as cards (narrow screens).
  return el(
    'tr',
    { 'data-job': j.id },
    el('td', { 'data-label': 'Created', text: new Date(j.createdAt).toLocaleString() }),
    el('td', { 'data-label': 'State' }, el('div', {}, el('span', { class: `badge ${j.state}`, text: j.state }), err)),
    el('td', { 'data-label': 'Input', class: 'mono', text: j.input.name }),
    el('td', { 'data-label': 'Frames', text: num(j.result?.frames ?? j.plan?.frames) }),
    el('td', { 'data-label': 'Estimated', text: usd(j.plan?.costUsd) }),
    el('td', { 'data-label': 'Billed', text: billed === null || billed === undefined ? '-' : usd(billed) }),
    el('td', { 'data-label': 'Actions' }, actions),
  );
}

$('refresh-jobs').addEventListener('click', () => void loadJobs());
$('more-jobs').addEventListener('click', () => void loadJobs(true));

// ---------- models ----------

const API_LABELS = { responses: 'Responses', chat: 'Chat Completions', messages: 'Messages', gemini: 'generateContent' };
const PROVIDER_LABELS = { openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Google Gemini', local: 'Local server' };
const perMillion = (x) => `$${Number(x.toPrecision(4))}`;
/** A tier's price as the registry has it: dollars per 1M input / output tokens. */
const priceText = (p) => (p ? `${perMillion(p.input)} in / ${perMillion(p.output)} out` : '-');

/** The model picker: every provider's models, grouped by provider, each with its standard price and token rule. */
function fillModels(list) {
  state.models = list;
  const sel = $('model');
  const current = sel.value || 'gpt-5.5';
  const known = Object.keys(PROVIDER_LABELS);
  const providers = [...new Set([...known, ...list.map((m) => m.provider)])].filter((p) => list.some((m) => m.provider === p));
  sel.replaceChildren(
    ...providers.map((p) =>
      el(
        'optgroup',
        { label: PROVIDER_LABELS[p] ?? p, 'data-provider': p },
        ...list
          .filter((m) => m.provider === p)
          .map((m) =>
            el('option', {
              value: m.name,
              text: `${m.name} · ${priceText(m.prices.standard)} per 1M · ${m.rule ? m.rule.name : 'no images'}${m.video ? ' · video' : ''}`,
            }),
          ),
      ),
    ),
  );
  sel.value = list.some((m) => m.name === current) ? current : (list[0]?.name ?? '');
  fillDetails();
}

/** What the chosen model is: provider, rule, prices per tier (USD per 1M tokens), native video. */
function describeModel(m) {
  if (!m) return '';
  const tiers = m.tiers.map((t) => `${t} ${priceText(m.prices[t])}`).join('; ');
  return `${PROVIDER_LABELS[m.provider] ?? m.provider}; token rule ${m.rule ? `${m.rule.name} (${m.rule.type}, ${m.rule.date})` : 'none (no images)'}; USD per 1M tokens: ${tiers}; ${m.video ? 'takes video natively' : 'frames only'}${m.audio ? ', takes audio' : ''}.`;
}

function fillDetails() {
  const m = state.models.find((x) => x.name === $('model').value);
  const sel = $('detail');
  const cur = sel.value;
  const levels = (m?.details ?? []).filter((d) => d !== 'auto');
  sel.replaceChildren(el('option', { value: '', text: 'auto' }), ...levels.map((d) => el('option', { value: d, text: d })));
  sel.value = levels.includes(cur) ? cur : '';
  const tier = $('tier');
  const t = tier.value;
  const tiers = m?.tiers ?? ['standard'];
  tier.replaceChildren(...tiers.map((x) => el('option', { value: x, text: x })));
  tier.value = tiers.includes(t) ? t : 'standard';
  $('audio').disabled = m ? !m.audio : false;
  const apiSel = $('api');
  const a = apiSel.value;
  const apis = m?.apis ?? ['responses', 'chat'];
  apiSel.replaceChildren(el('option', { value: '', text: 'default' }), ...apis.map((x) => el('option', { value: x, text: API_LABELS[x] ?? x })));
  apiSel.value = apis.includes(a) ? a : '';
  $('model-info').textContent = describeModel(m);
  $('send-box').hidden = !m?.video;
}

// ---------- wiring ----------

function setSliderFromEvery() {
  const v = numberField('every');
  if (v === undefined || !Number.isFinite(v)) return;
  let best = 0;
  for (let i = 0; i < STEPS.length; i++) if (Math.abs(STEPS[i] - v) < Math.abs(STEPS[best] - v)) best = i;
  $('every-slider').value = String(best);
  $('every-slider-value').textContent = `${v} s`;
}

$('every-slider').addEventListener('input', () => {
  const v = STEPS[Number($('every-slider').value)];
  $('every').value = String(v);
  $('every-slider-value').textContent = `${v} s`;
  schedulePlan();
});
$('every').addEventListener('input', setSliderFromEvery);
$('model').addEventListener('change', fillDetails);
for (const r of document.querySelectorAll('input[name="kind"]'))
  r.addEventListener('change', () => {
    showKind();
    schedulePlan();
  });
$('job-form').addEventListener('input', (ev) => {
  if (ev.target.id === 'file' || ev.target.id === 'every-slider') return;
  schedulePlan();
});
$('job-form').addEventListener('change', (ev) => {
  if (ev.target.tagName === 'SELECT' || ev.target.type === 'checkbox') schedulePlan();
});

function chooseFile(file) {
  state.file = file ?? null;
  $('file-name').textContent = file ? `${file.name} (${kb(file.size)})` : '';
  state.curveKey = '';
  // Sent at once, while the user looks at the options; the estimate waits for it (its error shows there).
  if (file) uploadedId(file).catch(() => {});
  schedulePlan();
}

$('file').addEventListener('change', () => chooseFile($('file').files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files?.[0];
  if (f) chooseFile(f);
});

async function start() {
  try {
    const models = await api('GET', '/v1/models');
    tokenOk();
    fillModels(models.models);
    evalModels(models.models);
    await loadJobs();
    schedulePlan();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    $('token-status').textContent = `The service did not answer: ${e.message}`;
  }
}

/** Jobs or Eval: one view shown at a time, its button pressed. */
function showView(name) {
  for (const v of ['jobs', 'eval']) {
    $(`${v}-view`).hidden = v !== name;
    $(`view-${v}`).setAttribute('aria-pressed', String(v === name));
  }
}
$('view-jobs').addEventListener('click', () => showView('jobs'));
$('view-eval').addEventListener('click', () => showView('eval'));

$('token').value = getToken();
showKind();
setSliderFromEvery();
void start();

// The omniprep page: choose an input and options, see the plan and the cost curve, run the job,
// follow it, look at its frames. Everything goes through the service's API (api.js); text from
// the server is only ever set as textContent.
import { api, ApiError, events, getToken, blobUrl, onUnauthorized, setToken, upload } from './api.js';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'scope') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
};

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

/**
 * Requests that carry the chosen file. A job is submitted only after they end: two uploads of the
 * same bytes at once share one stored file on the server, and the first to finish removes it.
 */
const uploading = new Set();
function track(promise) {
  uploading.add(promise);
  const done = () => uploading.delete(promise);
  promise.then(done, done);
  return promise;
}

const usd = (x) => (typeof x !== 'number' ? '-' : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`);
const num = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '-');
const secs = (x) => `${Number(x).toFixed(2)} s`;
const kb = (b) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} kB`);

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
  return o;
}

class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** The input as a request body: FormData (upload) or JSON (path, url). Undefined when none is given. */
function body(opts) {
  const k = kind();
  if (k === 'upload') {
    if (!state.file) return undefined;
    const form = new FormData();
    form.append('options', JSON.stringify(opts));
    form.append('file', state.file, state.file.name);
    return form;
  }
  const v = $(k).value.trim();
  if (!v) return undefined;
  return { [k]: v, options: opts };
}

function inputKey() {
  const k = kind();
  if (k === 'upload') return state.file ? `upload:${state.file.name}:${state.file.size}:${state.file.lastModified}` : '';
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
  const b = body(opts);
  if (!b) {
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
    const plan = await track(api('POST', '/v1/plan', b, { signal: ctrl.signal }));
    if (seq !== state.planSeq) return;
    renderPlan(plan);
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

function renderPlan(p) {
  $('plan').hidden = false;
  $('plan-frames').textContent = `${num(p.frames.length)}${p.upperBound ? ' at most' : ''}`;
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
    `${p.model}, detail ${p.detail}${p.detail !== p.detailApplied ? ` (applied: ${p.detailApplied})` : ''}, ${p.width}×${p.height} px, ${p.tokensPerFrame} tokens a frame; rule ${p.rules.image} (registry ${p.rules.registryVersion}); ${p.requests} request${p.requests === 1 ? '' : 's'}.`;
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
  if (key === state.curveKey) return;
  const b = body(rest);
  if (!b) return;
  state.curveKey = key;
  const seq = ++state.curveSeq;
  $('curve-status').textContent = 'Drawing the cost curve…';
  try {
    const curve = await track(api('POST', `/v1/cost-curve?every=${CURVE_EVERY.join(',')}`, b));
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
  const b = body(opts);
  if (!b) {
    showError(new FieldError('input', kind() === 'upload' ? 'input: choose or drop a file first' : `input: give a ${kind()}`));
    return;
  }
  const button = $('start-job');
  button.disabled = true;
  const bar = $('upload-progress');
  try {
    if (b instanceof FormData && uploading.size) {
      $('upload-status').textContent = 'Waiting for the estimate to finish…';
      clearTimeout(planTimer);
      await Promise.allSettled([...uploading]);
    }
    let job;
    if (b instanceof FormData) {
      bar.hidden = false;
      bar.value = 0;
      $('upload-status').textContent = 'Uploading…';
      job = await upload('/v1/jobs', b, (f) => {
        bar.value = f;
        $('upload-status').textContent = f < 1 ? `Uploading… ${Math.round(f * 100)}%` : 'Uploaded; planning…';
      });
    } else {
      $('upload-status').textContent = 'Submitting…';
      job = await api('POST', '/v1/jobs', b);
    }
    $('upload-status').textContent = `Job ${job.id} submitted.`;
    bar.hidden = true;
    void openJob(job);
    void loadJobs();
  } catch (e) {
    bar.hidden = true;
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
      job.id,
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

$('cancel-job').addEventListener('click', async () => {
  const job = state.job;
  if (!job) return;
  $('cancel-job').disabled = true;
  try {
    const after = await api('DELETE', `/v1/jobs/${job.id}`);
    state.job = after;
    renderRun(after);
    void loadJobs();
  } catch (e) {
    $('job-error').textContent = e.message;
  } finally {
    $('cancel-job').disabled = false;
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

async function frameBlob(jobId, index) {
  const key = `${jobId}/${index}`;
  let url = state.blobs.get(key);
  if (!url) {
    url = await blobUrl(`/v1/jobs/${jobId}/frames/${index}`);
    state.blobs.set(key, url);
  }
  return url;
}

async function loadThumb(img) {
  try {
    img.src = await frameBlob(img.dataset.job, img.dataset.index);
    img.dataset.loaded = 'true';
  } catch (e) {
    img.alt = `frame ${img.dataset.index}: ${e.message}`;
  }
}

async function showResult(job) {
  const text = await api('GET', `/v1/jobs/${job.id}/manifest`, undefined, { text: true });
  if (state.job?.id !== job.id) return;
  const m = JSON.parse(text);
  state.manifestText = text;
  $('result').hidden = false;
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

  const grids = m.frames?.grids ?? [];
  const cols = job.options?.grid?.cols ?? 1;
  $('grids').replaceChildren(
    ...(grids.length ? [el('h3', { text: 'Grids (one image each)' })] : []),
    ...grids.map((g) => {
      const box = el(
        'div',
        { class: 'gridset', 'aria-label': `grid ${g.index}: ${g.width}×${g.height}, ${g.tokens} tokens` },
        ...g.timestamps.map((t) => el('span', { text: secs(t) })),
      );
      box.style.gridTemplateColumns = `repeat(${cols}, auto)`;
      return box;
    }),
  );

  const chunks = m.audio ?? [];
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
  $('segments').replaceChildren(
    ...(m.segments ?? []).map((s) =>
      el('li', {
        text: `${secs(s.startSec)}–${secs(s.endSec)}: ${s.frames.length} frame${s.frames.length === 1 ? '' : 's'}${s.audio.length ? `, ${s.audio.length} audio chunk${s.audio.length === 1 ? '' : 's'}` : ''}`,
      }),
    ),
  );
}

async function loadChunk(jobId, c) {
  const key = `${jobId}/audio/${c.index}`;
  let url = state.blobs.get(key);
  if (!url) {
    url = await blobUrl(`/v1/jobs/${jobId}/audio/${c.index}`);
    state.blobs.set(key, url);
  }
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

/** Saves text as a file through a blob URL (the request carried the token; a link could not). */
function saveText(textBody, name, type) {
  const url = URL.createObjectURL(new Blob([textBody], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
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

for (const which of ['chat', 'responses']) {
  $(`download-${which}`).addEventListener('click', (ev) => {
    const id = state.job?.id;
    if (id) void download(`/v1/jobs/${id}/requests?api=${which}`, `omniprep-${id}-${which}.json`, 'application/json', ev.currentTarget);
  });
}
$('download-batch').addEventListener('click', (ev) => {
  const id = state.job?.id;
  if (id) void download(`/v1/jobs/${id}/batch`, `omniprep-${id}.jsonl`, 'application/jsonl', ev.currentTarget);
});

function timeOf(li) {
  const t = li.querySelector('.meta strong')?.textContent ?? '0';
  return parseFloat(t);
}

async function openFrame(jobId, f) {
  const dialog = $('frame-dialog');
  $('frame-dialog-title').textContent = `Frame ${f.index} at ${secs(f.timestampSec)} (${f.width}×${f.height}, ${num(f.tokens)} tokens)`;
  const img = $('frame-full');
  img.alt = `frame ${f.index} at ${secs(f.timestampSec)}`;
  img.src = await frameBlob(jobId, f.index);
  dialog.showModal();
  $('frame-close').focus();
}

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
    cancel.addEventListener('click', async () => {
      try {
        await api('DELETE', `/v1/jobs/${j.id}`);
      } catch (e) {
        $('jobs-status').textContent = e.message;
      }
      void loadJobs();
    });
    actions.append(cancel);
  }
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
  $('model-info').textContent = describeModel(m);
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
    await loadJobs();
    schedulePlan();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    $('token-status').textContent = `The service did not answer: ${e.message}`;
  }
}

$('token').value = getToken();
showKind();
setSliderFromEvery();
void start();

// The Eval view: a video (uploaded once) and questions (a file read as text, or needles burnt into
// the video), a grid of plans, the dry run's estimate, the run with its progress, and the results:
// accuracy against dollars drawn as inline SVG (chart.js) with the frontier and the recommended
// plan, the plans' numbers, and which plan got which question right with the frames it saw.
import { api, events } from './api.js';
import { $, confirmDelete, el, num, pct, saveText, secs, usd } from './dom.js';
import { evalChart } from './chart.js';
import { uploader, uploadGone } from './uploads.js';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const evalUpload = uploader($('eval-upload-progress'), $('eval-upload-status'));
const ev = { file: null, questions: null, seq: 0, id: null, follow: null, results: null };

/** A comma-separated field as a list (undefined when empty). */
function list(id, parse = String) {
  const v = $(id).value.trim();
  if (!v) return undefined;
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(parse);
}

function grid() {
  const g = {};
  const fields = [
    ['every', 'eval-every', Number],
    ['mode', 'eval-mode', String],
    ['maxSide', 'eval-maxside', Number],
    ['detail', 'eval-detail', String],
    ['models', 'eval-models', String],
    ['send', 'eval-send', String],
  ];
  for (const [k, id, parse] of fields) {
    const v = list(id, parse);
    if (v) g[k] = v;
  }
  return g;
}

const source = () => document.querySelector('input[name="eval-source"]:checked').value;

async function videoRef(again) {
  if (ev.file) return { upload: await evalUpload(ev.file, again), name: ev.file.name };
  const p = $('eval-path').value.trim();
  return p ? { path: p } : undefined;
}

/** The body of POST /v1/evals; undefined while the video or the questions are missing. */
async function evalBody(dryRun, again = false) {
  if (source() === 'file' && ev.questions === null) return undefined;
  const video = await videoRef(again);
  if (!video) return undefined;
  const b = { videos: [video], grid: grid() };
  if (source() === 'needles') b.needles = Number($('eval-needles').value);
  else b.questions = ev.questions;
  const budget = $('eval-budget').value.trim();
  if (budget) b.budgetUsd = Number(budget);
  if (dryRun) b.dryRun = true;
  return b;
}

async function postEval(dryRun) {
  const b = await evalBody(dryRun);
  if (!b) return undefined;
  try {
    return await api('POST', '/v1/evals', b);
  } catch (e) {
    if (!(b.videos[0].upload && uploadGone(e))) throw e;
    return api('POST', '/v1/evals', await evalBody(dryRun, true));
  }
}

// ---------- the estimate ----------

let estimateTimer;
function scheduleEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(() => void estimate(), 300);
}

async function estimate() {
  const seq = ++ev.seq;
  $('eval-error').textContent = '';
  $('eval-estimate').setAttribute('aria-busy', 'true');
  $('eval-estimate-status').textContent = 'Estimating…';
  try {
    const r = await postEval(true);
    if (seq !== ev.seq) return;
    if (!r) {
      $('eval-estimate-status').textContent = 'Choose a video and questions to see what the eval costs.';
      $('eval-estimate-facts').replaceChildren();
      return;
    }
    renderEstimate(r);
  } catch (e) {
    if (seq !== ev.seq) return;
    $('eval-estimate-facts').replaceChildren();
    $('eval-estimate-status').textContent = 'No estimate: see the error in the form.';
    $('eval-error').textContent = e.message;
  } finally {
    if (seq === ev.seq) $('eval-estimate').removeAttribute('aria-busy');
  }
}

function renderEstimate(r) {
  const total = r.total ?? {};
  const plans = r.plans ?? [];
  const questions = plans[0]?.questions;
  $('eval-estimate-facts').replaceChildren(
    ...[
      ['Plans', num(plans.length)],
      ['Questions', num(questions)],
      ['Estimated dollars', usd(total.estimatedUsd)],
      ['Input tokens', num(total.estimatedInputTokens)],
    ].map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))),
  );
  $('eval-estimate-status').textContent =
    `Dry run: ${plans.length} plan${plans.length === 1 ? '' : 's'}, ${usd(total.estimatedUsd)} estimated${r.stopped ? `; ${r.stopped}` : ''}.`;
  $('eval-warnings').replaceChildren(...(r.warnings ?? []).map((w) => el('li', { text: w })));
}

// ---------- the run ----------

function renderEval(e) {
  $('eval-run-panel').hidden = false;
  const p = e.progress ?? {};
  const done = p.questionsDone ?? 0;
  const total = p.questionsTotal ?? 0;
  const bar = $('eval-progress');
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, bar.max);
  $('eval-state').textContent =
    `Eval ${e.id}: ${e.state}${total ? `, ${done} of ${total} questions asked (each once per plan)` : ''}, ${usd(p.spentUsd ?? e.spentUsd ?? 0)} spent.`;
  $('eval-cancel').hidden = TERMINAL.has(e.state);
  $('eval-run-error').textContent = e.error ? `${e.error.code}: ${e.error.message}` : '';
}

async function run() {
  $('eval-error').textContent = '';
  const button = $('eval-run');
  button.disabled = true;
  try {
    clearTimeout(estimateTimer);
    const e = await postEval(false);
    if (!e) {
      $('eval-error').textContent = source() === 'file' ? 'questions: choose a video and a question file first' : 'videos: choose a video first';
      return;
    }
    void follow(e);
  } catch (e) {
    $('eval-error').textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

async function follow(e) {
  ev.follow?.abort();
  ev.id = e.id;
  ev.results = null;
  $('eval-results').hidden = true;
  renderEval(e);
  let last = e;
  if (!TERMINAL.has(e.state)) {
    const ctrl = new AbortController();
    ev.follow = ctrl;
    try {
      await events(
        `/v1/evals/${encodeURIComponent(e.id)}/events`,
        (name, data) => {
          if (ev.id !== e.id) return;
          if (name === 'progress') last = { ...last, progress: data };
          else if (name === 'state') last = { ...last, state: data.state, error: data.error ?? null };
          else if (name === 'done' || name === 'failed' || name === 'cancelled') last = { ...last, ...data };
          renderEval(last);
        },
        ctrl.signal,
      );
    } catch (err) {
      if (err?.name === 'AbortError') return;
      $('eval-run-error').textContent = err.message;
    }
    if (ev.id !== e.id) return;
    last = await api('GET', `/v1/evals/${encodeURIComponent(e.id)}`).catch(() => last);
    renderEval(last);
  }
  if (last.state === 'succeeded') await showResults(e.id);
}

// ---------- the results ----------

function planRow(p, i, r) {
  const marks = [r.frontier.includes(i) ? 'on the frontier' : '', r.recommended === i ? 'recommended' : ''].filter(Boolean).join(', ');
  return el(
    'tr',
    { 'data-plan': String(i), class: r.recommended === i ? 'current' : '' },
    el('th', { scope: 'row', text: String(i + 1) }),
    el('td', { text: p.label }),
    el('td', { text: p.model }),
    el('td', { text: p.send }),
    el('td', { text: `${pct(p.accuracy)} (${pct(p.ci95[0])}–${pct(p.ci95[1])})` }),
    el('td', { text: `${p.correct}/${p.answered}` }),
    el('td', { text: usd(p.estimatedUsd) }),
    el('td', { text: usd(p.billedUsd) }),
    el('td', { text: num(p.inputTokens) }),
    el('td', { text: num(p.frames) }),
    el('td', { text: marks || '-' }),
  );
}

function renderPlans(r) {
  const head = ['Plan', 'What', 'Model', 'Send', 'Accuracy (95%)', 'Right', 'Estimated', 'Billed', 'Input tokens', 'Frames', 'Frontier'];
  $('eval-plans').replaceChildren(
    el('caption', { text: 'Plans, by accuracy and dollars' }),
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...r.plans.map((p, i) => planRow(p, i, r))),
  );
}

/** One row per question, one column per plan: right or wrong, and the frames that plan sent. */
function renderQuestions(r) {
  const cell = (q) => {
    if (!q) return el('td', { text: '-' });
    const verdict = !q.answered ? `not asked${q.error ? `: ${q.error}` : ''}` : q.correct ? 'right' : 'wrong';
    return el(
      'td',
      { class: q.answered ? (q.correct ? 'right' : 'wrong') : 'unasked', 'data-plan': String(q.plan), 'data-correct': String(q.answered && q.correct) },
      el('span', { class: 'verdict', text: `${q.answered ? (q.correct ? '✓' : '✗') : '–'} ${verdict}` }),
      el('span', { class: 'frames-seen', text: q.frameTimes.length ? `frames at ${q.frameTimes.map(secs).join(', ')}` : 'no frames' }),
    );
  };
  $('eval-per-question').replaceChildren(
    el('caption', { text: 'Each question with each plan' }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Question' }), ...r.plans.map((_, i) => el('th', { scope: 'col', text: `Plan ${i + 1}` })))),
    el(
      'tbody',
      {},
      ...r.questions.map((q) => {
        const byPlan = new Map(q.plans.map((x) => [x.plan, x]));
        return el(
          'tr',
          { 'data-question': q.id },
          el(
            'th',
            { scope: 'row' },
            el('span', { text: q.question }),
            el('span', { class: 'frames-seen', text: `${q.id} · ${q.video} · expected ${q.expected}` }),
          ),
          ...r.plans.map((_, i) => cell(byPlan.get(i))),
        );
      }),
    ),
  );
}

async function showResults(id) {
  const r = await api('GET', `/v1/evals/${encodeURIComponent(id)}/results`);
  if (ev.id !== id) return;
  ev.results = r;
  $('eval-results').hidden = false;
  $('eval-chart').replaceChildren(evalChart(r));
  const rec = r.recommended === null || r.recommended === undefined ? null : r.plans[r.recommended];
  $('eval-recommended').textContent = rec
    ? `Recommended: plan ${r.recommended + 1} (${rec.label}), ${pct(rec.accuracy)} right at ${usd(rec.estimatedUsd)} estimated, ${usd(rec.billedUsd)} billed. The frontier: ${r.frontier.map((i) => `plan ${i + 1}`).join(', ')}.`
    : `No plan is recommended. The frontier: ${r.frontier.map((i) => `plan ${i + 1}`).join(', ') || 'none'}.`;
  renderPlans(r);
  renderQuestions(r);
}

// ---------- wiring ----------

$('eval-file').addEventListener('change', () => {
  ev.file = $('eval-file').files[0] ?? null;
  if (ev.file) evalUpload(ev.file).catch((e) => ($('eval-error').textContent = e.message));
  scheduleEstimate();
});
$('eval-questions').addEventListener('change', async () => {
  const f = $('eval-questions').files[0];
  ev.questions = f ? await f.text() : null;
  const lines = ev.questions ? ev.questions.split('\n').filter((l) => l.trim()).length : 0;
  $('eval-questions-status').textContent = f ? `${f.name}: ${lines} line${lines === 1 ? '' : 's'} read.` : '';
  scheduleEstimate();
});
for (const r of document.querySelectorAll('input[name="eval-source"]'))
  r.addEventListener('change', () => {
    $('eval-source-file').hidden = source() !== 'file';
    $('eval-source-needles').hidden = source() !== 'needles';
    scheduleEstimate();
  });
$('eval-form').addEventListener('input', (e) => {
  if (e.target.type !== 'file') scheduleEstimate();
});
$('eval-estimate-button').addEventListener('click', () => void estimate());
$('eval-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void run();
});
$('eval-cancel').addEventListener('click', async () => {
  if (!ev.id) return;
  try {
    await api('POST', `/v1/evals/${encodeURIComponent(ev.id)}/cancel`);
  } catch (e) {
    $('eval-run-error').textContent = e.message;
  }
});
$('eval-delete').addEventListener('click', async () => {
  const id = ev.id;
  if (!id || !(await confirmDelete(`eval ${id}? Its answers and results are removed from the server`))) return;
  try {
    ev.follow?.abort();
    await api('DELETE', `/v1/evals/${encodeURIComponent(id)}`);
    ev.id = null;
    $('eval-run-panel').hidden = true;
    $('eval-results').hidden = true;
    $('eval-estimate-status').textContent = `Eval ${id} deleted.`;
  } catch (e) {
    $('eval-run-error').textContent = e.message;
  }
});
$('eval-csv').addEventListener('click', async () => {
  if (!ev.id) return;
  try {
    saveText(await api('GET', `/v1/evals/${encodeURIComponent(ev.id)}/results.csv`, undefined, { text: true }), `omniprep-eval-${ev.id}.csv`, 'text/csv');
  } catch (e) {
    $('eval-run-error').textContent = e.message;
  }
});

/** The models the grid may name (a datalist for the models field). */
export function evalModels(models) {
  $('eval-model-names').replaceChildren(...models.map((m) => el('option', { value: m.name })));
}

// Small DOM and number helpers shared by the page's modules. Text from the server is only ever set
// as textContent (`text`), never as HTML.

export const $ = (id) => document.getElementById(id);

export const el = (tag, props = {}, ...children) => {
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

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with its attributes (text, when given, as textContent). */
export const svgEl = (tag, attrs = {}, ...children) => {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
};

export const usd = (x) => (typeof x !== 'number' ? '-' : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`);
export const num = (x) => (typeof x === 'number' ? x.toLocaleString('en-US') : '-');
export const secs = (x) => `${Number(x).toFixed(2)} s`;
export const kb = (b) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} kB`);
export const pct = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '-');

/** Saves text as a file through a blob URL (the request carried the token; a link could not). */
export function saveText(textBody, name, type) {
  const url = URL.createObjectURL(new Blob([textBody], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Asks in the modal confirm dialog (Keep has the focus); resolves true for Delete. */
export function confirmDelete(what) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = `Delete ${what}. This cannot be undone.`;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'delete'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-keep').focus();
  });
}

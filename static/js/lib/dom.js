// Building DOM from data. Post text is always set as text, never parsed as HTML.

export const $ = (selector) => document.querySelector(selector);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'style') node.style.cssText = value; // through the CSSOM: the CSP refuses style attributes
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of present(children)) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// The children worth showing: null, undefined and false (from `condition && node`) are left out, where the
// DOM's own append would print them as "null" or "false".
function present(children) {
  return children.flat().filter((child) => child !== null && child !== undefined && child !== false);
}

// Replace a node's children, leaving out the absent ones as el does.
export function fill(node, ...children) {
  node.replaceChildren(...present(children));
}

// Text with its http(s) URLs as links that open safely; every other scheme stays plain text.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
export function linkified(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    fragment.append(text.slice(last, match.index));
    let url;
    try { url = new URL(match[0]); } catch { url = null; }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      fragment.append(el('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', text: match[0] }));
    } else {
      fragment.append(match[0]);
    }
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

// "a, b ,c" as typed in a field: ['a', 'b', 'c'].
export function commaList(text) {
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

// A short message at the bottom of the page (the page provides an empty #toast); with `undo`, it carries an
// Undo button that runs it once and stays a little longer, so there is time to reach it.
export function toast(text, { undo } = {}) {
  const box = document.querySelector('#toast');
  box.replaceChildren(text);
  if (undo) {
    box.append(' ', el('button', { type: 'button', class: 'undo', text: 'Undo', onclick: () => { box.hidden = true; undo(); } }));
  }
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, undo ? 8000 : 3500);
}

// The exact local date and time, for the hover title of a relative time (one formatter: toLocaleString
// builds a new one per call, a tenth of a millisecond each, and every list row shows several times).
const EXACT = new Intl.DateTimeFormat([], { dateStyle: 'medium', timeStyle: 'medium' });
export function exactTime(iso) {
  return iso ? EXACT.format(new Date(iso)) : '';
}

// A sentiment score (-1 to +1) as a word and the tone that colours it.
export function sentiment(score) {
  if (score <= -0.6) return { word: 'very negative', tone: 'neg' };
  if (score <= -0.2) return { word: 'negative', tone: 'neg' };
  if (score < 0.2) return { word: 'neutral', tone: '' };
  if (score < 0.6) return { word: 'positive', tone: 'pos' };
  return { word: 'very positive', tone: 'pos' };
}

export function ago(iso) {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}

// "due in 12m" / "late 3h": the SLA countdown shown on rows, refreshed every second.
export function countdown(iso) {
  if (!iso) return { text: '', late: false };
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  const span = size < 3600 ? `${Math.floor(size / 60)}m ${size % 60}s` : size < 86400
    ? `${Math.floor(size / 3600)}h ${Math.floor((size % 3600) / 60)}m` : `${Math.floor(size / 86400)}d`;
  return seconds < 0 ? { text: `late ${span}`, late: true } : { text: `due in ${span}`, late: false };
}

export function followers(count) {
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`;
  return String(count);
}

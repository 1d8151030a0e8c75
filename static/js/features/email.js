// A received email in the thread: its addresses, attachments, the quoted history folded, and an optional
// formatted view. The HTML was sanitised on receipt; here it is parsed into an inert document and only
// allow-listed elements are rebuilt, as text and attributes, so nothing in it can run or fetch from elsewhere.
import { el, linkified } from '../lib/dom.js';

const KEPT = new Set(['a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'code', 'dd', 'del', 'div', 'dl', 'dt',
  'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'li', 'ol', 'p', 'pre', 'q', 's', 'small',
  'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul']);
const ATTACHMENTS = '/api/v1/attachments/';

function address(a) {
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

function addressLine(label, list, dropped = 0) {
  if (!list || list.length === 0) return false;
  const more = dropped ? ` and ${dropped} more` : '';
  return el('div', { class: 'email-line' }, el('span', { class: 'email-label', text: `${label}: ` }),
    list.map(address).join(', ') + more);
}

function size(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

// Rebuild one sanitised node: allow-listed elements with their text; links to http(s)/mailto only, images
// only from our attachments (remote ones were removed on receipt and would be refused by the CSP anyway).
function rebuilt(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const tag = node.tagName.toLowerCase();
  const children = [...node.childNodes].map(rebuilt).filter(Boolean);
  if (!KEPT.has(tag)) return children.length ? el('span', {}, children) : null;
  const attrs = {};
  if (tag === 'a') {
    const href = node.getAttribute('href') || '';
    if (/^(https?:|mailto:)/i.test(href)) Object.assign(attrs, { href, target: '_blank', rel: 'noopener noreferrer nofollow' });
  }
  if (tag === 'img') {
    const src = node.getAttribute('src') || '';
    if (!src.startsWith(ATTACHMENTS)) return null;
    Object.assign(attrs, { src, alt: node.getAttribute('alt') || 'inline image', class: 'email-inline' });
  }
  return el(tag, attrs, tag === 'img' ? [] : children);
}

function formatted(html) {
  const doc = new DOMParser().parseFromString(html, 'text/html'); // inert: nothing in it runs or loads
  return el('div', { class: 'email-html' }, [...doc.body.childNodes].map(rebuilt).filter(Boolean));
}

// The parts of an email message below its "by" line (text included).
export function renderEmail(m) {
  const e = m.email;
  const files = e.attachments.filter((a) => !a.inline || !a.stored);
  const inline = e.attachments.filter((a) => a.inline && a.stored && a.content_type.startsWith('image/'));
  return [
    el('div', { class: 'email-head' },
      addressLine('From', e.from ? [e.from] : []),
      addressLine('To', e.to, e.recipients_dropped),
      addressLine('Cc', e.cc),
      addressLine('Bcc', e.bcc),
      e.kind === 'forward' && el('div', { class: 'email-flag', text: 'Forwarded (with the thread below the note)' }),
      m.subject && el('div', { class: 'email-line' }, el('span', { class: 'email-label', text: 'Subject: ' }), m.subject),
      e.automatic && el('div', { class: 'email-flag', text: `Sent by a machine (${e.automatic}): never answered automatically` }),
      e.bounced.length > 0 && el('div', { class: 'email-flag', text: `Bounce: mail to ${e.bounced.join(', ')} is stopped` })),
    el('div', { class: 'text' }, linkified(m.text)),
    e.signature && el('details', { class: 'email-fold' }, el('summary', { text: 'Signature' }),
      el('div', { class: 'text' }, e.signature)),
    e.quoted && el('details', { class: 'email-fold email-quoted' }, el('summary', { text: 'Quoted history' }),
      el('div', { class: 'text' }, e.quoted)),
    e.html && el('details', { class: 'email-fold' },
      el('summary', { text: `Formatted view${e.remote_images ? ` (${e.remote_images} remote images not loaded)` : ''}` }),
      formatted(e.html)),
    inline.length > 0 && el('div', { class: 'email-images' }, inline.map((a) => el('a', { href: a.url, target: '_blank', rel: 'noopener' },
      el('img', { src: a.url, alt: a.filename, class: 'email-inline' })))),
    files.length > 0 && el('ul', { class: 'email-files', 'aria-label': 'Attachments' }, files.map((a) => el('li', {},
      a.stored ? el('a', { href: a.url, download: a.filename, text: a.filename }) : el('span', { text: `${a.filename} (over the size limit: not kept)` }),
      ` · ${a.content_type} · ${size(a.size)}`))),
  ];
}

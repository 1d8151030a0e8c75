// The list: a queue's conversations in the server's work order (or a search's results), patched live.
// Only the rows on screen are in the page (each row is ROW_HEIGHT high), so thousands scroll smoothly; a live
// event changes the rows it names and the list is drawn once per frame, however many events came in it.
import * as conversations from '../../clients/conversations.js';
import * as queues from '../../clients/queues.js';
import * as savedViews from '../../clients/views.js';
import { attempt } from '../../lib/api.js';
import { $ } from '../../lib/dom.js';
import { renderQueues } from './queues.js';
import { ROW_HEIGHT, SORTS, renderRow, sortRows, view } from './rows.js';
import { app, filters, matches, state } from './state.js';

const PAGE_SIZE = 50;
const OVERSCAN = 10;  // rows drawn above and below the screen, so a quick scroll shows no gap
const FRESH_MS = 2000;  // a new row is highlighted this long
const PREVIEW_CHARS = 160;  // as much of the latest post as the server's list rows carry
const PREVIEW_FETCHES = 10;  // threads read at most per drawing, for rows on screen with no preview
const hooks = { open: () => {}, changed: () => {} };
// Each drawn row by id, with what it was drawn from (a row is redrawn only when one of them changes).
const drawn = new Map();
const fresh = new Map();  // id -> when it arrived
const previews = new Map();  // id -> preview, kept when a row leaves: a live event does not carry it
const versions = new Map();  // id -> the newest updated_at seen, kept when a row leaves
let order = null;  // the ids in the list's order; null when it must be sorted again from scratch
const moved = new Set();  // ids changed, added or removed since the order was last brought up to date
const MAX_PLACED = 200;  // more changes than this at once: sorting everything again is quicker
let frame = null;
let generation = 0;  // bumped when the density or columns change: every row is drawn anew

// open(id): open a conversation; changed(): the open conversation changed (a live event said so).
export function initList({ open, changed }) {
  Object.assign(hooks, { open, changed });
  $('#list').addEventListener('scroll', () => { renderList(); if (nearTheEnd()) loadList(false); }, { passive: true });
  window.addEventListener('resize', () => renderList());
}

// The ids in the list's order: a search keeps the server's relevance order unless another sort is chosen.
export function ordered() {
  const relevance = state.search && view.sort === 'work';
  if (order && moved.size > MAX_PLACED) order = null;
  if (!order) {
    const rows = [...state.rows.values()];
    order = (relevance ? rows : sortRows(rows, view.sort)).map((c) => c.id);
  } else if (moved.size) {  // a few rows changed (live events): take them out and put each back in its place
    order = order.filter((id) => !moved.has(id));
    for (const id of moved) {
      const c = state.rows.get(id);
      if (c) order.splice(relevance ? order.length : placeOf(c), 0, id);
    }
  }
  moved.clear();
  return order;
}

// Where the conversation goes in the current order (a binary search by the sort's key, then sort_key).
function placeOf(c) {
  const key = SORTS[view.sort].key;
  const mine = [key(c), c.sort_key];
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const other = state.rows.get(order[middle]);
    const theirs = [key(other), other.sort_key];
    const before = theirs[0] !== mine[0] ? theirs[0] < mine[0] : theirs[1] < mine[1];
    if (before) low = middle + 1; else high = middle;
  }
  return low;
}

// Redraw from scratch after the density or the columns changed; re-sort after the sort changed.
export function restyle() { generation += 1; order = null; drawn.clear(); $('#rows').replaceChildren(); paint(); }

// Ask for the list to be drawn at the next frame (once, however often asked).
export function renderList() {
  if (frame === null) frame = requestAnimationFrame(paint);
}

function paint() {
  if (frame !== null) cancelAnimationFrame(frame);
  frame = null;
  const ids = ordered();
  const height = ROW_HEIGHT[view.density];
  const list = $('#list');
  const rows = $('#rows');
  // Where the list is scrolled is read before anything is written: a read after a write would lay the page out
  // once more, inside this frame.
  const top = list.scrollTop - rows.offsetTop;
  const first = Math.max(0, Math.floor(top / height) - OVERSCAN);
  const last = Math.min(ids.length, Math.ceil((top + list.clientHeight) / height) + OVERSCAN);
  rows.style.height = `${ids.length * height}px`;
  const now = Date.now();
  const nodes = [];
  for (let index = first; index < last; index += 1) nodes.push(rowAt(ids, index, height, now));
  for (const [id, entry] of drawn) if (!nodes.includes(entry.node)) { entry.node.remove(); drawn.delete(id); }
  // Keep the page's order the screen's order (for screen readers), moving only the rows out of place.
  nodes.forEach((node, index) => { if (rows.children[index] !== node) rows.insertBefore(node, rows.children[index] || null); });
  $('#empty').hidden = ids.length > 0;
  $('#empty').textContent = emptyText();
  $('#more').hidden = !state.cursor;
  const queue = state.queues.find((q) => q.slug === state.queue);
  $('#list-title').textContent = state.view ? `View: ${state.view.name} · ${ids.length}${state.cursor ? '+' : ''}`
    : state.search ? `Search: ${state.search}`
    : queue ? `${queue.name} · ${ids.length}${state.cursor ? '+' : ''} ${filters().status}` : '';
  for (const [id, since] of fresh) if (now - since > FRESH_MS) fresh.delete(id);
  fetchPreviews(ids.slice(first, last).map((id) => state.rows.get(id)).filter((c) => c.preview === undefined));
}

// A live event names what changed, not the post's text: a row that arrives that way (moved in, reopened)
// with no preview known gets it from its thread once it is on screen.
const asked = new Set();
async function fetchPreviews(rows) {
  for (const c of rows.filter((row) => !asked.has(row.id)).slice(0, PREVIEW_FETCHES)) {
    asked.add(c.id);
    conversations.get(c.id).then((detail) => {
      const text = latestPost(detail);
      if (text === undefined || !state.rows.has(c.id)) return;
      previews.set(c.id, text);
      keep({ id: c.id, preview: text });
      renderList();
    }).catch(() => {});  // a conversation gone from reach: its row shows no preview
  }
}

// The start of the latest post in a conversation's thread, as list rows show it.
function latestPost(detail) {
  const inbound = [...(detail.messages || [])].reverse().find((m) => m.direction === 'inbound');
  return inbound && inbound.text.slice(0, PREVIEW_CHARS);
}

function rowAt(ids, index, height, now) {
  const c = state.rows.get(ids[index]);
  const selected = c.id === state.selected;
  const isFresh = fresh.has(c.id) && now - fresh.get(c.id) < FRESH_MS;
  let entry = drawn.get(c.id);
  if (!entry || entry.data !== c || entry.selected !== selected || entry.generation !== generation) {
    const node = renderRow(c, { selected, fresh: isFresh, open: hooks.open });
    if (entry) entry.node.replaceWith(node);
    entry = { node, data: c, selected, generation };
    drawn.set(c.id, entry);
  }
  const { node } = entry;
  node.style.cssText = `height: ${height}px; transform: translateY(${index * height}px)`;
  node.setAttribute('aria-posinset', index + 1);
  node.setAttribute('aria-setsize', ids.length);
  return node;
}

function emptyText() {
  if (state.view) return `No conversation in the view "${state.view.name}".`;
  if (state.search) return `No conversation matches "${state.search}".`;
  if (!state.queue) return 'You are in no queue yet: ask an admin to add you to one.';
  const f = filters();
  const filtered = f.assignee !== 'any' || f.tag || f.channel;
  return filtered ? `No ${f.status} conversations match these filters. Clear a filter to see more.`
    : `No ${f.status} conversations in this queue. Press n to get the next one from any of your queues.`;
}

function nearTheEnd() {
  const list = $('#list');
  return state.cursor && !state.search && list.scrollTop + list.clientHeight > list.scrollHeight - 4 * ROW_HEIGHT[view.density];
}

// Scroll the list so the conversation's row is on screen (it may not be drawn yet); the list is drawn at the
// next frame, or at once when it had to scroll.
export function reveal(id) {
  const ids = ordered();
  const index = ids.indexOf(id);
  if (index < 0) return;
  const height = ROW_HEIGHT[view.density];
  const list = $('#list');
  const top = $('#rows').offsetTop + index * height;
  const scrolled = list.scrollTop;
  const seen = list.clientHeight;
  const to = top < scrolled ? top - height : top + height > scrolled + seen ? top + 2 * height - seen : null;
  if (to === null) { renderList(); return; }
  $('#rows').style.height = `${ids.length * height}px`;  // the full height first: a scroll past it would stop short
  list.scrollTop = to;
  paint();
}

// The conversation `step` rows from this one in the list's order (clamped at the ends), or null.
export function neighbour(id, step) {
  const ids = ordered();
  if (!ids.length) return null;
  const index = ids.indexOf(id);
  if (index < 0) return ids[0];
  return ids[Math.min(Math.max(index + step, 0), ids.length - 1)];
}

// Remember a row (and its preview); the list is drawn at the next frame.
function keep(c) {
  const known = state.rows.get(c.id);
  const preview = c.preview ?? (known && known.preview) ?? previews.get(c.id);
  if (preview !== undefined) previews.set(c.id, preview);
  state.rows.set(c.id, { ...known, ...c, preview });
  moved.add(c.id);
}

// Load the first page of the list (reset) or the next one.
let loading = null;
export async function loadList(reset) {
  if (!reset && loading) return loading;
  const f = filters();
  const params = new URLSearchParams({ status: f.status, limit: PAGE_SIZE });
  if (f.assignee !== 'any') params.set('assignee', f.assignee);
  if (f.tag) params.set('tag', f.tag);
  if (f.channel) params.set('channel', f.channel);
  if (!reset && state.cursor) params.set('cursor', state.cursor);
  if (!state.queue) return renderList();
  const queue = state.queue;
  loading = attempt(() => queues.conversations(queue, params));
  const page = await loading;
  loading = null;
  if (!page || queue !== state.queue || state.search) return;
  if (reset) { state.rows.clear(); order = null; }
  for (const c of page.data) keep(c);
  state.cursor = page.next_cursor;
  renderList();
}

export function selectQueue(slug) {
  state.queue = slug;
  app.dataset.view = 'list';
  state.search = null;
  state.view = null;
  $('#search').value = '';
  $('#list').scrollTop = 0;
  renderQueues();
  return loadList(true);
}

export async function runSearch(text) {
  if (text.trim().length < 2) return selectQueue(state.queue);
  const found = await attempt(() => conversations.search(text));
  if (!found) return;
  state.search = text;
  state.view = null;
  state.rows = new Map();
  order = null;
  for (const c of found.data) keep(c);
  state.cursor = null;
  $('#list').scrollTop = 0;
  renderQueues();
  renderList();
}

// Show a saved view's conversations (its first page, in work order); like a search's results, not patched live.
export async function openView(v) {
  const found = await attempt(() => savedViews.conversations(v.id, new URLSearchParams({ limit: 200 })));
  if (!found) return;
  state.view = v;
  state.search = `view:${v.id}`;
  state.rows = new Map();
  order = null;
  for (const c of found.data) keep(c);
  state.cursor = null;
  app.dataset.view = 'list';
  $('#list').scrollTop = 0;
  renderQueues();
  renderList();
  document.dispatchEvent(new CustomEvent('view-opened'));
}

// Show this conversation (just opened) in the list when it belongs there, keeping what the list knew.
export function include(c) {
  const preview = latestPost(c);
  if (preview !== undefined && !previews.has(c.id)) previews.set(c.id, preview);
  if (matches(c)) { const { messages, ...row } = c; keep(row); }
}

// Patch the list in place from live events: rows appear, move and disappear. An event older than what the
// list already knows of that conversation (events and answers can cross) changes nothing.
export function applyChanges(changed, isNew) {
  for (const c of changed) {
    const known = versions.get(c.id);
    const version = Date.parse(c.updated_at);  // as a number: the server's strings drop zero microseconds
    if (known > version) continue;
    versions.set(c.id, version);
    if (matches(c)) keep(c);
    else if (!state.search && state.rows.delete(c.id)) moved.add(c.id);
    if (isNew) fresh.set(c.id, Date.now());
    if (state.conversation && c.id === state.conversation.id) hooks.changed();
  }
  renderList();
}

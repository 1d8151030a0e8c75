// The list: a queue's conversations in the server's work order (or a search's results), patched live.
import * as conversations from '../../clients/conversations.js';
import * as queues from '../../clients/queues.js';
import { attempt } from '../../lib/api.js';
import { $, ago, countdown, el, followers } from '../../lib/dom.js';
import { pickBox } from '../../features/bulk.js';
import { renderQueues } from './queues.js';
import { app, filters, matches, state } from './state.js';

const SLA_BADGES = { at_risk: 'SLA at risk', breached: 'SLA breached' };
const PAGE_SIZE = 50;
const hooks = { open: () => {}, changed: () => {} };

// open(id): open a conversation; changed(): the open conversation changed (a live event said so).
export function initList({ open, changed }) { Object.assign(hooks, { open, changed }); }

// The server's queue order: its sort_key, compared by code unit (as the server does, not by locale).
function byServerOrder(a, b) {
  if (a.sort_key === b.sort_key) return 0;
  return a.sort_key < b.sort_key ? -1 : 1;
}

function renderRow(c) {
  const due = countdown(c.sla_due_at);
  const vip = c.author.tags.includes('vip');
  const reasons = c.priority_reasons.map((r) => `${r.points > 0 ? '+' : ''}${r.points} ${r.factor}: ${r.detail}`);
  const sentiment = c.sentiment == null ? null : c.sentiment <= -0.3 ? 'neg' : c.sentiment >= 0.3 ? 'pos' : '';
  return el('li', { class: `row${c.id === state.selected ? ' selected' : ''}`, dataset: { id: c.id },
                    onclick: () => hooks.open(c.id) },
    el('div', { class: 'line1' }, pickBox(c),
      el('span', { class: `chip prio-${c.priority}`, title: reasons.join('\n') || 'no priority factors',
                   text: c.priority }),
      vip && el('span', { class: 'chip vip', text: 'VIP' }),
      c.private && el('span', { class: 'chip private', text: 'private', title: 'a private message on its platform' }),
      el('span', { class: 'who', text: c.author.name || `@${c.author.handle}` }),
      el('span', { class: 'meta', text: `@${c.author.handle} · ${followers(c.author.followers)}${c.author.verified ? ' ✓' : ''}` })),
    el('div', { class: 'subject', text: c.subject || '' }),
    el('div', { class: 'preview', text: c.preview || '' }),
    el('div', { class: 'line3' },
      el('span', { text: c.channel }),
      due.text && el('span', { class: `sla${due.late ? ' late' : ''}`, dataset: { due: c.sla_due_at }, text: due.text }),
      SLA_BADGES[c.sla_status] && el('span', { class: `chip sla-${c.sla_status}`, text: SLA_BADGES[c.sla_status] }),
      sentiment !== null && el('span', { class: `sentiment ${sentiment}`, text: `sentiment ${c.sentiment.toFixed(2)}` }),
      ...c.tags.map((tag) => el('span', { class: 'chip', text: tag })),
      el('span', { class: 'assignee', text: c.assignee ? `→ ${c.assignee.name}` : 'unassigned' }),
      el('span', { text: ago(c.last_message_at) })));
}

export function renderList() {
  const ordered = [...state.rows.values()];
  // A search keeps the server's relevance order; a queue is sorted by the key the server sends with each
  // conversation (none sent: the rows stay in the order they came).
  if (!state.search && ordered.every((c) => typeof c.sort_key === 'string')) ordered.sort(byServerOrder);
  $('#rows').replaceChildren(...ordered.map(renderRow));
  $('#empty').hidden = ordered.length > 0;
  $('#more').hidden = !state.cursor;
  const queue = state.queues.find((q) => q.slug === state.queue);
  $('#list-title').textContent = state.search ? `Search: ${state.search}` : (queue ? queue.name : '');
}

// Load the first page of the list (reset) or the next one.
export async function loadList(reset) {
  const f = filters();
  const params = new URLSearchParams({ status: f.status, limit: PAGE_SIZE });
  if (f.assignee !== 'any') params.set('assignee', f.assignee);
  if (f.tag) params.set('tag', f.tag);
  if (f.channel) params.set('channel', f.channel);
  if (!reset && state.cursor) params.set('cursor', state.cursor);
  if (!state.queue) return renderList();
  const page = await attempt(() => queues.conversations(state.queue, params));
  if (!page) return;
  if (reset) state.rows.clear();
  for (const c of page.data) state.rows.set(c.id, c);
  state.cursor = page.next_cursor;
  renderList();
}

export function selectQueue(slug) {
  state.queue = slug;
  app.dataset.view = 'list';
  state.search = null;
  $('#search').value = '';
  renderQueues();
  loadList(true);
}

export async function runSearch(text) {
  if (text.trim().length < 2) return selectQueue(state.queue);
  const found = await attempt(() => conversations.search(text));
  if (!found) return;
  state.search = text;
  state.rows = new Map(found.data.map((c) => [c.id, c]));
  state.cursor = null;
  renderQueues();
  renderList();
}

// Patch the list in place from live events: rows appear, move and disappear.
export function applyChanges(changed, fresh) {
  for (const c of changed) {
    if (matches(c)) {
      state.rows.set(c.id, { ...state.rows.get(c.id), ...c });
    } else if (!state.search) {
      state.rows.delete(c.id);
    }
    if (state.conversation && c.id === state.conversation.id) hooks.changed();
  }
  renderList();
  if (fresh) {
    for (const c of changed) document.querySelector(`.row[data-id="${c.id}"]`)?.classList.add('fresh');
  }
}

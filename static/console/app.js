// The agent console: queues, the ordered list, one conversation with its customer, live.
import { api } from './api.js';
import { ago, countdown, el, fill, followers, linkified, toast } from './dom.js';
import { canEscalate, escalate, renderEscalation } from './escalation.js';
import { hasSelection, initBulk, pickBox, pickMacro, setQueues, showProgress, toggleCurrent } from './bulk.js';
import { openPicker } from './macros.js';

const $ = (selector) => document.querySelector(selector);
const app = $('#app');
const me = { id: Number(app.dataset.agentId), name: app.dataset.agentName };
const RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
const SLA_BADGES = { at_risk: 'SLA at risk', breached: 'SLA breached' };

const state = {
  queues: [], queue: null, search: null, rows: new Map(), cursor: null, selected: null,
  conversation: null, author: null, socket: null, lockedBy: null, lastTyping: 0,
};

// ---------- small helpers

async function attempt(action) {
  try { return await action(); } catch (error) { toast(error.message); return null; }
}

function filters() {
  return { status: $('#filter-status').value, assignee: $('#filter-assignee').value,
           tag: $('#filter-tag').value.trim().toLowerCase(), channel: $('#filter-channel').value.trim() };
}

function matches(conversation) {
  const f = filters();
  if (state.search || !state.queue || conversation.queue !== state.queue) return false;
  if (conversation.status !== f.status) return false;
  const assignee = conversation.assignee ? conversation.assignee.id : null;
  if (f.assignee === 'me' && assignee !== me.id) return false;
  if (f.assignee === 'none' && assignee !== null) return false;
  if (f.tag && !conversation.tags.includes(f.tag)) return false;
  if (f.channel && conversation.channel !== f.channel) return false;
  return true;
}

// The queue's order: priority level, then SLA due time, then age.
function compare(a, b) {
  return (RANK[a.priority] - RANK[b.priority]) || ((a.sla_due_at || '~').localeCompare(b.sla_due_at || '~'))
    || a.created_at.localeCompare(b.created_at) || (a.id - b.id);
}

// ---------- sidebar

// The server stops counting at-risk conversations here (services/counts.py).
const AT_RISK_CAP = 100;

function renderQueues() {
  const list = $('#queues');
  list.replaceChildren(...state.queues.map((queue) => {
    const c = queue.counts;
    return el('li', { dataset: { queue: queue.slug }, class: queue.slug === state.queue && !state.search ? 'active' : '',
                      onclick: () => selectQueue(queue.slug), title: queue.description },
      el('span', { text: queue.name }),
      el('span', { class: 'counts' },
        el('span', { class: 'count-open', title: 'open', text: c.open }),
        el('span', { class: 'count-unassigned', title: 'unassigned', text: `${c.unassigned} new` }),
        el('span', { class: `count-at-risk${c.at_risk ? ' some' : ''}`, title: 'at risk of missing the SLA',
                     text: c.at_risk ? `⚠ ${c.at_risk >= AT_RISK_CAP ? `${AT_RISK_CAP - 1}+` : c.at_risk}` : '' })));
  }));
  const move = $('#conv-queue');
  move.replaceChildren(...state.queues.map((q) => el('option', { value: q.slug, text: q.name })));
  if (state.conversation) move.value = state.conversation.queue;
}

async function loadQueues() {
  state.queues = (await api('GET', '/queues')).data;
  if (!state.queue && state.queues.length) {
    const busiest = [...state.queues].sort((a, b) => b.counts.open - a.counts.open)[0];
    state.queue = busiest.slug;
  }
  renderQueues();
  setQueues(state.queues);
}

function selectQueue(slug) {
  state.queue = slug;
  app.dataset.view = 'list';
  state.search = null;
  $('#search').value = '';
  renderQueues();
  loadList(true);
}

// ---------- the list

function renderRow(c) {
  const due = countdown(c.sla_due_at);
  const vip = c.author.tags.includes('vip');
  const reasons = c.priority_reasons.map((r) => `${r.points > 0 ? '+' : ''}${r.points} ${r.factor}: ${r.detail}`);
  const sentiment = c.sentiment == null ? null : c.sentiment <= -0.3 ? 'neg' : c.sentiment >= 0.3 ? 'pos' : '';
  return el('li', { class: `row${c.id === state.selected ? ' selected' : ''}`, dataset: { id: c.id },
                    onclick: () => openConversation(c.id) },
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

function renderList() {
  const ordered = [...state.rows.values()];
  if (!state.search) ordered.sort(compare);
  $('#rows').replaceChildren(...ordered.map(renderRow));
  $('#empty').hidden = ordered.length > 0;
  $('#more').hidden = !state.cursor;
  const queue = state.queues.find((q) => q.slug === state.queue);
  $('#list-title').textContent = state.search ? `Search: ${state.search}` : (queue ? queue.name : '');
}

async function loadList(reset) {
  const f = filters();
  const params = new URLSearchParams({ status: f.status, limit: 50 });
  if (f.assignee !== 'any') params.set('assignee', f.assignee);
  if (f.tag) params.set('tag', f.tag);
  if (f.channel) params.set('channel', f.channel);
  if (!reset && state.cursor) params.set('cursor', state.cursor);
  if (!state.queue) return renderList();
  const page = await attempt(() => api('GET', `/queues/${encodeURIComponent(state.queue)}/conversations?${params}`));
  if (!page) return;
  if (reset) state.rows.clear();
  for (const c of page.data) state.rows.set(c.id, c);
  state.cursor = page.next_cursor;
  renderList();
}

async function runSearch(text) {
  if (text.trim().length < 2) return selectQueue(state.queue);
  const found = await attempt(() => api('GET', `/search?q=${encodeURIComponent(text)}`));
  if (!found) return;
  state.search = text;
  state.rows = new Map(found.data.map((c) => [c.id, c]));
  state.cursor = null;
  renderQueues();
  renderList();
}

// Patch the list in place from live events: rows appear, move and disappear.
function applyChanges(conversations, fresh) {
  for (const c of conversations) {
    if (matches(c)) {
      state.rows.set(c.id, { ...state.rows.get(c.id), ...c });
    } else if (!state.search) {
      state.rows.delete(c.id);
    }
    if (state.conversation && c.id === state.conversation.id) refreshConversation();
  }
  renderList();
  if (fresh) {
    for (const c of conversations) document.querySelector(`.row[data-id="${c.id}"]`)?.classList.add('fresh');
  }
}

// ---------- one conversation

function renderMessage(m) {
  const who = m.direction === 'inbound' ? (state.conversation.author.name || `@${state.conversation.author.handle}`)
    : `${m.agent ? m.agent.name : m.direction === 'note' ? 'Switchboard' : 'agent'}${m.direction === 'note' ? ' (internal note)' : ''}`;
  return el('li', { class: `message ${m.direction}`, dataset: { id: m.id } },
    el('div', { class: 'by' }, who, ` · ${ago(m.created_at)}`,
      m.delivery_status && el('span', { class: `delivery ${m.delivery_status}`, title: m.delivery_error || '',
                                        text: m.delivery_status }),
      m.url && /^https?:\/\//i.test(m.url) && el('a', { class: 'permalink', href: m.url, target: '_blank',
                                                    rel: 'noopener noreferrer nofollow', text: 'view on platform' })),
    el('div', { class: 'text' }, linkified(m.text)));
}

function renderConversation() {
  const c = state.conversation;
  $('#conversation').hidden = false;
  $('#conv-subject').textContent = c.subject || `Conversation ${c.id}`;
  $('#conv-meta').textContent = `#${c.id} · ${c.channel}${c.private ? ' · private message' : ''} · ${c.status} · ${c.assignee ? `assigned to ${c.assignee.name}` : 'unassigned'}`
    + (c.snoozed_until ? ` · snoozed until ${new Date(c.snoozed_until).toLocaleString()}` : '');
  $('#conv-status').value = c.status;
  $('#conv-queue').value = c.queue;
  $('#conv-priority').value = c.priority;
  $('#conv-tags').value = c.tags.join(', ');
  $('#thread').replaceChildren(...c.messages.map(renderMessage));
  renderExplanation();
  renderEscalation(c);
}

function renderExplanation() {
  const e = state.conversation.explanation || {};
  const rules = (e.rules || []).map((r) => el('li', { text: `${r.name}: ${r.status}` }));
  const model = e.model ? `model ${e.model.version}: ${(e.model.labels || []).map(([l, p]) => `${l} ${(p * 100).toFixed(0)}%`).join(', ')}` : 'no model';
  const priority = ((e.priority || {}).contributions || []).map((p) => el('li', { text: `${p.points > 0 ? '+' : ''}${p.points} ${p.factor}: ${p.detail}` }));
  fill($('#explanation'),
    el('p', { text: e.queue_reason || 'Not routed yet.' }),
    rules.length > 0 && el('div', {}, 'Rules:', el('ul', {}, rules)),
    el('p', { text: model }),
    priority.length > 0 && el('div', {}, `Priority ${(e.priority || {}).level} (score ${(e.priority || {}).score}):`, el('ul', {}, priority)),
    ...slaAndAssignment(state.conversation));
}

// The SLA clocks and the last automatic assignment, with why each agent was or was not chosen.
function slaAndAssignment(c) {
  const targets = Object.entries((c.sla || {}).targets || {}).map(([name, t]) => el('li', {
    text: `${name.replace('_', ' ')}: due ${new Date(t.due_at).toLocaleString()} (${t.minutes} min${t.business_hours ? ' of business hours' : ''}) · ${t.state.replace('_', ' ')}` }));
  const parts = [targets.length > 0 && el('div', { class: 'sla-targets' }, `SLA${c.sla.paused ? ' (paused: pending on the customer)' : ''}:`, el('ul', {}, targets))];
  const a = c.assignment;
  if (a) {
    parts.push(el('div', { class: 'assignment-why' }, el('p', { text: a.reason }),
      el('ul', {}, a.candidates.map((k) => el('li', { text: `${k.name}: ${k.outcome.replace(/_/g, ' ')}, ${k.reason}` })))));
  }
  return parts;
}

function renderCustomer() {
  const a = state.author;
  $('#customer').hidden = false;
  $('#cust-name').textContent = a.name || `@${a.handle}`;
  fill($('#cust-meta'),
    el('div', { text: `@${a.handle} on ${a.channel}` }),
    el('div', { text: `${followers(a.followers)} followers${a.verified ? ' · verified ✓' : ''}` }),
    a.trust_level != null && el('div', { text: `forum trust level ${a.trust_level}` }),
    a.email && el('div', { text: a.email }));
  $('#cust-tags').value = a.tags.join(', ');
  $('#cust-notes').replaceChildren(...a.notes.map((note) => el('li', { dataset: { id: note.id } },
    el('div', { class: 'note-text', text: note.text }),
    el('div', { class: 'meta', text: `${note.agent ? note.agent.name : '?'} · ${ago(note.created_at)}` },
      ' ', el('button', { class: 'edit-note', onclick: () => editNote(note), text: 'edit' }),
      ' ', el('button', { class: 'delete-note', onclick: () => deleteNote(note), text: 'delete' })))));
  $('#cust-history').replaceChildren(...a.conversations.map((c) => el('li', { onclick: () => openConversation(c.id) },
    `#${c.id} ${c.subject || '(no subject)'} · ${c.status} · ${c.queue || 'routing'} · ${ago(c.last_message_at)}`)));
}

async function openConversation(id, { push = true } = {}) {
  const previous = state.conversation && state.conversation.id;
  const detail = await attempt(() => api('GET', `/conversations/${id}`));
  if (!detail) return;
  if (previous && previous !== id) state.socket?.emit('leave', { conversation_id: previous });
  state.conversation = detail;
  state.selected = id;
  state.lockedBy = null;
  renderConversation();
  renderList();
  app.dataset.view = 'conversation';
  if (push) history.pushState({ id }, '', `/conversations/${id}`);
  state.socket?.emit('view', { conversation_id: id });
  state.author = await attempt(() => api('GET', `/authors/${detail.author.id}`));
  if (state.author) renderCustomer();
}

// Show a newer version of the open conversation; an answer that was overtaken (a refresh
// started before our own change committed) is dropped rather than shown over newer state.
function showConversation(detail) {
  const current = state.conversation;
  if (!detail || !current || detail.id !== current.id) return false;
  if (detail.updated_at < current.updated_at) return false;
  state.conversation = detail;
  renderConversation();
  return true;
}

async function refreshConversation() {
  if (!state.conversation) return;
  showConversation(await attempt(() => api('GET', `/conversations/${state.conversation.id}`)));
}

async function change(fields) {
  const detail = await attempt(() => api('PATCH', `/conversations/${state.conversation.id}`, fields));
  if (showConversation(detail)) applyChanges([detail]);
  return detail;
}

async function send(resolveAfter) {
  const text = $('#reply-text').value;
  if (!text.trim() || !state.conversation) return;
  const kind = document.querySelector('input[name="kind"]:checked').value;
  const path = `/conversations/${state.conversation.id}/${kind === 'note' ? 'notes' : 'replies'}`;
  if (!await attempt(() => api('POST', path, { text }))) return;
  $('#reply-text').value = '';
  if (resolveAfter) await change({ status: 'resolved' });
  await refreshConversation();
  toast(kind === 'note' ? 'Note added' : resolveAfter ? 'Sent and resolved' : 'Reply sent');
}

function setKind(kind) {
  document.querySelector(`input[name="kind"][value="${kind}"]`).checked = true;
  $('#composer').classList.toggle('note-mode', kind === 'note');
  $('#reply-text').focus();
}

async function editNote(note) {
  const text = prompt('Edit note', note.text);
  if (text === null) return;
  await attempt(() => api('PATCH', `/authors/${state.author.id}/notes/${note.id}`, { text }));
  state.author = await api('GET', `/authors/${state.author.id}`);
  renderCustomer();
}

async function deleteNote(note) {
  if (!confirm('Delete this note?')) return;
  await attempt(() => api('DELETE', `/authors/${state.author.id}/notes/${note.id}`));
  state.author = await api('GET', `/authors/${state.author.id}`);
  renderCustomer();
}

async function escalateOpen() {
  if (!state.conversation || !canEscalate(state.conversation)) return;
  const detail = await attempt(() => escalate(state.conversation));
  if (showConversation(detail)) { applyChanges([detail]); toast('Escalated: the ticket is being created'); }
}

async function getNext() {
  const detail = await attempt(() => api('POST', '/conversations/next', {}));
  if (detail) openConversation(detail.id);
}

// ---------- presence and the soft lock

function renderPresence(p) {
  if (!state.conversation || p.conversation_id !== state.conversation.id) return;
  const others = p.viewers.filter((v) => v.id !== me.id).map((v) => v.name);
  const typing = p.typing.filter((v) => v.id !== me.id).map((v) => v.name);
  $('#presence').textContent = [others.length ? `Also viewing: ${others.join(', ')}` : '',
                                typing.length ? `${typing.join(', ')} typing…` : ''].filter(Boolean).join(' · ');
  state.lockedBy = p.lock && p.lock.agent.id !== me.id ? p.lock.agent : null;
  $('#lock').hidden = !state.lockedBy;
  $('#lock-text').textContent = state.lockedBy ? `${state.lockedBy.name} is replying.` : '';
  $('#reply-text').disabled = Boolean(state.lockedBy);
  $('#send-reply').disabled = Boolean(state.lockedBy);
}

function typed() {
  if (!state.conversation || !state.socket || Date.now() - state.lastTyping < 2000) return;
  state.lastTyping = Date.now();
  state.socket.emit('typing', { conversation_id: state.conversation.id });
}

// ---------- live updates

function connectLive() {
  if (!window.io) {  // no socket.io client installed: poll instead
    setInterval(() => { loadQueues(); if (!state.search) loadList(true); }, 5000);
    return;
  }
  const socket = window.io({ transports: ['websocket', 'polling'] });
  state.socket = socket;
  socket.on('connect', () => {
    $('#connection').classList.add('live');
    // Catch up on what the rooms sent before this connection joined them: after a reconnect, what happened
    // while away; on the first connect, what changed between the page's first load and joining.
    loadQueues();
    if (!state.search) loadList(true);
    refreshConversation();
    if (state.conversation) socket.emit('view', { conversation_id: state.conversation.id });
  });
  socket.on('disconnect', () => $('#connection').classList.remove('live'));
  socket.on('conversation.created', (data) => applyChanges(data.conversations, true));
  socket.on('conversation.updated', (data) => applyChanges(data.conversations, false));
  socket.on('queue.counts', ({ queue_id: id, counts }) => {
    const queue = state.queues.find((q) => q.id === id);
    if (queue) { queue.counts = counts; renderQueues(); }
  });
  socket.on('presence', renderPresence);
  socket.on('sla.breached', ({ items }) => toast(`${items.length} conversation${items.length > 1 ? 's' : ''} breached SLA`));
  // Assignment hands work only to agents whose console says they are online.
  const beat = () => socket.emit('heartbeat', { status: $('#my-status').value });
  socket.on('connect', beat);
  $('#my-status').addEventListener('change', beat);
  setInterval(beat, 30000);
  socket.on('bulk.progress', showProgress);
}

// ---------- keyboard

function moveSelection(step) {
  const rows = [...document.querySelectorAll('#rows .row')];
  if (!rows.length) return;
  const index = rows.findIndex((row) => Number(row.dataset.id) === state.selected);
  const next = rows[Math.min(Math.max(index + step, 0), rows.length - 1)];
  openConversation(Number(next.dataset.id));
}

const KEYS = {
  j: () => moveSelection(1), k: () => moveSelection(-1), n: getNext,
  r: () => setKind('reply'), i: () => setKind('note'),
  e: () => state.conversation && change({ status: 'resolved' }),
  a: () => state.conversation && change({ assignee: 'me' }),
  t: escalateOpen,
  m: () => $('#conv-queue').focus(), '/': () => $('#search').focus(), '?': () => $('#help').showModal(),
  x: toggleCurrent, ';': openMacros,
};

// Macros: on the selection when there is one (bulk), else on the open conversation.
function openMacros() {
  if (hasSelection()) return pickMacro();
  if (!state.conversation) return toast('Open a conversation or select some first');
  return openPicker(state.conversation.id, async (macro, result) => {
    if (!result.sends_reply && result.reply) { setKind('reply'); $('#reply-text').value = result.reply; }
    await refreshConversation();
    toast(`${macro.name} applied`);
  });
}

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') { app.dataset.view = 'list'; document.activeElement.blur(); return; }
  const focused = document.activeElement;
  const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(focused.tagName) && !['checkbox', 'radio'].includes(focused.type);
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const action = KEYS[event.key];
  if (action) { event.preventDefault(); action(); }
});

// ---------- wiring

$('#composer').addEventListener('submit', (event) => { event.preventDefault(); send(false); });
$('#send-resolve').addEventListener('click', () => send(true));
$('#reply-text').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(false); }
});
$('#reply-text').addEventListener('input', typed);
document.querySelectorAll('input[name="kind"]').forEach((radio) => radio.addEventListener('change', () => setKind(radio.value)));
$('#take-over').addEventListener('click', () => state.socket?.emit('take_over', { conversation_id: state.conversation.id }));
$('#conv-status').addEventListener('change', (event) => change({ status: event.target.value }));
$('#conv-queue').addEventListener('change', (event) => change({ queue: event.target.value }));
$('#conv-priority').addEventListener('change', (event) => change({ priority: event.target.value }));
$('#conv-tags').addEventListener('change', (event) => change({ tags: event.target.value.split(',').map((t) => t.trim()).filter(Boolean) }));
$('#assign-me').addEventListener('click', () => change({ assignee: 'me' }));
$('#why').addEventListener('click', () => { $('#explanation').hidden = !$('#explanation').hidden; });
$('#get-next').addEventListener('click', getNext);
$('#escalate').addEventListener('click', escalateOpen);
$('#open-macros').addEventListener('click', openMacros);
$('#show-help').addEventListener('click', () => $('#help').showModal());
// Back on a phone: conversation -> list -> queues.
$('#back').addEventListener('click', () => { app.dataset.view = app.dataset.view === 'conversation' ? 'list' : 'queues'; });
$('#more').addEventListener('click', () => loadList(false));
$('#search').addEventListener('keydown', (event) => { if (event.key === 'Enter') runSearch(event.target.value); });
['#filter-status', '#filter-assignee', '#filter-tag', '#filter-channel'].forEach((id) =>
  $(id).addEventListener('change', () => loadList(true)));
$('#cust-tags').addEventListener('change', async (event) => {
  const tags = event.target.value.split(',').map((t) => t.trim()).filter(Boolean);
  const author = await attempt(() => api('PATCH', `/authors/${state.author.id}`, { tags }));
  if (author) { state.author = { ...state.author, ...author }; renderCustomer(); }
});
$('#cust-note-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('#cust-note').value;
  if (!text.trim() || !await attempt(() => api('POST', `/authors/${state.author.id}/notes`, { text }))) return;
  $('#cust-note').value = '';
  state.author = await api('GET', `/authors/${state.author.id}`);
  renderCustomer();
});
window.addEventListener('popstate', (event) => {
  if (event.state && event.state.id) openConversation(event.state.id, { push: false });
  else app.dataset.view = 'list';
});
setInterval(() => {  // SLA countdowns tick in place
  for (const span of document.querySelectorAll('.sla[data-due]')) {
    const due = countdown(span.dataset.due);
    span.textContent = due.text;
    span.classList.toggle('late', due.late);
  }
}, 1000);

(async function start() {
  await loadQueues();
  await loadList(true);
  connectLive();
  initBulk({ state, filters });
  const match = location.pathname.match(/^\/conversations\/(\d+)$/);
  if (match) openConversation(Number(match[1]), { push: false });
}());

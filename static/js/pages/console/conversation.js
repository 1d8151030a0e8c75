// The open conversation: its thread, why it is where it is, and changing it.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, ago, el, exactTime, fill, linkified, toast } from '../../lib/dom.js';
import { conversationPage } from '../../lib/routes.js';
import { renderEmail } from '../../features/email.js';
import { showEmailFields } from '../../features/mail_out.js';
import { canEscalate, escalate, renderEscalation } from '../../features/escalation.js';
import { confidenceWords } from '../../features/confidence.js';
import { seen } from '../../features/notifications.js';
import { viewing } from '../../features/presence.js';
import { clearSuggestions, showSuggestions } from '../../features/suggestions.js';
import { awaitCustomer, showCustomer } from './customer.js';
import { applyChanges, include, neighbour, reveal, selectQueue } from './list.js';
import { renderMerge, splitButton, splitPick } from './merging.js';
import { AHEAD, prefetch, take } from './prefetch.js';
import { app, state } from './state.js';

const STATUS_FILTERS = ['open', 'pending', 'resolved', 'spam', 'escalated'];

// What a machine wrote is named as such, so nobody takes it for a colleague's reply.
const AUTOMATIC = { acknowledgement: 'Switchboard (automatic reply)' };

function renderMessage(m, index) {
  const who = m.direction === 'inbound' ? (state.conversation.author.name || `@${state.conversation.author.handle}`)
    : AUTOMATIC[m.automatic]
      || `${m.agent ? m.agent.name : m.direction === 'note' ? 'Switchboard' : 'agent'}${m.direction === 'note' ? ' (internal note)' : ''}`;
  const c = state.conversation;
  return el('li', { class: `message ${m.direction}${m.automatic ? ' automatic' : ''}`, dataset: { id: m.id } },
    el('div', { class: 'by' }, c.messages.length > 1 && !c.merged_into && splitPick(c, m), who, ' · ', el('time', { datetime: m.created_at, title: exactTime(m.created_at), text: ago(m.created_at) }),
      m.delivery_status && el('span', { class: `delivery ${m.delivery_status}`, title: m.delivery_error || '',
                                        text: m.delivery_status }),
      m.url && /^https?:\/\//i.test(m.url) && el('a', { class: 'permalink', href: m.url, target: '_blank',
                                                    rel: 'noopener noreferrer nofollow', text: 'view on platform' })),
    ...(m.hidden ? [el('div', { class: 'text hidden-post', text: '(deleted where it was posted)' })]
      : m.email ? [renderEmail(m)] : body(m)),
    m.edits && m.edits.length > 0 && el('details', { class: 'edits' }, el('summary', { text: 'edited' }),
      ...m.edits.map((e) => el('div', { class: 'meta', text: e.text }))),
    index > 0 && m.direction === 'inbound' && splitButton(m));
}

// A long post is shown folded (its start, and a button to unfold it), so the composer stays in reach.
const FOLD_CHARS = 1500;
function body(m) {
  const text = el('div', { class: 'text' }, linkified(m.text));
  if (m.text.length <= FOLD_CHARS) return [text];
  text.classList.add('folded');
  const unfold = el('button', { type: 'button', class: 'unfold', 'aria-expanded': 'false',
                                text: `Show the whole post (${Math.round(m.text.length / 1000)}k characters)` });
  unfold.addEventListener('click', () => {
    const folded = text.classList.toggle('folded');
    unfold.setAttribute('aria-expanded', folded ? 'false' : 'true');
    unfold.textContent = folded ? `Show the whole post (${Math.round(m.text.length / 1000)}k characters)` : 'Fold the post';
  });
  return [text, unfold];
}

// The customer's survey answer, once they gave one: the score of 5 and their comment.
function renderSatisfaction(rating) {
  const box = $('#conv-csat');
  box.hidden = !rating;
  if (!rating) return;
  fill(box, el('strong', { text: `Satisfaction: ${rating.score} of 5` }),
    rating.comment ? ` · “${rating.comment}”` : '', ` · answered ${ago(rating.created_at)}`);
}

function renderConversation() {
  const c = state.conversation;
  $('#conversation').hidden = false;
  $('#conv-subject').textContent = c.subject || `Conversation ${c.id}`;
  $('#conv-meta').textContent = `#${c.id} · ${c.channel}${c.private ? ' · private message' : ''} · ${c.status} · ${c.assignee ? `assigned to ${c.assignee.name}` : 'unassigned'}`
    + (c.snoozed_until ? ` · snoozed until ${new Date(c.snoozed_until).toLocaleString()}` : '');
  renderSatisfaction(c.satisfaction);
  $('#conv-status').value = c.status;
  $('#conv-queue').value = c.queue;
  $('#conv-priority').value = c.priority;
  $('#conv-tags').value = c.tags.join(', ');
  $('#thread').replaceChildren(...c.messages.map(renderMessage));
  renderExplanation();
  renderEscalation(c);
  renderMerge(c);
  $('#reply-private').hidden = !c.private;
  showEmailFields(c);
  $('#reply-text').placeholder = c.private ? 'Write a private reply…  (Ctrl+Enter sends)'
    : 'Write a reply…  (Ctrl+Enter sends)';
}

function renderExplanation() {
  const e = state.conversation.explanation || {};
  const rules = (e.rules || []).map((r) => el('li', { text: `${r.name}: ${r.status}` }));
  const model = e.model ? `model ${e.model.version}: ${(e.model.labels || []).map(([l, p]) => `${l} ${(p * 100).toFixed(0)}% (${confidenceWords(p)})`).join(', ')}` : 'no model';
  const priority = ((e.priority || {}).contributions || []).map((p) => el('li', { text: `${p.points > 0 ? '+' : ''}${p.points} ${p.factor}: ${p.detail}` }));
  fill($('#explanation'),
    el('p', { text: e.queue_reason || 'Not routed yet.' }),
    rules.length > 0 && el('div', {}, 'Rules:', el('ul', {}, rules)),
    el('p', { text: model }),
    Boolean(e.language) && el('p', { class: 'language', text: `Language: ${e.language}` }),
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

// Open a conversation; with `reveal`, its own queue's list (in its status) is shown with it highlighted there.
// `loaded`: the conversation as an answer already gave it (get next's), not read again.
export async function openConversation(id, { push = true, reveal: showInQueue = false, loaded = null } = {}) {
  const previous = state.conversation && state.conversation.id;
  state.opening = id;
  const kept = loaded ? null : await take(id);
  const detail = loaded || kept || await attempt(() => conversations.get(id));
  if (!detail || state.opening !== id) return;  // another was asked for meanwhile: that one is shown
  if (showInQueue) await showQueueOf(detail);
  state.conversation = detail;
  state.selected = id;
  include(detail);
  reveal(id);  // first: it reads where the list is scrolled, which is free only before the page is written to
  renderConversation();
  if (app.dataset.view !== 'conversation') app.dataset.view = 'conversation';
  app.classList.add('has-conversation');
  $('#conversation').scrollTop = $('#conversation').scrollHeight;  // the latest post and the composer
  if (push) history.pushState({ id }, '', conversationPage(id));
  // j's conversations, the way agents work down the list, asked for first: ahead of the panels' requests.
  for (let step = 1; step <= AHEAD; step += 1) prefetch(neighbour(id, step));
  viewing(id, previous);
  seen(id);
  clearSuggestions(id);
  awaitCustomer(detail.author.id);
  // Not awaited: whoever opened the conversation (a deep link at start-up, a change, undo) goes on at once.
  fillPanels(id, detail.author.id, Boolean(kept));
}

// Once the agent stays on the conversation: the fetched-ahead copy read again (a note or a viewer need not
// change the list's row), then the customer and the suggestions. One request at a time, and none once the
// agent has moved on: each one waiting at the server would hold up the next j or n behind it.
async function fillPanels(id, authorId, kept) {
  if (!await settled()) return;
  const still = () => state.conversation && state.conversation.id === id;
  if (kept) await refreshConversation();
  if (still()) await showCustomer(authorId);
  if (still()) await showSuggestions(id);
}

// The panels beside the thread (customer, suggestions, summary) are read once the agent has stayed this
// long on a conversation: moving on sooner with j or n, the conversation passed by would queue five
// requests at the server ahead of the next one's (a web worker answers them one after the other).
const SETTLE_MS = 150;
let settling = { timer: null, done: () => {} };

// Resolves true once SETTLE_MS have passed, or false as soon as another conversation is opened.
function settled() {
  clearTimeout(settling.timer);
  settling.done(false);
  return new Promise((done) => { settling = { done, timer: setTimeout(() => done(true), SETTLE_MS) }; });
}

// The list of the conversation's queue, filtered to its status (a deep link may name any conversation).
async function showQueueOf(detail) {
  if (!state.queues.some((q) => q.slug === detail.queue)) return;  // not one of the agent's queues
  if (STATUS_FILTERS.includes(detail.status)) $('#filter-status').value = detail.status;
  await selectQueue(detail.queue);
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

export async function refreshConversation() {
  if (!state.conversation) return;
  showConversation(await attempt(() => conversations.get(state.conversation.id)));
}

// What undoing each change puts back; a change with no entry is not offered an undo.
const UNDO = { status: 'status', queue: 'queue', priority: 'priority', assignee: 'assignee' };
const ADVANCES = (fields) => fields.status === 'resolved' || 'queue' in fields;

// Change the open conversation; a resolve or a move goes on to the next conversation in the list, and the
// toast offers to undo it.
export async function change(fields, { undoable = true } = {}) {
  const before = state.conversation;
  const next = ADVANCES(fields) ? neighbour(before.id, 1) : null;
  const after = next === before.id ? neighbour(before.id, -1) : next;
  const detail = await attempt(() => conversations.update(before.id, fields));
  if (!detail) return detail;
  if (showConversation(detail)) applyChanges([detail]);
  const undo = undoable && undoFor(before, fields);
  if (undo) toast(describe(before, fields), { undo });
  if (after && after !== before.id && state.conversation && state.conversation.id === before.id) await openConversation(after);
  else if (state.conversation && state.conversation.id === before.id) await showCustomer(detail.author.id);
  return detail;
}

function describe(c, fields) {
  if (fields.status === 'resolved') return `Resolved #${c.id}`;
  if ('queue' in fields) return `Moved #${c.id} to ${fields.queue}`;
  if ('status' in fields) return `#${c.id} is ${fields.status}`;
  if ('priority' in fields) return `#${c.id} is ${fields.priority} priority`;
  return `#${c.id} assigned to you`;
}

// Put the conversation's changed fields back as they were (only what can be put back: status, queue,
// priority, assignee).
function undoFor(c, fields) {
  const previous = {};
  for (const field of Object.keys(fields)) {
    if (!UNDO[field]) return null;
    previous[field] = field === 'assignee' ? (c.assignee ? c.assignee.id : null) : c[field];
  }
  if (previous.status === 'escalated' || previous.status === 'new') return null;
  return async () => {
    const detail = await attempt(() => conversations.update(c.id, previous));
    if (!detail) return;
    applyChanges([detail]);
    toast(`Undone: #${c.id} is back as it was`);
    await openConversation(c.id);
  };
}

export async function escalateOpen() {
  if (!state.conversation || !canEscalate(state.conversation)) return;
  const detail = await attempt(() => escalate(state.conversation));
  if (showConversation(detail)) { applyChanges([detail]); toast('Escalated: the ticket is being created'); }
}

export async function getNext() {
  const detail = await attempt(() => conversations.next());
  if (detail) openConversation(detail.id, { loaded: detail });
}

// The open conversation: its thread, why it is where it is, and changing it.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, ago, el, fill, linkified, toast } from '../../lib/dom.js';
import { conversationPage } from '../../lib/routes.js';
import { canEscalate, escalate, renderEscalation } from '../../features/escalation.js';
import { viewing } from '../../features/presence.js';
import { showSuggestions } from '../../features/suggestions.js';
import { showCustomer } from './customer.js';
import { applyChanges, renderList } from './list.js';
import { app, state } from './state.js';

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

export async function openConversation(id, { push = true } = {}) {
  const previous = state.conversation && state.conversation.id;
  const detail = await attempt(() => conversations.get(id));
  if (!detail) return;
  state.conversation = detail;
  state.selected = id;
  renderConversation();
  renderList();
  app.dataset.view = 'conversation';
  if (push) history.pushState({ id }, '', conversationPage(id));
  viewing(id, previous);
  showSuggestions(id);
  await showCustomer(detail.author.id);
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

export async function change(fields) {
  const detail = await attempt(() => conversations.update(state.conversation.id, fields));
  if (showConversation(detail)) applyChanges([detail]);
  return detail;
}

export async function escalateOpen() {
  if (!state.conversation || !canEscalate(state.conversation)) return;
  const detail = await attempt(() => escalate(state.conversation));
  if (showConversation(detail)) { applyChanges([detail]); toast('Escalated: the ticket is being created'); }
}

export async function getNext() {
  const detail = await attempt(() => conversations.next());
  if (detail) openConversation(detail.id);
}

// The console's shared state: who is signed in, the queue or search shown, its rows, the open conversation.
import { $ } from '../../lib/dom.js';

export const app = $('#app');
export const me = { id: Number(app.dataset.agentId), name: app.dataset.agentName, role: app.dataset.agentRole };

export const state = {
  queues: [], queue: null, search: null, view: null, views: [], rows: new Map(), cursor: null, selected: null,
  conversation: null, author: null, socket: null,
};

// The list's filters as chosen above it.
export function filters() {
  return { status: $('#filter-status').value, assignee: $('#filter-assignee').value,
           tag: $('#filter-tag').value.trim().toLowerCase(), channel: $('#filter-channel').value.trim() };
}

// Whether a conversation belongs in the list as it is filtered now (a search's results are not live).
export function matches(conversation) {
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

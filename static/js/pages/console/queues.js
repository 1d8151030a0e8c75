// The sidebar: the agent's queues with their live counts (as the server counts them).
import * as queues from '../../clients/queues.js';
import { $, el } from '../../lib/dom.js';
import { setQueues } from '../../features/bulk.js';
import { state } from './state.js';

let onSelect = () => {};

// Above the server's at-risk cap (sent with each queue) the exact figure stops: "99+".
function atRisk(queue) {
  const cap = queue.at_risk_cap;
  return cap && queue.counts.at_risk >= cap ? `${cap - 1}+` : queue.counts.at_risk;
}

export function renderQueues() {
  $('#queues').replaceChildren(...state.queues.map((queue) => {
    const c = queue.counts;
    return el('li', { dataset: { queue: queue.slug }, class: queue.slug === state.queue && !state.search ? 'active' : '',
                      onclick: () => onSelect(queue.slug), title: queue.description },
      el('span', { text: queue.name }),
      el('span', { class: 'counts' },
        el('span', { class: 'count-open', title: 'open conversations', text: `${c.open} open` }),
        el('span', { class: 'count-unassigned', title: 'open conversations with no agent', text: `${c.unassigned} unassigned` }),
        c.at_risk > 0 && el('span', { class: 'count-at-risk some', title: 'open conversations at risk of missing their SLA or past it',
                                     text: `⚠ ${atRisk(queue)} at risk or late` })));
  }));
  const move = $('#conv-queue');
  move.replaceChildren(...state.queues.map((q) => el('option', { value: q.slug, text: q.name })));
  if (state.conversation) move.value = state.conversation.queue;
}

// `select(slug)` runs when a queue is clicked.
export function initQueues({ select }) { onSelect = select; }

// Load the queues; the first time, show the busiest.
export async function loadQueues() {
  state.queues = (await queues.list()).data;
  if (!state.queue && state.queues.length) {
    const busiest = [...state.queues].sort((a, b) => b.counts.open - a.counts.open)[0];
    state.queue = busiest.slug;
  }
  renderQueues();
  setQueues(state.queues);
}

// A `queue.counts` event: one queue's new counts.
export function updateCounts({ queue_id: id, counts }) {
  const queue = state.queues.find((q) => q.id === id);
  if (queue) { queue.counts = counts; renderQueues(); }
}

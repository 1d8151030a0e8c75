// The dashboard's tables: queues, first-reply times, and agents with their load; every number drills down.
import { $, ago, el } from '../../lib/dom.js';
import { drill } from './drilldown.js';

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

// Satisfaction of the last days: "4.2 (12)" (average of 1-5 and the number of answers), "–" without any.
function csat(row) {
  return el('td', { class: 'num csat', text: row.csat_answers ? `${row.csat_average.toFixed(1)} (${row.csat_answers})` : '–' });
}

export function renderQueues(queues) {
  $('#queue-table tbody').replaceChildren(...queues.map((q) => {
    const cell = (metric, bad) => el('td', { class: 'num' }, drill(q[metric], `${q.name}: ${metric.replace('_', ' ')}`,
      { metric, queue: q.queue }, bad));
    const oldest = q.oldest_waiting_since
      ? drill(ago(q.oldest_waiting_since), `${q.name}: longest waiting`, { metric: 'oldest', queue: q.queue }) : '–';
    return el('tr', { dataset: { queue: q.queue } }, el('td', { text: q.name }), cell('depth'), cell('open'),
      cell('pending'), cell('unassigned'), cell('at_risk', true), cell('breached', true), el('td', {}, oldest), csat(q));
  }));
}

export function renderFirstReply({ today, last_week: lastWeek }) {
  $('#first-reply tbody').replaceChildren(
    el('tr', { dataset: { period: 'today' } }, el('td', { text: 'Today' }),
      el('td', {}, drill(today.count, 'First replied today', { metric: 'first_reply' })),
      el('td', { class: 'p50', text: duration(today.p50) }), el('td', { class: 'p90', text: duration(today.p90) })),
    el('tr', { dataset: { period: 'last_week' } }, el('td', { text: 'Same day last week' }),
      el('td', { text: String(lastWeek.count) }), el('td', { text: duration(lastWeek.p50) }),
      el('td', { text: duration(lastWeek.p90) })));
}

// "2/5" against capacity; over it (capacity lowered since) shows in red.
function loadOf(open, capacity) {
  return el('span', { class: `capacity${capacity !== null && open >= capacity ? ' full' : ''}`,
    text: ` / ${capacity === null ? 'no limit' : capacity}` });
}

export function renderAgents(agents) {
  $('#agent-table tbody').replaceChildren(...agents.map((a) => el('tr', { dataset: { id: a.id } },
    el('td', { text: a.name }),
    el('td', { class: `status-${a.status}`, title: a.status_since ? `since ${new Date(a.status_since).toLocaleString()}` : '' },
      a.status, el('span', { class: 'muted', text: a.status_since ? ` ${ago(a.status_since)}` : '' })),
    el('td', { class: 'load' }, drill(a.open, `${a.name}: open load`, { metric: 'agent_open', agent_id: a.id }),
      loadOf(a.open, a.capacity),
      ...a.queues.map((q) => el('div', { class: 'muted', dataset: { queue: q.queue } },
        `${q.queue} ${q.open}`, loadOf(q.open, q.capacity)))),
    el('td', {}, drill(a.pending, `${a.name}: pending`, { metric: 'agent_pending', agent_id: a.id })),
    el('td', {}, drill(a.handled_today, `${a.name}: handled today`, { metric: 'agent_handled', agent_id: a.id })),
    el('td', { text: duration(a.median_handle_seconds) }), csat(a))));
}

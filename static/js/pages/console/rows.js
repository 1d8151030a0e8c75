// One row of the list, in the density and with the columns the agent chose (kept in this browser), and the
// orders the list can be sorted by. Every number says what it counts; times say when exactly on hover.
import { ago, countdown, el, exactTime, followers, sentiment } from '../../lib/dom.js';
import { pickBox } from '../../features/bulk.js';

// Each density's row height in px: the list draws only the rows on screen, placed by this height.
export const ROW_HEIGHT = { compact: 34, comfortable: 92 };
export const COLUMNS = { priority: 'Priority', sla: 'SLA', customer: 'Customer', channel: 'Channel',
                         assignee: 'Assignee', age: 'Age', sentiment: 'Sentiment' };
const SLA_BADGES = { at_risk: 'SLA at risk', breached: 'SLA breached' };
const STORED = 'switchboard.console.list';

// Each order's key for a conversation (computed once per row when sorting, not once per comparison); ties,
// and the work order itself, go by the server's sort_key, compared by code unit as the server does (not by
// locale). No SLA clock sorts last, as in the server's order.
const parsed = (iso) => (iso ? Date.parse(iso) : Infinity);
export const SORTS = {
  work: { label: 'Work order', key: () => 0 },
  sla: { label: 'SLA due first', key: (c) => parsed(c.sla_due_at) },
  oldest: { label: 'Oldest first', key: (c) => parsed(c.created_at) },
  newest: { label: 'Latest post first', key: (c) => -parsed(c.last_message_at) },
};

// The conversations in the chosen order.
export function sortRows(rows, sort) {
  const keyed = rows.map((c) => [SORTS[sort].key(c), c.sort_key, c]);
  keyed.sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] === b[1] ? 0 : a[1] < b[1] ? -1 : 1));
  return keyed.map((entry) => entry[2]);
}

function stored() {
  try { return JSON.parse(localStorage.getItem(STORED)) || {}; } catch { return {}; }
}

// The agent's choices: density, columns shown, sort.
export const view = { density: 'comfortable', columns: Object.keys(COLUMNS), sort: 'work', ...stored() };
if (!ROW_HEIGHT[view.density]) view.density = 'comfortable';
if (!SORTS[view.sort]) view.sort = 'work';

export function saveView() { localStorage.setItem(STORED, JSON.stringify(view)); }

const shows = (column) => view.columns.includes(column);

function priorityCell(c) {
  const reasons = c.priority_reasons.map((r) => `${r.points > 0 ? '+' : ''}${r.points} ${r.factor}: ${r.detail}`);
  return el('span', { class: `chip prio-${c.priority}`, title: `priority ${c.priority}\n${reasons.join('\n') || 'no priority factors'}`,
                      text: c.priority });
}

function slaCell(c) {
  const due = countdown(c.sla_due_at);
  return el('span', { class: 'cell-sla' },
    el('span', { class: `sla${due.late ? ' late' : ''}`, dataset: c.sla_due_at ? { due: c.sla_due_at } : undefined,
                 title: c.sla_due_at ? `SLA due ${exactTime(c.sla_due_at)}` : 'no SLA clock running',
                 text: due.text || 'no SLA clock' }),
    SLA_BADGES[c.sla_status] && el('span', { class: `chip sla-${c.sla_status}`, text: SLA_BADGES[c.sla_status] }));
}

function customerCell(c) {
  const a = c.author;
  return el('span', { class: 'cell-customer' },
    el('span', { class: 'who', text: a.name || `@${a.handle}` }),
    el('span', { class: 'meta', text: `@${a.handle} · ${followers(a.followers)} followers${a.verified ? ' · verified ✓' : ''}` }));
}

function sentimentCell(c) {
  if (c.sentiment == null) return null;
  const feeling = sentiment(c.sentiment);
  return el('span', { class: `sentiment ${feeling.tone}`, title: `sentiment score ${c.sentiment.toFixed(2)} (−1 to +1)`,
                      text: feeling.word });
}

const CELLS = {
  priority: priorityCell, sla: slaCell, customer: customerCell, sentiment: sentimentCell,
  channel: (c) => el('span', { class: 'cell-channel', title: 'channel', text: c.channel }),
  assignee: (c) => el('span', { class: 'assignee', text: c.assignee ? `→ ${c.assignee.name}` : 'unassigned' }),
  age: (c) => el('span', { class: 'age', title: `last post ${exactTime(c.last_message_at)}`,
                           text: `last post ${ago(c.last_message_at)}` }),
};

const cell = (column, c) => shows(column) && CELLS[column](c);

function badges(c) {
  return [c.author.person_tags.includes('vip') && el('span', { class: 'chip vip', text: 'VIP' }),
          c.private && el('span', { class: 'chip private', text: 'private', title: 'a private message on its platform' })];
}

function compact(c) {
  return [pickBox(c), cell('priority', c), ...badges(c), cell('customer', c),
          el('span', { class: 'summary' }, el('span', { class: 'subject', text: c.subject || '' }),
            el('span', { class: 'preview', text: c.preview || '' })),
          cell('channel', c), cell('sla', c), cell('sentiment', c), cell('assignee', c), cell('age', c)];
}

function comfortable(c) {
  return [el('div', { class: 'line1' }, pickBox(c), cell('priority', c), ...badges(c), cell('customer', c)),
          el('div', { class: 'subject', text: c.subject || '' }),
          el('div', { class: 'preview', text: c.preview || '' }),
          el('div', { class: 'line3' }, cell('channel', c), cell('sla', c), cell('sentiment', c),
            ...c.tags.map((tag) => el('span', { class: 'chip', text: tag })), cell('assignee', c), cell('age', c))];
}

// A row for the conversation; `open(id)` runs on a click.
export function renderRow(c, { selected, fresh, open }) {
  return el('li', { class: `row ${view.density}${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`,
                    dataset: { id: c.id }, 'aria-current': selected ? 'true' : false, onclick: () => open(c.id) },
    ...(view.density === 'compact' ? compact(c) : comfortable(c)));
}

// The admin page's audit log: filter by who, what and when, read it a page at a time, export it as CSV.
import * as agents from '../clients/admin/agents.js';
import * as audit from '../clients/audit.js';
import { attempt } from '../lib/api.js';
import { $, el, fill } from '../lib/dom.js';

const form = $('#audit-filter');
let filters = {};
let cursor = null;

const current = () => Object.fromEntries(new FormData(form));

function change(entry) {
  const parts = [];
  if (entry.before) parts.push(el('div', {}, el('strong', { text: 'before ' }), el('code', { text: JSON.stringify(entry.before) })));
  if (entry.after) parts.push(el('div', {}, el('strong', { text: 'after ' }), el('code', { text: JSON.stringify(entry.after) })));
  return parts;
}

function row(entry) {
  return el('tr', { dataset: { id: entry.id } },
    el('td', {}, el('time', { datetime: entry.created_at, text: new Date(entry.created_at).toLocaleString() })),
    el('td', { text: entry.agent ? entry.agent.name : 'Switchboard' }),
    el('td', { text: entry.action }),
    el('td', { text: `${entry.target_type}${entry.target_id == null ? '' : ` #${entry.target_id}`}` }),
    el('td', { class: 'audit-change' }, ...change(entry)));
}

async function show(more) {
  const page = await attempt(() => audit.list(filters, more ? cursor : undefined));
  if (!page) return;
  const body = $('#audit-entries tbody');
  if (more) body.append(...page.data.map(row));
  else fill(body, page.data.map(row));
  cursor = page.next_cursor;
  $('#audit-more').hidden = cursor === null;
  $('#audit-status').textContent = `${body.children.length} entries shown${cursor ? '; older ones follow' : ''}.`;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  filters = current();
  $('#audit-export').href = audit.exportUrl(filters);
  show(false);
});
form.addEventListener('input', () => { $('#audit-export').href = audit.exportUrl(current()); });
$('#audit-more').addEventListener('click', () => show(true));

(async () => {
  const team = await attempt(() => agents.list());
  if (team) form.elements.agent.append(...team.data.map((a) => el('option', { value: a.id, text: a.name })));
  show(false);
})();

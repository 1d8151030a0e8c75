// The admin page's automations: a list with an enable switch, and an editor of conditions and actions as form
// rows (no JSON to write), with a dry run over the current conversations.
import * as agentAdmin from '../clients/admin/agents.js';
import * as automations from '../clients/automations.js';
import * as macroLibrary from '../clients/macros.js';
import { PRIORITIES, list as listQueues } from '../clients/queues.js';
import { attempt } from '../lib/api.js';
import { $, el, fill, toast } from '../lib/dom.js';

const form = $('#automation-form');
const STATUSES = ['new', 'open', 'pending', 'resolved', 'escalated', 'spam'];
// field -> [label, ops {op: label}, kind of value]
const FIELDS = {
  status: ['Status', { in: 'is one of', not_in: 'is none of' }, 'choice'],
  queue: ['Queue', { in: 'is one of', not_in: 'is none of' }, 'choice'],
  priority: ['Priority', { in: 'is one of', not_in: 'is none of' }, 'choice'],
  sla: ['SLA', { in: 'is one of', not_in: 'is none of' }, 'choice'],
  tags: ['Tags', { has_any: 'include any of', has_none: 'include none of' }, 'words'],
  assigned: ['Assigned', { is: 'is' }, 'yesno'],
  age_hours: ['Hours since created', { gte: 'at least', lt: 'less than' }, 'hours'],
  hours_since_customer: ["Hours since the customer's last message", { gte: 'at least', lt: 'less than' }, 'hours'],
  hours_since_agent: ["Hours since an agent's last reply", { gte: 'at least', lt: 'less than' }, 'hours'],
  satisfaction: ['Satisfaction score (1-5)', { gte: 'at least', lt: 'less than' }, 'score'],
};
// type -> [label, parameter name, kind of input]
const ACTIONS = {
  reply: ['Reply with text', 'text', 'template'], macro: ['Apply a macro', 'macro_id', 'macro'],
  note: ['Add an internal note', 'text', 'template'], add_tags: ['Add tags', 'tags', 'words'],
  remove_tags: ['Remove tags', 'tags', 'words'], priority: ['Set priority', 'priority', 'priority'],
  move: ['Move to queue', 'queue', 'queue'], assign: ['Assign to', 'assignee', 'assignee'],
  status: ['Set status', 'status', 'status'], snooze: ['Snooze (minutes)', 'minutes', 'minutes'],
  tag_customer: ['Tag the customer', 'tags', 'words'], notify: ['Notify', 'target', 'target'],
  escalate: ['Escalate to a ticket', null, null],
};
let options = { queue: [], macro: [], assignee: [] };

const words = (text) => text.split(',').map((w) => w.trim()).filter(Boolean);
const selectOf = (label, pairs, chosen, attrs = {}) => el('select', { 'aria-label': label, ...attrs },
  ...pairs.map(([value, text]) => el('option', { value, text, selected: [].concat(chosen).map(String).includes(String(value)) })));

function choices(field) {
  if (field === 'queue') return options.queue;
  if (field === 'priority') return PRIORITIES.map((p) => [p, p]);
  if (field === 'sla') return [['ok', 'ok'], ['at_risk', 'at risk'], ['breached', 'breached']];
  return STATUSES.map((s) => [s, s]);
}

function conditionValue(field, value, n) {
  const kind = FIELDS[field][2];
  const label = `Condition ${n} value`;
  if (kind === 'choice') return selectOf(label, choices(field), value || [], { multiple: true, class: 'value' });
  if (kind === 'yesno') return selectOf(label, [['true', 'yes'], ['false', 'no']], String(value ?? true), { class: 'value' });
  if (kind === 'score') return selectOf(label, [1, 2, 3, 4, 5].map((n) => [n, n]), value ?? 3, { class: 'value' });
  if (kind === 'hours') return el('input', { type: 'number', min: '0.1', step: 'any', value: value ?? 24, 'aria-label': label, class: 'value' });
  return el('input', { value: (value || []).join(', '), placeholder: 'vip, refund', 'aria-label': label, class: 'value' });
}

function conditionRow(condition = { field: 'status', op: 'in', value: ['pending'] }) {
  const n = $('#automation-conditions').children.length + 1;
  const item = el('li', { dataset: { kind: 'condition' } });
  const render = (field, op, value) => {
    const field_ = selectOf(`Condition ${n} field`, Object.entries(FIELDS).map(([k, v]) => [k, v[0]]), field, {
      class: 'field', onchange: (e) => render(e.target.value, Object.keys(FIELDS[e.target.value][1])[0], undefined) });
    const op_ = selectOf(`Condition ${n} test`, Object.entries(FIELDS[field][1]), op, { class: 'op' });
    fill(item, field_, op_, conditionValue(field, value, n),
      el('button', { type: 'button', text: 'remove', 'aria-label': `Remove condition ${n}`, onclick: () => item.remove() }));
  };
  render(condition.field, condition.op, condition.value);
  $('#automation-conditions').append(item);
}

function actionInput(type, value, n) {
  const kind = ACTIONS[type][2];
  const label = `Action ${n} ${ACTIONS[type][1] || ''}`.trim();
  const attrs = { 'aria-label': label, class: 'value' };
  if (kind === 'template') return el('textarea', { ...attrs, rows: 2, text: value || '' });
  if (kind === 'words') return el('input', { ...attrs, value: (value || []).join(', '), placeholder: 'reminded' });
  if (kind === 'minutes') return el('input', { ...attrs, type: 'number', min: 1, value: value ?? 60 });
  const pairs = {
    macro: options.macro, queue: options.queue, priority: PRIORITIES.map((p) => [p, p]),
    status: [['open', 'open'], ['pending', 'pending'], ['resolved', 'resolved']],
    target: [['assignee', 'the assignee'], ['queue', 'the queue']],
    assignee: [['lead', "the queue's lead"], ['', 'nobody (unassign)'], ...options.assignee],
  }[kind];
  return kind ? selectOf(label, pairs, value ?? '', attrs) : null;
}

function actionRow(action = { type: 'add_tags', tags: [] }) {
  const n = $('#automation-actions').children.length + 1;
  const item = el('li', { dataset: { kind: 'action' } });
  const render = (type, value) => fill(item,
    selectOf(`Action ${n}`, Object.entries(ACTIONS).map(([k, v]) => [k, v[0]]), type, {
      class: 'type', onchange: (e) => render(e.target.value, undefined) }),
    actionInput(type, value, n),
    el('button', { type: 'button', text: 'remove', 'aria-label': `Remove action ${n}`, onclick: () => item.remove() }));
  render(action.type, ACTIONS[action.type][1] ? action[ACTIONS[action.type][1]] : undefined);
  $('#automation-actions').append(item);
}

function readCondition(item) {
  const field = item.querySelector('.field').value;
  const input = item.querySelector('.value');
  const kind = FIELDS[field][2];
  const value = kind === 'choice' ? [...input.selectedOptions].map((o) => o.value)
    : kind === 'yesno' ? input.value === 'true' : kind === 'hours' || kind === 'score' ? Number(input.value)
      : words(input.value);
  return { field, op: item.querySelector('.op').value, value };
}

function readAction(item) {
  const type = item.querySelector('.type').value;
  const [, name, kind] = ACTIONS[type];
  if (!name) return { type };
  const raw = item.querySelector('.value').value;
  const value = kind === 'words' ? words(raw) : kind === 'minutes' || kind === 'macro' ? Number(raw)
    : kind === 'assignee' ? (raw === 'lead' ? 'lead' : raw === '' ? null : Number(raw)) : raw;
  return { type, [name]: value };
}

function body() {
  return { name: form.elements.name.value, description: form.elements.description.value,
           enabled: form.elements.enabled.checked,
           conditions: [...$('#automation-conditions').children].map(readCondition),
           actions: [...$('#automation-actions').children].map(readAction) };
}

function edit(automation, { focus = true } = {}) {
  form.elements.id.value = automation ? automation.id : '';
  form.elements.name.value = automation ? automation.name : '';
  form.elements.description.value = automation ? automation.description : '';
  form.elements.enabled.checked = automation ? automation.enabled : false;
  fill($('#automation-conditions'));
  fill($('#automation-actions'));
  fill($('#automation-result'));
  (automation ? automation.conditions : [undefined]).forEach(conditionRow);
  (automation ? automation.actions : [undefined]).forEach(actionRow);
  if (focus) form.elements.name.focus();
}

const summary = (items, describe) => items.map(describe).join('; ');
const describeCondition = (c) => `${FIELDS[c.field][0]} ${FIELDS[c.field][1][c.op]} ${[].concat(c.value).join(', ')}`;

function automationRow(automation) {
  const toggle = el('input', { type: 'checkbox', checked: automation.enabled, 'aria-label': `Enable ${automation.name}`,
    onchange: (e) => save(() => automations.update(automation.id, { enabled: e.target.checked }),
      e.target.checked ? 'Automation enabled' : 'Automation disabled') });
  return el('tr', { dataset: { id: automation.id } }, el('td', { text: automation.name, title: automation.description }),
    el('td', {}, toggle), el('td', { text: summary(automation.conditions, describeCondition) }),
    el('td', { text: summary(automation.actions, (a) => ACTIONS[a.type][0]) }),
    el('td', { text: automation.last_fired_at ? `${automation.fired} (last ${new Date(automation.last_fired_at).toLocaleString()})` : `${automation.fired}` }),
    el('td', {}, el('button', { text: 'edit', 'aria-label': `Edit ${automation.name}`, onclick: () => edit(automation) }), ' ',
      el('button', { text: 'delete', 'aria-label': `Delete ${automation.name}`,
        onclick: () => confirm(`Delete the automation "${automation.name}"?`)
          && save(() => automations.remove(automation.id), 'Automation deleted') })));
}

async function save(action, success) {
  await attempt(action, success);
  await load();
}

async function load() {
  const [list, queues, macros, agents] = await Promise.all([automations.list(), listQueues(),
    macroLibrary.manageList(), agentAdmin.list()]);
  options = { queue: queues.data.map((q) => [q.slug, q.name]), macro: macros.data.map((m) => [m.id, m.name]),
              assignee: agents.data.filter((a) => a.active).map((a) => [a.id, a.name]) };
  fill($('#automations-admin tbody'), list.data.map(automationRow));
}

function showDryRun(result) {
  const heading = `${result.count} conversation${result.count === 1 ? '' : 's'} match${result.complete ? '' : ` among the first ${result.scanned} read`}; each would get: ${result.actions.join(', ')}.`;
  fill($('#automation-result'), el('p', { text: heading }), el('ul', {}, result.matches.map((m) => el('li', {},
    el('a', { href: `/conversations/${m.id}`, text: `#${m.id} ${m.subject || '(no subject)'}` }),
    ` — ${m.queue || 'unrouted'}, ${m.status}, ${m.priority}${m.already_fired ? ' (already fired in this state)' : ''}`))));
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = form.elements.id.value;
  const saved = await attempt(() => (id ? automations.update(id, body()) : automations.create(body())), 'Automation saved');
  if (saved) form.elements.id.value = saved.id;
  await load();
});
$('#automation-dry-run').addEventListener('click', async () => {
  const { conditions, actions } = body();
  const id = form.elements.id.value;
  const result = await attempt(() => automations.dryRun({ conditions, actions, ...(id ? { automation_id: Number(id) } : {}) }));
  if (result) showDryRun(result);
});
$('#automation-add-condition').addEventListener('click', () => conditionRow());
$('#automation-add-action').addEventListener('click', () => actionRow());
$('#automation-new').addEventListener('click', () => edit(null));
load().then(() => edit(null, { focus: false })).catch((error) => toast(error.message));

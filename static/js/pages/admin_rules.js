// The routing page's rules: the list in evaluation order (reordered by drag or by the Move buttons, then saved),
// and an editor of a rule's conditions and actions as form rows; Save first replays last week's traffic through
// the draft and shows what would change, and saves on a second press.
import * as rulesApi from '../clients/admin/rules.js';
import { PRIORITIES, list as listQueues } from '../clients/queues.js';
import { previewBeforeSave } from '../features/what_if.js';
import { attempt } from '../lib/api.js';
import { $, commaList, el, fill, toast } from '../lib/dom.js';

const form = $('#rule-form');
// type -> [label, kind of value, takes "in subject/text/any"?]; the leaf conditions of routing/conditions.py.
const CONDITIONS = {
  keywords: ['Has any of the words', 'words', true], phrase: ['Has the phrase', 'list', true],
  mention: ['@-mentions', 'list', true], regex: ['Matches the pattern (RE2)', 'pattern', true],
  channel: ['Came through channel', 'list'], recipient: ['Mail was sent to', 'list'],
  author_tag: ['Author is tagged', 'list'], followers_at_least: ['Followers at least', 'count'],
  verified: ['Author is verified', 'yesno'], sentiment_at_most: ['Tone at most (-1 angry to 1 warm)', 'tone'],
  person_field: ["Customer's field", 'field'], length_at_least: ['Length at least (characters)', 'count', true],
  length_at_most: ['Length at most (characters)', 'count', true], language: ['Language (ISO codes)', 'list'],
};
const PLACES = [['any', 'subject or text'], ['subject', 'subject'], ['text', 'text']];
let rules = [];
let queues = [];
let orderChanged = false;

const selectOf = (label, pairs, chosen, attrs = {}) => el('select', { 'aria-label': label, ...attrs },
  ...pairs.map(([value, text]) => el('option', { value, text, selected: String(value) === String(chosen ?? '') })));
const listText = (value) => [].concat(value ?? []).join(', ');
const oneOrMany = (items) => (items.length === 1 ? items[0] : items);

// ---- conditions as rows ----

function valueInputs(type, leaf, n) {
  const kind = CONDITIONS[type][1];
  const label = `Condition ${n} value`;
  const value = leaf[type];
  const attrs = { 'aria-label': label, class: 'value' };
  if (kind === 'count') return [el('input', { ...attrs, type: 'number', min: 0, step: 1, value: value ?? '' })];
  if (kind === 'tone') return [el('input', { ...attrs, type: 'number', min: -1, max: 1, step: 0.05, value: value ?? -0.5 })];
  if (kind === 'yesno') return [selectOf(label, [['true', 'yes'], ['false', 'no']], String(value ?? true), attrs)];
  if (kind === 'pattern') {
    return [el('input', { ...attrs, value: value ?? '', placeholder: 'order #?\\d{6}', spellcheck: 'false' }),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', class: 'ignore-case', checked: (leaf.flags ?? 'i').includes('i') }),
        ' ignore case')];
  }
  if (kind === 'field') {
    return [el('input', { ...attrs, value: value ?? '', placeholder: 'plan' }),
      el('input', { class: 'equals', 'aria-label': `Condition ${n} equals (any of, blank: is set)`, value: listText(leaf.equals),
        placeholder: 'equals: enterprise, pro' })];
  }
  const placeholder = { words: 'refund, charged twice', list: type === 'language' ? 'es, pt' : 'billing' }[kind];
  const inputs = [el('input', { ...attrs, value: listText(value), placeholder })];
  if (kind === 'words') inputs.push(selectOf(`Condition ${n} needs`, [['any', 'any of them'], ['all', 'all of them']], leaf.match ?? 'any', { class: 'match' }));
  return inputs;
}

function conditionRow(leaf = { keywords: [] }, negated = false) {
  const n = $('#rule-conditions').children.length + 1;
  const item = el('li', { dataset: { kind: 'condition' } });
  const render = (type, current, not) => fill(item,
    el('label', { class: 'check' }, el('input', { type: 'checkbox', class: 'negate', checked: not }), ' not'),
    selectOf(`Condition ${n}`, Object.entries(CONDITIONS).map(([k, v]) => [k, v[0]]), type, {
      class: 'type', onchange: (e) => render(e.target.value, {}, item.querySelector('.negate').checked) }),
    ...valueInputs(type, current, n),
    CONDITIONS[type][2] && selectOf(`Condition ${n} looks in`, PLACES, current.field ?? 'any', { class: 'place' }),
    el('button', { type: 'button', text: 'remove', 'aria-label': `Remove condition ${n}`,
      onclick: () => { item.remove(); gate.changed(); } }));
  render(Object.keys(CONDITIONS).find((k) => k in leaf) ?? 'keywords', leaf, negated);
  $('#rule-conditions').append(item);
}

function readCondition(item) {
  const type = item.querySelector('.type').value;
  const kind = CONDITIONS[type][1];
  const raw = item.querySelector('.value').value;
  let leaf;
  if (kind === 'count' || kind === 'tone') leaf = { [type]: raw === '' ? null : Number(raw) };
  else if (kind === 'yesno') leaf = { [type]: raw === 'true' };
  else if (kind === 'pattern') leaf = { regex: raw, flags: item.querySelector('.ignore-case').checked ? 'i' : '' };
  else if (kind === 'field') {
    const equals = commaList(item.querySelector('.equals').value);
    leaf = { person_field: raw.trim(), ...(equals.length ? { equals: oneOrMany(equals) } : {}) };
  } else if (kind === 'words') leaf = { keywords: commaList(raw), match: item.querySelector('.match').value };
  else leaf = { [type]: oneOrMany(commaList(raw)) };
  const place = item.querySelector('.place')?.value;
  if (place && place !== 'any') leaf.field = place;
  return item.querySelector('.negate').checked ? { not: leaf } : leaf;
}

// The form shows one level: every (or any) of a list of conditions, each maybe negated. A rule written through
// the API with deeper nesting is shown, not edited, so saving never flattens it.
function formShape(conditions) {
  const isLeaf = (c) => c && typeof c === 'object' && Object.keys(CONDITIONS).some((k) => k in c);
  const row = (c) => (isLeaf(c) ? [c, false] : (c && isLeaf(c.not) ? [c.not, true] : null));
  const join = conditions.all ? 'all' : conditions.any ? 'any' : 'all';
  const parts = conditions.all ?? conditions.any ?? [conditions];
  const rows = parts.map(row);
  return rows.every(Boolean) ? { join, rows } : null;
}

// ---- actions ----

function readActions() {
  const f = form.elements;
  const actions = {};
  if (f.queue.value) actions.queue = f.queue.value;
  if (f.priority.value) actions.priority = f.priority.value;
  if (f.score.value !== '' && Number(f.score.value) !== 0) actions.score = Number(f.score.value);
  const tags = commaList(f.tags.value);
  if (tags.length) actions.tags = tags;
  if (f.assign.value.trim()) actions.assign = f.assign.value.trim();
  if (f.spam.checked) actions.spam = true;
  if (f.stop.checked) actions.stop = true;
  return actions;
}

function draft() {
  const rows = [...$('#rule-conditions').children].map(readCondition);
  return { name: form.elements.name.value.trim(), enabled: form.elements.enabled.checked,
    conditions: { [form.elements.join.value]: rows }, actions: readActions() };
}

// ---- errors next to their field ----

function clearErrors() {
  form.querySelectorAll('.field-error').forEach((node) => { node.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
}

function showError(message) {
  // "rule 'Refunds': regex …" from the rule compiler, "rules[2].name: …" from the replay's request checks.
  const text = message.replace(/^rule (['"]).*?\1: /, '').replace(/^rules\[\d+\]\./, '');
  const where = /^name\b/.test(text) ? 'name'
    : /^(actions|unknown action|queue|priority|score|tags|at most \d+ tags|assign|spam|stop)\b/.test(text) ? 'actions' : 'conditions';
  $(`#rule-${where}-error`).textContent = text;
  (where === 'name' ? form.elements.name : $(`#rule-${where}-box`)).setAttribute('aria-invalid', 'true');
}

// ---- the what-if ----

const since = () => form.elements.since.value;

function specs(edited) {
  const id = Number(form.elements.id.value) || null;
  const others = rules.map((r) => (r.id === id ? edited : { name: r.name, enabled: r.enabled, conditions: r.conditions, actions: r.actions }));
  return id ? others : [...others, edited];
}

const example = (id, subject, detail) => el('li', {}, el('a', { href: `/conversations/${id}`, text: `#${id} ${subject || '(no subject)'}` }),
  ` ${detail}`);

function renderReplay(report) {
  const days = { '1d': 'day', '7d': 'week', '30d': '30 days' }[since()];
  fill($('#rule-replay'),
    el('p', { class: 'summary', text: `Last ${days}: ${report.conversations} conversations replayed`
      + `${report.limited ? ` (the newest ${report.limit}; there were more)` : ''}. `
      + `${report.would_move} would change queue (${report.vip_would_move} of them VIP); `
      + `${report.priority_would_change} would change priority.` }),
    report.moves.length > 0 && el('ul', { class: 'what-if', 'aria-label': 'Queue changes' }, ...report.moves.map((m) => el('li', {},
      `${m.from} → ${m.to}: ${m.count}`, el('ul', {}, ...m.examples.map((e) => example(e.conversation_id, e.subject, `(${e.reason})`)))))),
    report.priority_changes.length > 0 && el('ul', { class: 'what-if', 'aria-label': 'Priority changes' },
      ...report.priority_changes.map((c) => el('li', {}, `${c.from} → ${c.to}: ${c.count}`,
        el('ul', {}, ...c.examples.map((e) => example(e.conversation_id, e.subject, `(score ${e.score_before} → ${e.score_after})`)))))),
    el('p', { class: 'meta', text: 'Nothing is saved yet: press the button again to save the rule.' }));
}

async function preview() {
  clearErrors();
  $('#rule-replay').textContent = 'Replaying…';
  try {
    renderReplay(await rulesApi.replay(specs(draft()), since()));
    return true;
  } catch (error) {
    $('#rule-replay').textContent = '';
    showError(error.message);
    return false;
  }
}

async function save() {
  clearErrors();
  const id = Number(form.elements.id.value);
  try {
    const saved = id ? await rulesApi.update(id, draft()) : await rulesApi.create(draft());
    toast(id ? 'Rule saved' : 'Rule added');
    await load();
    edit(saved);
    return true;
  } catch (error) { showError(error.message); return false; }
}

const gate = previewBeforeSave({ form, button: $('#rule-save'), draft: () => [draft(), since()], preview, save,
  labels: { save: 'Save rule', confirm: 'Confirm: save rule' } });

// ---- the editor ----

function edit(rule) {
  clearErrors();
  const f = form.elements;
  f.id.value = rule?.id ?? '';
  f.name.value = rule?.name ?? '';
  f.enabled.checked = rule?.enabled ?? true;
  const shape = rule ? formShape(rule.conditions) : { join: 'all', rows: [[{ keywords: [] }, false]] };
  $('#rule-conditions').replaceChildren();
  $('#rule-too-deep').hidden = Boolean(shape);
  f.join.value = shape?.join ?? 'all';
  (shape?.rows ?? []).forEach(([leaf, not]) => conditionRow(leaf, not));
  const a = rule?.actions ?? {};
  f.queue.value = a.queue ?? ''; f.priority.value = a.priority ?? ''; f.score.value = a.score ?? '';
  f.tags.value = listText(a.tags); f.assign.value = a.assign ?? '';
  f.spam.checked = Boolean(a.spam); f.stop.checked = Boolean(a.stop);
  $('#rule-save').disabled = !shape;
  $('#rule-delete').hidden = !rule;
  $('#rule-form-title').textContent = rule ? `Edit rule: ${rule.name}` : 'New rule';
  $('#rule-replay').replaceChildren();
  gate.reset();
}

// ---- the list, its order ----

function describe(rule) {
  const shape = formShape(rule.conditions);
  const when = shape ? shape.rows.map(([leaf, not]) => {
    const type = Object.keys(CONDITIONS).find((k) => k in leaf);
    return `${not ? 'not ' : ''}${CONDITIONS[type][0].toLowerCase()} ${listText(leaf[type])}`.trim();
  }).join(shape.join === 'all' ? ' and ' : ' or ') || 'every post' : 'nested conditions';
  const then = Object.entries(rule.actions).map(([k, v]) => (v === true ? k : `${k} ${listText(v)}`)).join(', ');
  return `When ${when}: ${then}`;
}

function move(index, by) {
  const to = index + by;
  if (to < 0 || to >= rules.length) return;
  [rules[index], rules[to]] = [rules[to], rules[index]];
  markOrder(`Moved ${rules[to].name} to position ${to + 1} of ${rules.length}`);
  // The focus follows the moved rule: on the same button, or the other one once it reached the end.
  const item = $(`#rules-list li:nth-child(${to + 1})`);
  const same = item.querySelector(by < 0 ? '.up' : '.down');
  (same.disabled ? item.querySelector(by < 0 ? '.down' : '.up') : same).focus();
}

function markOrder(message) {
  orderChanged = true;
  renderList();
  $('#rules-order-status').textContent = `${message}. Save the order to apply it.`;
}

function ruleItem(rule, index) {
  const item = el('li', { draggable: 'true', dataset: { id: rule.id },
    ondragstart: (e) => { e.dataTransfer.setData('text/plain', String(index)); e.dataTransfer.effectAllowed = 'move'; },
    ondragover: (e) => e.preventDefault(),
    ondrop: (e) => {
      e.preventDefault();
      const from = Number(e.dataTransfer.getData('text/plain'));
      if (Number.isNaN(from) || from === index) return;
      const [moved] = rules.splice(from, 1);
      rules.splice(index, 0, moved);
      markOrder(`Moved ${moved.name} to position ${index + 1} of ${rules.length}`);
    } },
  el('span', { class: 'grip', 'aria-hidden': 'true', text: '⠿' }),
  el('span', { class: 'rule-text' }, el('strong', { text: `${index + 1}. ${rule.name}` }),
    !rule.enabled && el('span', { class: 'off', text: ' (off)' }), el('br'), el('span', { class: 'meta', text: describe(rule) })),
  el('span', { class: 'rule-buttons' },
    el('button', { type: 'button', text: 'Edit', 'aria-label': `Edit ${rule.name}`, onclick: () => { edit(rule); form.elements.name.focus(); } }),
    el('button', { type: 'button', class: 'up', text: '↑', 'aria-label': `Move ${rule.name} up`, disabled: index === 0,
      onclick: () => move(index, -1) }),
    el('button', { type: 'button', class: 'down', text: '↓', 'aria-label': `Move ${rule.name} down`,
      disabled: index === rules.length - 1, onclick: () => move(index, 1) })));
  return item;
}

function renderList() {
  $('#rules-list').replaceChildren(...rules.map(ruleItem));
  $('#rules-empty').hidden = rules.length > 0;
  $('#rules-save-order').disabled = !orderChanged;
}

async function load() {
  const [list, queueList] = await Promise.all([rulesApi.list(), listQueues()]);
  rules = list.data;
  queues = queueList.data;
  orderChanged = false;
  const chosen = form.elements.queue.value;
  form.elements.queue.replaceChildren(el('option', { value: '', text: '(leave to the model)' }),
    ...queues.map((q) => el('option', { value: q.slug, text: q.name, selected: q.slug === chosen })));
  renderList();
}

$('#rules-save-order').addEventListener('click', async () => {
  if (await attempt(() => rulesApi.reorder(rules.map((r) => r.id)), 'Order saved')) {
    await load();
    $('#rules-order-status').textContent = 'Order saved.';
  }
});
$('#rule-add-condition').addEventListener('click', () => { conditionRow(); gate.changed(); });
$('#rule-new').addEventListener('click', () => { edit(null); form.elements.name.focus(); });
$('#rule-delete').addEventListener('click', async () => {
  const id = Number(form.elements.id.value);
  if (id && window.confirm('Delete this rule?') && await attempt(() => rulesApi.remove(id), 'Rule deleted')) {
    await load();
    edit(null);
  }
});
form.elements.priority.replaceChildren(el('option', { value: '', text: '(as scored)' }),
  ...PRIORITIES.map((p) => el('option', { value: p, text: `at least ${p}` })));
load().then(() => edit(null));

// A macro's actions as rows of a form (what it does, and to what), in order, read back as the JSON list the
// macros API takes: [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]}, {"type": "snooze", "minutes": 60}].
// The kinds are the macro engine's (macros/actions.py PARSERS); the server checks what is sent.
import { PRIORITIES } from '../clients/queues.js';
import { commaList, el, fill } from '../lib/dom.js';

// row kind -> [label, the action's type, its field, how to enter it]; snooze has two ways, by minutes or until.
const KINDS = {
  reply: ['Send the reply template', 'reply', null, null],
  note: ['Add an internal note', 'note', 'text', 'template'],
  add_tags: ['Add tags', 'add_tags', 'tags', 'tags'],
  remove_tags: ['Remove tags', 'remove_tags', 'tags', 'tags'],
  priority: ['Set priority', 'priority', 'priority', 'priority'],
  move: ['Move to queue', 'move', 'queue', 'queue'],
  assign: ['Assign to', 'assign', 'assignee', 'assignee'],
  status: ['Set status', 'status', 'status', 'status'],
  snooze: ['Snooze for (minutes)', 'snooze', 'minutes', 'minutes'],
  snooze_until: ['Snooze until', 'snooze', 'until', 'until'],
  tag_customer: ['Tag the customer', 'tag_customer', 'tags', 'tags'],
  escalate: ['Escalate to a ticket (last)', 'escalate', null, null],
};

const kindOf = (action) => (action.type === 'snooze' && 'until' in action ? 'snooze_until' : action.type);

/**
 * An editor of action rows inside `list` (an <ol>): `options()` gives { queues: [[slug, name]], agents: [[id, name]] }
 * when a row is drawn. Returns { show(actions), add(action), read() }.
 */
export function macroActions(list, options) {
  const select = (label, pairs, chosen, cls) => el('select', { 'aria-label': label, class: cls },
    ...pairs.map(([value, text]) => el('option', { value, text, selected: String(value) === String(chosen) })));

  function input(kind, value, n) {
    const [, , field, how] = KINDS[kind];
    const label = `Macro action ${n}: ${field}`;
    const { queues, agents } = options();
    switch (how) {
      case 'template': return el('textarea', { class: 'value', rows: 2, text: value || '', required: true, 'aria-label': label });
      case 'tags': return el('input', { class: 'value', value: (value || []).join(', '), required: true, placeholder: 'refund, vip', 'aria-label': `${label} (comma separated)` });
      case 'minutes': return el('input', { class: 'value', type: 'number', min: 1, step: 1, value: value ?? 60, required: true, 'aria-label': label });
      case 'until': return el('input', { class: 'value', value: value || '', required: true, placeholder: '2026-12-01T09:00:00Z', 'aria-label': `${label} (ISO time with offset)` });
      case 'priority': return select(label, PRIORITIES.map((p) => [p, p]), value ?? 'high', 'value');
      case 'status': return select(label, ['open', 'pending', 'resolved'].map((s) => [s, s]), value ?? 'resolved', 'value');
      case 'queue': return select(label, value && !queues.some(([slug]) => slug === value) ? [[value, value], ...queues] : queues, value, 'value');
      case 'assignee': return select(label, [['me', 'whoever applies it'], ['', 'nobody (unassign)'], ...agents],
        value === null ? '' : value ?? 'me', 'value');
      default: return null;
    }
  }

  function row(action) {
    const item = el('li', { class: 'macro-action' });
    const draw = (kind, value) => {
      const n = [...list.children].indexOf(item) + 1 || list.children.length + 1;
      fill(item, select(`Macro action ${n}`, Object.entries(KINDS).map(([k, [label]]) => [k, label]), kind, 'kind'),
        input(kind, value, n),
        el('button', { type: 'button', text: 'up', 'aria-label': `Move macro action ${n} up`, onclick: () => {
          if (item.previousElementSibling) item.previousElementSibling.before(item);
          item.querySelector('.kind').focus();
        } }),
        el('button', { type: 'button', text: 'remove', 'aria-label': `Remove macro action ${n}`, onclick: () => {
          const next = item.nextElementSibling || item.previousElementSibling;
          item.remove();
          if (next) next.querySelector('.kind').focus();
        } }));
      item.querySelector('.kind').addEventListener('change', (e) => { draw(e.target.value); item.querySelector('.kind').focus(); });
    };
    list.append(item);
    const kind = kindOf(action);
    draw(kind, KINDS[kind][2] ? action[KINDS[kind][2]] : undefined);
    return item;
  }

  function read() {
    return [...list.children].map((item) => {
      const kind = item.querySelector('.kind').value;
      const [, type, field, how] = KINDS[kind];
      if (!field) return { type };
      const raw = item.querySelector('.value').value;
      const value = how === 'tags' ? commaList(raw) : how === 'minutes' ? Number(raw)
        : how === 'assignee' ? (raw === 'me' ? 'me' : raw === '' ? null : Number(raw)) : raw;
      return { type, [field]: value };
    });
  }

  return {
    show(actions) { list.replaceChildren(); actions.forEach(row); },
    add(action = { type: 'add_tags', tags: [] }) { row(action).querySelector('.kind').focus(); },
    read,
  };
}

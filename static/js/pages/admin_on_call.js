// The admin page's on-call part: a queue's rota as a form. Weekly rows (agent, weekday, from, to) repeat every
// week; override rows (agent, date, from, to) replace that day's weekly rows. Among the rows of one day, the
// first is on call first (the API's `position`). Times are in the time zone of the queue's calendar.
import * as agents from '../clients/admin/agents.js';
import * as onCall from '../clients/on_call.js';
import { PRIORITIES, list as listQueues } from '../clients/queues.js';
import * as sla from '../clients/sla.js';
import { attempt } from '../lib/api.js';
import { $, el, fill } from '../lib/dom.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
let people = [];
let calendars = [];

// The queue's agents as options (someone no longer in the queue stays shown on their old rows, marked).
function agentSelect(slug, chosen) {
  const members = people.filter((a) => a.queues.includes(slug) || a.id === chosen);
  return el('select', { name: 'agent', required: true },
    ...members.map((a) => el('option', { value: a.id, selected: a.id === chosen,
      text: a.queues.includes(slug) ? `${a.name} (${a.email})` : `${a.name} (not in this queue)` })));
}

function label(text, control) {
  return el('label', {}, el('span', { class: 'visually-hidden', dataset: { field: text }, text }), control);
}

// One shift's row: `shift.date` set makes it an override row, otherwise a weekly one.
function row(slug, shift, override) {
  const when = override
    ? el('input', { type: 'date', name: 'date', required: true, value: shift.date || '' })
    : el('select', { name: 'weekday', required: true },
      ...DAYS.map((day, index) => el('option', { value: index, text: day, selected: index === shift.weekday })));
  const item = el('li', { class: 'row-form shift' },
    label('Agent', agentSelect(slug, shift.agent_id)),
    label(override ? 'Date' : 'Weekday', when),
    label('From', el('input', { type: 'time', name: 'start', required: true, value: shift.start })),
    label('to', el('input', { type: 'time', name: 'end', required: true, value: shift.end })));
  item.append(el('button', { type: 'button', class: 'remove', text: 'Remove', onclick: () => remove(item) }));
  return item;
}

// Rows are named by their place ("Weekly shift 2: agent"), so a screen reader tells one row's fields apart.
function renumber() {
  for (const [list, noun] of [[$('#on-call-weekly'), 'Weekly shift'], [$('#on-call-overrides'), 'Override']]) {
    [...list.children].forEach((item, index) => {
      for (const span of item.querySelectorAll('.visually-hidden')) {
        span.textContent = `${noun} ${index + 1}: ${span.dataset.field}`;
      }
      item.querySelector('.remove').setAttribute('aria-label', `Remove ${noun.toLowerCase()} ${index + 1}`);
    });
  }
}

// Removing a row moves the focus to the row that took its place, or to its list's Add button.
function remove(item) {
  const list = item.parentElement;
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  renumber();
  (next ? next.querySelector('select, input') : list.nextElementSibling).focus();
}

function add(override) {
  const slug = $('#on-call-queue').value;
  const last = $(override ? '#on-call-overrides' : '#on-call-weekly').lastElementChild;
  const shift = override ? { date: new Date().toISOString().slice(0, 10), start: '00:00', end: '23:59' }
    : { weekday: last ? Number(last.querySelector('[name=weekday]').value) : 0, start: '17:00', end: '09:00' };
  const item = row(slug, shift, override);
  $(override ? '#on-call-overrides' : '#on-call-weekly').append(item);
  renumber();
  item.querySelector('select').focus();
}

// The rows as the API's shifts; a row's position is its rank among the rows of the same day.
function shifts() {
  const seen = {};
  return [...document.querySelectorAll('#on-call-form li.shift')].map((item) => {
    const value = (name) => item.querySelector(`[name=${name}]`)?.value;
    const when = value('date') !== undefined ? { date: value('date') } : { weekday: Number(value('weekday')) };
    const day = when.date ?? when.weekday;
    seen[day] = (seen[day] ?? -1) + 1;
    return { agent_id: Number(value('agent')), ...when, start: value('start'), end: value('end'), position: seen[day] };
  });
}

// Which calendar's time zone the rota's times are in: the queue's most urgent SLA policy with a calendar.
function calendarNote(policies) {
  const policy = [...policies].sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority))
    .find((p) => p.calendar);
  const calendar = policy && calendars.find((c) => c.name === policy.calendar);
  return calendar
    ? `Times are in ${calendar.time_zone}, the time zone of the "${calendar.name}" calendar; out of its business hours the rota applies.`
    : 'This queue has no business-hours calendar: times are in UTC, and the rota applies whenever someone is on call.';
}

let shown = 0;  // the latest reading asked for: an earlier one answering late must not overwrite it

async function show() {
  const slug = $('#on-call-queue').value;
  const asked = ++shown;
  const [found, policy] = slug ? await Promise.all([attempt(() => onCall.rota(slug)), attempt(() => sla.policies(slug))])
    : [null, null];
  if (asked !== shown) return;
  const rota = found ? found.data : [];
  fill($('#on-call-weekly'), ...rota.filter((s) => s.date === null).map((s) => row(slug, s, false)));
  fill($('#on-call-overrides'), ...rota.filter((s) => s.date !== null).map((s) => row(slug, s, true)));
  $('#on-call-calendar').textContent = policy ? calendarNote(policy.policies) : '';
  renumber();
}

async function init() {
  const [queues, team, known] = await Promise.all(
    [attempt(() => listQueues()), attempt(() => agents.list()), attempt(() => sla.calendars())]);
  if (!queues || !team) return;
  people = team.data;
  calendars = known ? known.data : [];
  $('#on-call-queue').replaceChildren(...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  $('#on-call-queue').addEventListener('change', show);
  $('#on-call-add-weekly').addEventListener('click', () => add(false));
  $('#on-call-add-override').addEventListener('click', () => add(true));
  $('#on-call-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await attempt(() => onCall.replace($('#on-call-queue').value, shifts()), 'Rota saved')) await show();
  });
  show();
}

init();

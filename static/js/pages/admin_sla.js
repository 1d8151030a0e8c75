// The admin page's SLA part: calendars edited as forms (weekday hours, time zone, holidays; with iCalendar
// import), SLA policies per queue and level (the one place reply targets are set), assignment.
import * as queueAdmin from '../clients/admin/queues.js';
import { PRIORITIES, list as listQueues } from '../clients/queues.js';
import * as sla from '../clients/sla.js';
import { attempt } from '../lib/api.js';
import { $, el, toast } from '../lib/dom.js';
import { calendarForm } from '../features/calendar_form.js';

const STRATEGIES = { off: 'off', round_robin: 'round robin', least_loaded: 'least loaded' };
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

async function save(action, success) {
  await attempt(action, success);
  await load();
}

function hoursText(hours) {
  return DAYS.filter((d) => hours[d]).map((d) => `${d} ${hours[d].map(([a, b]) => `${a}-${b}`).join(',')}`).join('; ');
}

function calendarRow(calendar) {
  const file = el('input', { type: 'file', accept: '.ics,text/calendar', onchange: async (e) => {
    const text = await e.target.files[0].text();
    save(async () => {
      const result = await sla.importHolidays(calendar.id, text);
      if (result.skipped.length) toast(`Imported ${result.imported}; skipped: ${result.skipped.join('; ')}`);
    }, 'Holidays imported');
  } });
  const change = el('button', { type: 'button', text: 'edit', 'aria-label': `Edit ${calendar.name}`,
    onclick: () => calendarEditor.edit(calendar) });
  const remove = el('button', { text: 'delete', 'aria-label': `Delete ${calendar.name}`,
    onclick: () => confirm(`Delete ${calendar.name}?`)
    && save(() => sla.deleteCalendar(calendar.id), 'Calendar deleted') });
  return el('tr', { dataset: { id: calendar.id } }, el('td', { text: calendar.name }), el('td', { text: calendar.time_zone }),
    el('td', { text: hoursText(calendar.hours) }),
    el('td', { text: `${calendar.holidays.length}`, title: calendar.holidays.map((h) => `${h.start} ${h.name}`).join('\n') }),
    el('td', {}, el('label', {}, 'import .ics ', file), ' ', change, ' ', remove));
}

const minutes = (m) => (m ? `${m} min` : '—');

// A queue's level with its policy; without one, the plain first-reply target that applies instead.
function policyRow(queue, level, policy, plain) {
  const cells = policy
    ? [minutes(policy.first_reply_minutes), minutes(policy.next_reply_minutes), minutes(policy.resolution_minutes),
      policy.business_hours ? `business hours (${policy.calendar})` : 'calendar time', policy.at_risk_fraction ?? 'default']
    : [`${minutes(plain)} (no policy)`, '—', '—', 'calendar time', 'default'];
  const change = el('button', { type: 'button', text: 'edit', 'aria-label': `Edit the ${level} targets of ${queue.name}`,
    onclick: () => editPolicy(queue.slug, level, policy, plain) });
  const remove = policy && el('button', { type: 'button', text: 'remove', 'aria-label': `Remove the ${level} policy of ${queue.name}`,
    onclick: () => save(() => sla.deletePolicy(queue.slug, level), 'Policy removed') });
  return el('tr', { dataset: { queue: queue.slug, level, policy: policy ? 'yes' : 'no' } },
    el('td', { text: queue.slug }), el('td', { text: level }), ...cells.map((text) => el('td', { text })),
    el('td', {}, change, remove && ' ', remove));
}

// Load a queue's level into the policy form (its policy, or the plain target as a starting point).
function editPolicy(queue, level, policy, plain) {
  const form = $('#new-policy');
  form.queue.value = queue;
  form.level.value = level;
  const value = (v) => (v === null || v === undefined ? '' : String(v));
  form.first_reply_minutes.value = value(policy ? policy.first_reply_minutes : plain);
  form.next_reply_minutes.value = value(policy && policy.next_reply_minutes);
  form.resolution_minutes.value = value(policy && policy.resolution_minutes);
  form.calendar.value = policy && policy.business_hours ? policy.calendar : '';
  form.at_risk_fraction.value = value(policy && policy.at_risk_fraction);
  form.first_reply_minutes.focus();
}

function assignmentRow(queue) {
  const strategy = el('select', { 'aria-label': `Automatic assignment in ${queue.name}`, onchange: (e) => save(() => queueAdmin.update(queue.slug,
    { assignment: e.target.value }), 'Assignment saved') },
  ...Object.entries(STRATEGIES).map(([value, text]) => el('option', { value, text, selected: value === queue.assignment })));
  return el('tr', { dataset: { slug: queue.slug } }, el('td', { text: queue.name }), el('td', {}, strategy));
}

async function load() {
  const [calendars, queues] = await Promise.all([sla.calendars(), listQueues()]);
  const slas = await Promise.all(queues.data.map((q) => sla.policies(q.slug)));
  $('#calendars tbody').replaceChildren(...calendars.data.map(calendarRow));
  $('#policies tbody').replaceChildren(...queues.data.flatMap((q, i) => PRIORITIES.map((level) => policyRow(q, level,
    slas[i].policies.find((p) => p.priority === level), slas[i].plain_minutes[level]))));
  $('#assignment tbody').replaceChildren(...queues.data.map(assignmentRow));
  const form = $('#new-policy');
  const chosen = [form.queue.value, form.calendar.value];
  form.queue.replaceChildren(...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  form.calendar.replaceChildren(el('option', { value: '', text: 'calendar time (24/7)' }),
    ...calendars.data.map((c) => el('option', { value: c.name, text: `business hours: ${c.name}` })));
  [form.queue.value, form.calendar.value] = chosen;
  if (!form.queue.value) form.queue.selectedIndex = 0;
  if (form.calendar.selectedIndex < 0) form.calendar.value = '';
}

const calendarEditor = calendarForm($('#new-calendar'), async (id, body) => {
  const saved = await attempt(() => (id ? sla.updateCalendar(id, body) : sla.createCalendar(body)), 'Calendar saved');
  if (saved) calendarEditor.edit(saved); // a second save changes this calendar rather than adding another
  await load();
});

// The queue table's "SLA targets" links lead here with their queue chosen.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-sla-queue]');
  if (!link) return;
  event.preventDefault(); // focus goes to the form itself, not to the heading the link names
  $('#new-policy').queue.value = link.dataset.slaQueue;
  $('#new-policy').queue.focus();
});

$('#new-policy').addEventListener('submit', (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  const number = (v) => (v === '' ? null : Number(v));
  save(() => sla.savePolicy(data.queue, data.level, {
    first_reply_minutes: number(data.first_reply_minutes), next_reply_minutes: number(data.next_reply_minutes),
    resolution_minutes: number(data.resolution_minutes), business_hours: data.calendar !== '',
    calendar: data.calendar || null, at_risk_fraction: number(data.at_risk_fraction),
  }), 'Policy saved');
});
$('#new-policy').level.replaceChildren(...PRIORITIES.map((l) => el('option', { value: l, text: l })));
load();

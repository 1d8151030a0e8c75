// The admin page's SLA part: calendars (with iCalendar import), SLA policies per queue and level, assignment.
import * as queueAdmin from '../clients/admin/queues.js';
import { PRIORITIES, list as listQueues } from '../clients/queues.js';
import * as sla from '../clients/sla.js';
import { attempt } from '../lib/api.js';
import { $, el, toast } from '../lib/dom.js';

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
  const remove = el('button', { text: 'delete', 'aria-label': `Delete ${calendar.name}`,
    onclick: () => confirm(`Delete ${calendar.name}?`)
    && save(() => sla.deleteCalendar(calendar.id), 'Calendar deleted') });
  return el('tr', { dataset: { id: calendar.id } }, el('td', { text: calendar.name }), el('td', { text: calendar.time_zone }),
    el('td', { text: hoursText(calendar.hours) }),
    el('td', { text: `${calendar.holidays.length}`, title: calendar.holidays.map((h) => `${h.start} ${h.name}`).join('\n') }),
    el('td', {}, el('label', {}, 'import .ics ', file), ' ', remove));
}

function policyRow(queue, policy) {
  const minutes = (m) => (m ? `${m} min` : '—');
  return el('tr', { dataset: { queue: queue.slug, level: policy.priority } },
    el('td', { text: queue.slug }), el('td', { text: policy.priority }),
    el('td', { text: minutes(policy.first_reply_minutes) }), el('td', { text: minutes(policy.next_reply_minutes) }),
    el('td', { text: minutes(policy.resolution_minutes) }),
    el('td', { text: policy.business_hours ? `business hours (${policy.calendar})` : 'calendar time' }),
    el('td', { text: policy.at_risk_fraction ?? 'default' }),
    el('td', {}, el('button', { text: 'remove', 'aria-label': `Remove the ${policy.priority} policy of ${queue.slug}`, onclick: () => save(
      () => sla.deletePolicy(queue.slug, policy.priority), 'Policy removed') })));
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
  $('#policies tbody').replaceChildren(...queues.data.flatMap((q, i) => slas[i].policies.map((p) => policyRow(q, p))));
  $('#assignment tbody').replaceChildren(...queues.data.map(assignmentRow));
  const form = $('#new-policy');
  form.queue.replaceChildren(...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  form.calendar.replaceChildren(el('option', { value: '', text: 'calendar time (24/7)' }),
    ...calendars.data.map((c) => el('option', { value: c.name, text: `business hours: ${c.name}` })));
}

$('#new-calendar').addEventListener('submit', (event) => {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(event.target));
  save(async () => {
    let hours;
    try { hours = JSON.parse(data.hours); } catch { throw new Error('hours: not valid JSON'); }
    await sla.createCalendar({ name: data.name, time_zone: data.time_zone, hours });
    event.target.reset();
  }, 'Calendar added');
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

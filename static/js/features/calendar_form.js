// A business-hours calendar as a form: a time zone to choose, each weekday's opening hours as rows of from/to
// times, and holidays as rows of name and dates. It reads and writes the calendar's JSON exactly as the API
// takes it ({name, time_zone, hours: {mon: [["09:00", "17:00"]]}, holidays: [{name, start, end}]}).
import { $, el, fill } from '../lib/dom.js';

const DAYS = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };
// 24-hour times as the server reads them; "24:00" closes a window at midnight.
const CLOCK = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';
const WEEKDAYS_NINE_TO_FIVE = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['09:00', '17:00']]]));
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', ...zones, current].filter(Boolean))];
}

function clock(label, value) {
  return el('input', { class: 'clock', value, required: true, pattern: CLOCK, inputmode: 'numeric', size: 5,
    placeholder: 'hh:mm', title: '24-hour time, e.g. 09:00 (24:00 is midnight at the end of the day)', 'aria-label': label });
}

// One opening window of a day: from, to, and a button that takes it away.
function windowItem(day, [from, to]) {
  const item = el('li');
  fill(item, clock(`${DAYS[day]} opens`, from), '–', clock(`${DAYS[day]} closes`, to),
    el('button', { type: 'button', text: 'remove', 'aria-label': `Remove these ${DAYS[day]} hours`,
      onclick: () => { const list = item.parentNode; item.remove(); list.dispatchEvent(new Event('change')); } }));
  return item;
}

function dayRow(day, windows) {
  const list = el('ol', { class: 'windows', dataset: { day } }, ...windows.map((w) => windowItem(day, w)));
  const state = el('span', { class: 'meta closed-note', text: 'closed' });
  const update = () => { state.hidden = list.children.length > 0; };
  list.addEventListener('change', update);
  update();
  const add = el('button', { type: 'button', text: 'add hours', 'aria-label': `Add opening hours on ${DAYS[day]}`,
    onclick: () => { list.append(windowItem(day, ['09:00', '17:00'])); update(); list.lastChild.querySelector('input').focus(); } });
  return el('tr', { dataset: { day } }, el('th', { scope: 'row', text: DAYS[day] }), el('td', {}, state, list, add));
}

function holidayItem(holiday = { name: '', start: '', end: '' }) {
  // Timed closures (a date and time) stay as typed text, so saving never turns them into whole days.
  const type = (value) => (!value || DATE.test(value) ? 'date' : 'text');
  const item = el('li', { class: 'holiday' });
  fill(item,
    el('input', { class: 'holiday-name', value: holiday.name, required: true, maxlength: 200, placeholder: 'e.g. Christmas', 'aria-label': 'Holiday name' }),
    el('input', { class: 'holiday-start', type: type(holiday.start), value: holiday.start, required: true, 'aria-label': `First day closed${holiday.name ? `: ${holiday.name}` : ''}` }),
    el('input', { class: 'holiday-end', type: type(holiday.end), value: holiday.end || '', 'aria-label': `Open again on${holiday.name ? `: ${holiday.name}` : ''} (blank: the next day)` }),
    el('button', { type: 'button', text: 'remove', 'aria-label': `Remove the holiday${holiday.name ? ` ${holiday.name}` : ''}`, onclick: () => item.remove() }));
  return item;
}

/**
 * Wire a calendar form: `form` holds the id, name and time_zone fields, #calendar-hours, #calendar-holidays and
 * the add-holiday and new buttons; `onSave(id, body)` stores it (id null for a new calendar).
 * Returns { edit(calendar) } to load a calendar (or null for a new one) into the form.
 */
export function calendarForm(form, onSave) {
  function edit(calendar) {
    form.elements.id.value = calendar ? calendar.id : '';
    form.elements.name.value = calendar ? calendar.name : '';
    const zone = calendar ? calendar.time_zone : Intl.DateTimeFormat().resolvedOptions().timeZone;
    form.elements.time_zone.replaceChildren(...timeZones(zone).map((z) => el('option', { value: z, text: z, selected: z === zone })));
    const hours = calendar ? calendar.hours : WEEKDAYS_NINE_TO_FIVE;
    $('#calendar-hours tbody').replaceChildren(...Object.keys(DAYS).map((day) => dayRow(day, hours[day] || [])));
    $('#calendar-holidays').replaceChildren(...(calendar ? calendar.holidays : []).map(holidayItem));
    if (calendar) form.elements.name.focus();
  }

  function read() {
    const hours = {};
    for (const list of form.querySelectorAll('ol.windows')) {
      const windows = [...list.children].map((item) => [...item.querySelectorAll('input.clock')].map((i) => i.value.trim()));
      if (windows.length) hours[list.dataset.day] = windows;
    }
    const holidays = [...form.querySelectorAll('li.holiday')].map((item) => {
      const end = item.querySelector('.holiday-end').value;
      return { name: item.querySelector('.holiday-name').value.trim(), start: item.querySelector('.holiday-start').value, ...(end ? { end } : {}) };
    });
    return { name: form.elements.name.value.trim(), time_zone: form.elements.time_zone.value, hours, holidays };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await onSave(form.elements.id.value ? Number(form.elements.id.value) : null, read());
  });
  $('#calendar-add-holiday').addEventListener('click', () => {
    $('#calendar-holidays').append(holidayItem());
    $('#calendar-holidays').lastChild.querySelector('input').focus();
  });
  $('#calendar-new').addEventListener('click', () => { edit(null); form.elements.name.focus(); });
  edit(null);
  return { edit, read };
}

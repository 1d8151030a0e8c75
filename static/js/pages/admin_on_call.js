// The admin page's on-call part: a queue's rota as lines of text, one shift a line, first on call first:
//   bo@example.com mon 17:00-09:00      (every Monday, past midnight into Tuesday)
//   ann@example.com 2026-03-04 17:00-23:00   (that day only: the day's lines replace its weekly ones)
import * as agents from '../clients/admin/agents.js';
import * as onCall from '../clients/on_call.js';
import { list as listQueues } from '../clients/queues.js';
import { attempt } from '../lib/api.js';
import { $, el, toast } from '../lib/dom.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
let people = [];

function asText(shifts) {
  const email = (id) => (people.find((a) => a.id === id) || { email: `#${id}` }).email;
  return shifts.map((s) => `${email(s.agent_id)} ${s.date || DAYS[s.weekday]} ${s.start}-${s.end}`).join('\n');
}

// Lines to shifts; the position is a line's rank among the lines of the same day.
function parse(text) {
  const seen = {};
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [who, day, hours] = line.split(/\s+/);
    const agent = people.find((a) => a.email === who);
    const [start, end] = (hours || '').split('-');
    if (!agent || !day || !start || !end) throw new Error(`not understood: "${line}"`);
    seen[day] = (seen[day] || 0) + 1;
    const when = DAYS.includes(day) ? { weekday: DAYS.indexOf(day) } : { date: day };
    return { agent_id: agent.id, ...when, start, end, position: seen[day] - 1 };
  });
}

let shown = 0;  // the latest reading asked for: an earlier one answering late must not overwrite it

async function show() {
  const slug = $('#on-call-queue').value;
  const asked = ++shown;
  const found = slug && await attempt(() => onCall.rota(slug));
  if (asked === shown) $('#on-call-rota').value = found ? asText(found.data) : '';
}

async function init() {
  const [queues, team] = await Promise.all([attempt(() => listQueues()), attempt(() => agents.list())]);
  if (!queues || !team) return;
  people = team.data;
  $('#on-call-queue').replaceChildren(...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  $('#on-call-queue').addEventListener('change', show);
  $('#on-call-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    let shifts;
    try { shifts = parse($('#on-call-rota').value); } catch (error) { toast(error.message); return; }
    if (await attempt(() => onCall.replace($('#on-call-queue').value, shifts), 'Rota saved')) await show();
  });
  show();
}

init();

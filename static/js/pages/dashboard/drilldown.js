// Drill-downs: every figure on the dashboard is a link to the conversations behind it.
import * as dashboard from '../../clients/dashboard.js';
import { $, el, toast } from '../../lib/dom.js';
import { conversationPage } from '../../lib/routes.js';

const DRILLDOWN_LIMIT = 200;  // the server lists at most this many

// A number that opens the list of conversations behind it.
export function drill(value, title, params, bad = false) {
  return el('a', { href: '#', class: `drill${bad && value ? ' bad' : ''}`, text: String(value),
    dataset: { metric: params.metric, ...(params.queue ? { queue: params.queue } : {}) },
    onclick: (event) => { event.preventDefault(); openDrilldown(title, params); } });
}

export async function openDrilldown(title, params) {
  try {
    const { data } = await dashboard.conversations(params);
    $('#drilldown-title').textContent = `${title}: ${data.length === DRILLDOWN_LIMIT ? `the first ${DRILLDOWN_LIMIT}` : data.length}`;
    $('#drilldown-csv').href = dashboard.drilldownCsv(params);
    $('#drilldown-rows').replaceChildren(...data.map((c) => el('tr', { dataset: { id: c.id } },
      el('td', {}, el('a', { href: conversationPage(c.id), text: `#${c.id}` })), el('td', { text: c.queue }),
      el('td', { text: c.status }), el('td', { text: c.priority }), el('td', { text: c.author.handle }),
      el('td', { text: c.preview || c.subject }), el('td', { text: c.assignee ? c.assignee.name : '' }))));
    $('#drilldown').hidden = false;
    $('#drilldown').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  } catch (error) { toast(error.message); }
}

export function initDrilldown() {
  $('#drilldown-close').addEventListener('click', () => { $('#drilldown').hidden = true; });
}

// The supervisors' dashboard: figures from one snapshot, patched in place by `dashboard.snapshot` events.
// Every number is a link to the conversations behind it.
import * as dashboard from '../../clients/dashboard.js';
import * as onCall from '../../clients/on_call.js';
import { $, el, toast } from '../../lib/dom.js';
import { connectLive } from '../../lib/live.js';
import { initBulkPanel, isRunning, showProgress } from '../../features/bulk.js';
import { renderSentiment, renderVolume } from './charts.js';
import { initDrilldown } from './drilldown.js';
import { alertSpike, initIncidents, renderIncidents } from './incidents.js';
import { renderAgents, renderFirstReply, renderQueues } from './tables.js';

function render(snapshot) {
  $('#generated').textContent = `as of ${new Date(snapshot.generated_at).toLocaleTimeString()}`;
  renderQueues(snapshot.queues);
  renderVolume(snapshot.volume);
  renderSentiment(snapshot.sentiment);
  renderFirstReply(snapshot.first_reply);
  renderAgents(snapshot.agents);
  renderIncidents(snapshot.incidents);
}

function renderOnCall(rows) {
  $('#on-call-table tbody').replaceChildren(...(rows.length ? rows.map((row) => el('tr', {},
    el('td', { text: row.queue }), el('td', { text: row.agents.map((a) => a.name).join(', then ') }),
    el('td', { text: row.in_hours ? 'in hours' : 'out of hours' })))
    : [el('tr', {}, el('td', { colspan: 3, text: 'Nobody is on call now.' }))]));
}

async function load() {
  try {
    render(await dashboard.snapshot());
    renderOnCall((await onCall.now()).data);
  } catch (error) { toast(error.message); }
}

initDrilldown();
initIncidents({ load });
initBulkPanel();
connectLive({
  join: (socket, joined) => socket.emit('watch_dashboard', {}, joined),
  catchUp: load,
  poll: load,
  pollSeconds: 10,
  events: {
    'dashboard.snapshot': render,
    'incident.detected': (incident) => { alertSpike(incident); load(); },
    'incident.updated': () => load(),
    'bulk.progress': (state) => {  // the agent's own room, which every socket of theirs joins
      showProgress(state);
      if (!isRunning(state)) load();
    },
  },
});

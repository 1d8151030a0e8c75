// The supervisors' dashboard: figures from one snapshot, patched in place by `dashboard.snapshot` events.
// Every number is a link to the conversations behind it.
import { api } from '../console/api.js';
import { initBulkPanel, openBulkDialog, showProgress } from '../console/bulk.js';
import { ago, el, toast } from '../console/dom.js';
import { openPicker } from '../console/macros.js';

const $ = (selector) => document.querySelector(selector);
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2d5bd7', '#e65100', '#2e7d32', '#8e24aa', '#00838f', '#c62828', '#6d4c41', '#546e7a'];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// A number that opens the list of conversations behind it.
function drill(value, title, params, bad = false) {
  return el('a', { href: '#', class: `drill${bad && value ? ' bad' : ''}`, text: String(value),
    dataset: { metric: params.metric, ...(params.queue ? { queue: params.queue } : {}) },
    onclick: (event) => { event.preventDefault(); openDrilldown(title, params); } });
}

async function openDrilldown(title, params) {
  const query = new URLSearchParams(params).toString();
  try {
    const { data } = await api('GET', `/dashboard/conversations?${query}`);
    $('#drilldown-title').textContent = `${title}: ${data.length === 200 ? 'the first 200' : data.length}`;
    $('#drilldown-csv').href = `/api/v1/dashboard/export?table=drilldown&${query}`;
    $('#drilldown-rows').replaceChildren(...data.map((c) => el('tr', { dataset: { id: c.id } },
      el('td', {}, el('a', { href: `/conversations/${c.id}`, text: `#${c.id}` })), el('td', { text: c.queue }),
      el('td', { text: c.status }), el('td', { text: c.priority }), el('td', { text: c.author.handle }),
      el('td', { text: c.preview || c.subject }), el('td', { text: c.assignee ? c.assignee.name : '' }))));
    $('#drilldown').hidden = false;
    $('#drilldown').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  } catch (error) { toast(error.message); }
}

function renderQueues(queues) {
  $('#queue-table tbody').replaceChildren(...queues.map((q) => {
    const cell = (metric, bad) => el('td', { class: 'num' }, drill(q[metric], `${q.name}: ${metric.replace('_', ' ')}`,
      { metric, queue: q.queue }, bad));
    const oldest = q.oldest_waiting_since
      ? drill(ago(q.oldest_waiting_since), `${q.name}: longest waiting`, { metric: 'oldest', queue: q.queue }) : '–';
    return el('tr', { dataset: { queue: q.queue } }, el('td', { text: q.name }), cell('depth'), cell('open'),
      cell('pending'), cell('unassigned'), cell('at_risk', true), cell('breached', true), el('td', {}, oldest));
  }));
}

function renderVolume(volume) {
  const queues = Object.keys(volume.series).sort();
  const count = 288;
  const max = Math.max(1, ...queues.flatMap((q) => volume.series[q]));
  const width = 960; const height = 170; const left = 28;
  const x = (i) => left + (i / (count - 1)) * (width - left - 4);
  const y = (v) => height - 16 - (v / max) * (height - 26);
  const start = Date.parse(volume.start);
  const step = volume.bucket_minutes * 60000;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': 'Incoming posts per 5 minutes per queue' },
  svg('line', { class: 'axis', x1: left, x2: width, y1: height - 16, y2: height - 16 }),
  svg('text', { x: 0, y: 12 }, String(max)), svg('text', { x: 0, y: height - 18 }, '0'));
  for (let i = 0; i < count; i += 48) {
    chart.append(svg('text', { x: x(i), y: height - 3 }, clock(new Date(start + i * step).toISOString())));
  }
  queues.forEach((queue, index) => {
    const points = volume.series[queue].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { points, fill: 'none', stroke: COLORS[index % COLORS.length], 'stroke-width': 1.5,
      'data-queue': queue }));
  });
  // One clickable strip per half hour: it lists that half hour's buckets per queue, each a drill-down.
  for (let i = 0; i < count; i += 6) {
    chart.append(svg('rect', { class: 'hit', x: x(i), y: 0, width: x(6) - x(0), height: height - 16,
      onclick: () => showBuckets(volume, queues, i, start, step) }));
  }
  const legend = el('div', { class: 'legend' }, ...queues.map((queue, index) => el('span', {},
    el('i', { style: `background:${COLORS[index % COLORS.length]}` }), `${queue} (${volume.series[queue].reduce((a, b) => a + b, 0)})`)),
  el('span', { id: 'volume-detail', class: 'muted', text: queues.length ? 'Click the chart for the posts behind it.' : 'No posts in the last 24 hours.' }));
  $('#volume-chart').replaceChildren(chart, legend);
}

function showBuckets(volume, queues, first, start, step) {
  const links = [];
  for (let i = first; i < first + 6; i += 1) {
    const bucket = new Date(start + i * step).toISOString();
    for (const queue of queues) {
      const n = volume.series[queue][i];
      if (n) links.push(el('span', {}, `${clock(bucket)} ${queue} `, drill(n, `${queue} at ${clock(bucket)}`,
        { metric: 'volume', queue, bucket }), ' · '));
    }
  }
  $('#volume-detail').replaceChildren(...(links.length ? links : ['Nothing came in then.']));
}

function renderSentiment({ hours }) {
  const width = 480; const height = 170; const barWidth = width / hours.length;
  const max = Math.max(1, ...hours.map((h) => h.posts));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': 'Posts per hour coloured by mean sentiment; the red part is negative posts' });
  hours.forEach((hour, i) => {
    const full = (hour.posts / max) * (height - 20);
    const negative = (hour.negative / max) * (height - 20);
    const tone = hour.mean === null ? '#cfd8dc' : hour.mean < -0.05 ? '#ef9a9a' : hour.mean > 0.05 ? '#a5d6a7' : '#b0bec5';
    const title = svg('title', {}, `${clock(hour.hour)}: ${hour.posts} posts, mean ${hour.mean ?? '–'}, ${hour.negative} negative`);
    chart.append(svg('rect', { x: i * barWidth + 1, y: height - 16 - full, width: barWidth - 2, height: full, fill: tone }, title),
      svg('rect', { x: i * barWidth + 1, y: height - 16 - negative, width: barWidth - 2, height: negative, fill: '#c62828',
        class: 'negative', style: 'cursor:pointer',
        onclick: () => openDrilldown(`Negative posts at ${clock(hour.hour)}`, { metric: 'negative', bucket: hour.hour }) }));
    if (i % 6 === 0) chart.append(svg('text', { x: i * barWidth, y: height - 3 }, clock(hour.hour)));
  });
  const posts = hours.reduce((a, h) => a + h.posts, 0);
  const negative = hours.reduce((a, h) => a + h.negative, 0);
  $('#sentiment-chart').replaceChildren(chart, el('div', { class: 'muted',
    text: `${posts} posts, ${negative} negative (red; click for them). Bars are green when the hour was positive on average, red when negative.` }));
}

function renderFirstReply({ today, last_week: lastWeek }) {
  $('#first-reply tbody').replaceChildren(
    el('tr', { dataset: { period: 'today' } }, el('td', { text: 'Today' }),
      el('td', {}, drill(today.count, 'First replied today', { metric: 'first_reply' })),
      el('td', { class: 'p50', text: duration(today.p50) }), el('td', { class: 'p90', text: duration(today.p90) })),
    el('tr', { dataset: { period: 'last_week' } }, el('td', { text: 'Same day last week' }),
      el('td', { text: String(lastWeek.count) }), el('td', { text: duration(lastWeek.p50) }),
      el('td', { text: duration(lastWeek.p90) })));
}

// "2/5" against capacity; over it (capacity lowered since) shows in red.
function loadOf(open, capacity) {
  return el('span', { class: `capacity${capacity !== null && open >= capacity ? ' full' : ''}`,
    text: ` / ${capacity === null ? 'no limit' : capacity}` });
}

function renderAgents(agents) {
  $('#agent-table tbody').replaceChildren(...agents.map((a) => el('tr', { dataset: { id: a.id } },
    el('td', { text: a.name }),
    el('td', { class: `status-${a.status}`, title: a.status_since ? `since ${new Date(a.status_since).toLocaleString()}` : '' },
      a.status, el('span', { class: 'muted', text: a.status_since ? ` ${ago(a.status_since)}` : '' })),
    el('td', { class: 'load' }, drill(a.open, `${a.name}: open load`, { metric: 'agent_open', agent_id: a.id }),
      loadOf(a.open, a.capacity),
      ...a.queues.map((q) => el('div', { class: 'muted', dataset: { queue: q.queue } },
        `${q.queue} ${q.open}`, loadOf(q.open, q.capacity)))),
    el('td', {}, drill(a.pending, `${a.name}: pending`, { metric: 'agent_pending', agent_id: a.id })),
    el('td', {}, drill(a.handled_today, `${a.name}: handled today`, { metric: 'agent_handled', agent_id: a.id })),
    el('td', { text: duration(a.median_handle_seconds) }))));
}

async function change(action, message) {
  try { await action(); toast(message); } catch (error) { toast(error.message); }
  await load();
}

// "Reply to all" and "Resolve all" are bulk actions on the incident's open conversations: a dry run first,
// then a job whose `bulk.progress` shows in the panel, with undo for what is not a sent reply.
function replyToAll(incident) {
  openPicker(null, (macro) => openBulkDialog(`${macro.name}: ${incident.title}`,
    () => ({ kind: 'macro', macro_id: macro.id }), () => ({ incident_id: incident.id })),
  `On the ${incident.counts.active} open conversations of ${incident.title}`);
}

function resolveAll(incident) {
  openBulkDialog(`Resolve all: ${incident.title}`, () => ({ kind: 'status', status: 'resolved' }),
    () => ({ incident_id: incident.id }), { started: () => change(() => api('POST', `/incidents/${incident.id}/resolve`,
      { resolve_conversations: false }), 'Incident resolved; resolving its conversations') });
}

function renderIncidents(incidents) {
  $('#incident-table tbody').replaceChildren(...incidents.map((incident) => {
    const open = incident.status === 'open';
    const rename = el('button', { text: 'Rename', onclick: () => {
      const title = prompt('Title', incident.title);
      if (title) change(() => api('PATCH', `/incidents/${incident.id}`, { title }), 'Renamed');
    } });
    const actions = open ? [rename,
      el('button', { text: 'Resolve', onclick: () => change(() => api('POST', `/incidents/${incident.id}/resolve`,
        { resolve_conversations: false }), 'Incident resolved') }),
      el('button', { class: 'reply-all', text: 'Reply to all with a macro', disabled: !incident.counts.active,
        onclick: () => replyToAll(incident) }),
      el('button', { class: 'primary resolve-all', text: 'Resolve all', onclick: () => (incident.counts.active
        ? resolveAll(incident) : change(() => api('POST', `/incidents/${incident.id}/resolve`,
          { resolve_conversations: false }), 'Incident resolved')) })]
      : [el('button', { text: 'Re-open', onclick: () => change(() => api('PATCH', `/incidents/${incident.id}`,
        { status: 'open' }), 'Re-opened') })];
    return el('tr', { class: `incident-${incident.status}`, dataset: { id: incident.id } },
      el('td', { text: incident.title }),
      el('td', { text: incident.match ? `${incident.match.kind}: ${incident.match.value}` : 'by hand' }),
      el('td', {}, drill(incident.counts.conversations, incident.title, { metric: 'incident', incident_id: incident.id }),
        ` (${incident.counts.active} open)`),
      el('td', { text: incident.status }), el('td', {}, ...actions));
  }));
}

function alert(incident) {
  const box = el('div', { class: 'alert', dataset: { id: incident.id } }, el('strong', { text: 'Spike' }),
    el('span', { text: incident.title }),
    drill(`${incident.counts.conversations} conversations`, incident.title, { metric: 'incident', incident_id: incident.id }),
    el('button', { text: 'Dismiss', onclick: () => box.remove() }));
  $('#alerts').prepend(box);
  toast(`Spike detected: ${incident.title}`);
}

function render(snapshot) {
  $('#generated').textContent = `as of ${new Date(snapshot.generated_at).toLocaleTimeString()}`;
  renderQueues(snapshot.queues);
  renderVolume(snapshot.volume);
  renderSentiment(snapshot.sentiment);
  renderFirstReply(snapshot.first_reply);
  renderAgents(snapshot.agents);
  renderIncidents(snapshot.incidents);
}

async function load() {
  try { render(await api('GET', '/dashboard')); } catch (error) { toast(error.message); }
}

function connect() {
  if (!window.io) { setInterval(load, 10000); return; }  // no socket.io client installed: poll instead
  const socket = window.io({ transports: ['websocket', 'polling'] });
  socket.on('connect', () => {
    socket.emit('watch_dashboard', {}, () => $('#connection').classList.add('live'));
    load();  // catch up on whatever changed while disconnected
  });
  socket.on('disconnect', () => $('#connection').classList.remove('live'));
  socket.on('dashboard.snapshot', render);
  socket.on('incident.detected', (incident) => { alert(incident); load(); });
  socket.on('incident.updated', () => load());
  socket.on('bulk.progress', (state) => {  // the agent's own room, which every socket of theirs joins
    showProgress(state);
    if (!['queued', 'running', 'undoing'].includes(state.state)) load();
  });
}

$('#drilldown-close').addEventListener('click', () => { $('#drilldown').hidden = true; });
$('#new-incident').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const match = form.get('kind') && form.get('value') ? { kind: form.get('kind'), value: form.get('value') } : null;
  change(async () => { await api('POST', '/incidents', { title: form.get('title'), match }); event.target.reset(); },
    'Incident opened');
});
initBulkPanel();
connect();

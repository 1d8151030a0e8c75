// Incidents on the dashboard: spikes detected (or opened by hand), renamed, resolved, and their
// conversations answered or resolved all at once.
import * as incidents from '../../clients/incidents.js';
import { attempt } from '../../lib/api.js';
import { $, el, toast } from '../../lib/dom.js';
import { openBulkDialog } from '../../features/bulk.js';
import { openPicker } from '../../features/macros.js';
import { drill } from './drilldown.js';

let reload = async () => {};

async function change(action, message) {
  await attempt(action, message);
  await reload();
}

const resolve = (incident, message = 'Incident resolved') => change(() => incidents.resolve(incident.id), message);

// "Reply to all" and "Resolve all" are bulk actions on the incident's open conversations: a dry run first,
// then a job whose `bulk.progress` shows in the panel, with undo for what is not a sent reply.
function replyToAll(incident) {
  openPicker(null, (macro) => openBulkDialog(`${macro.name}: ${incident.title}`,
    () => ({ kind: 'macro', macro_id: macro.id }), () => ({ incident_id: incident.id })),
  `On the ${incident.counts.active} open conversations of ${incident.title}`);
}

function resolveAll(incident) {
  openBulkDialog(`Resolve all: ${incident.title}`, () => ({ kind: 'status', status: 'resolved' }),
    () => ({ incident_id: incident.id }),
    { started: () => resolve(incident, 'Incident resolved; resolving its conversations') });
}

function actions(incident) {
  if (incident.status !== 'open') {
    return [el('button', { text: 'Re-open', onclick: () => change(() => incidents.update(incident.id, { status: 'open' }),
      'Re-opened') })];
  }
  return [
    el('button', { text: 'Rename', onclick: () => {
      const title = prompt('Title', incident.title);
      if (title) change(() => incidents.update(incident.id, { title }), 'Renamed');
    } }),
    el('button', { text: 'Resolve', onclick: () => resolve(incident) }),
    el('button', { class: 'reply-all', text: 'Reply to all with a macro', disabled: !incident.counts.active,
      onclick: () => replyToAll(incident) }),
    el('button', { class: 'primary resolve-all', text: 'Resolve all',
      onclick: () => (incident.counts.active ? resolveAll(incident) : resolve(incident)) })];
}

export function renderIncidents(list) {
  $('#incident-table tbody').replaceChildren(...list.map((incident) => el('tr',
    { class: `incident-${incident.status}`, dataset: { id: incident.id } },
    el('td', { text: incident.title }),
    el('td', { text: incident.match ? `${incident.match.kind}: ${incident.match.value}` : 'by hand' }),
    el('td', {}, drill(incident.counts.conversations, incident.title, { metric: 'incident', incident_id: incident.id }),
      ` (${incident.counts.active} open)`),
    el('td', { text: incident.status }), el('td', {}, ...actions(incident)))));
}

// A spike was detected: say so above everything until dismissed.
export function alertSpike(incident) {
  const box = el('div', { class: 'alert', dataset: { id: incident.id } }, el('strong', { text: 'Spike' }),
    el('span', { text: incident.title }),
    drill(`${incident.counts.conversations} conversations`, incident.title, { metric: 'incident', incident_id: incident.id }),
    el('button', { text: 'Dismiss', onclick: () => box.remove() }));
  $('#alerts').prepend(box);
  toast(`Spike detected: ${incident.title}`);
}

// Wire the form that opens an incident by hand; `load()` reloads the dashboard after every change.
export function initIncidents({ load }) {
  reload = load;
  $('#new-incident').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const match = form.get('kind') && form.get('value') ? { kind: form.get('kind'), value: form.get('value') } : null;
    change(async () => { await incidents.create(form.get('title'), match); event.target.reset(); }, 'Incident opened');
  });
}

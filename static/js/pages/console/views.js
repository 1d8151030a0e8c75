// The sidebar's saved views: the agent's and their teams' named filter sets with live counts, opened as a list,
// and the current queue and filters saved as a new one.
import * as views from '../../clients/views.js';
import { attempt } from '../../lib/api.js';
import { $, el } from '../../lib/dom.js';
import { openView } from './list.js';
import { filters, state } from './state.js';

// Counts are read again at most this often however many changes stream in (ms).
const REFRESH_MS = 3000;
let pending = null;

function countText(v) {
  return v.count_capped ? `${v.count - 1}+` : String(v.count);
}

export function renderViews() {
  $('#views').replaceChildren(...state.views.map((v) => el('li', {
    dataset: { view: v.id }, class: state.view && state.view.id === v.id ? 'active' : '' },
  el('button', { type: 'button', class: 'view-open', onclick: () => openView(v),
    title: v.team_queue ? `Shared with ${v.team_queue}` : 'Yours' },
  el('span', { text: v.name }), el('span', { class: 'count view-count', text: countText(v) })))));
}

export async function loadViews() {
  const found = await attempt(() => views.list());
  if (!found) return;
  state.views = found.data;
  renderViews();
}

// Something changed in a queue: read the counts again soon (once, however many changes came meanwhile).
export function viewsChanged() {
  if (pending === null) pending = setTimeout(() => { pending = null; loadViews(); }, REFRESH_MS);
}

// Save the list's queue and filters under a name.
async function saveCurrent(event) {
  event.preventDefault();
  const form = event.target;
  const f = filters();
  const chosen = { queue: state.queue, status: f.status, assignee: f.assignee, channel: f.channel || null,
    tags: f.tag ? [f.tag] : [] };
  const created = await attempt(() => views.create({ name: form.elements.name.value, filters: chosen }), 'View saved');
  if (!created) return;
  form.reset();
  await loadViews();
}

export function initViews() {
  $('#new-view').addEventListener('submit', saveCurrent);
}

// Bulk actions in the console: select conversations (boxes, shift-click ranges, `x`) or all matching the
// filter, dry-run a macro or a change, run it as a job, watch `bulk.progress`, see what was skipped or
// failed and why, and undo it for a few minutes. The dialog and the progress panel also serve the
// dashboard, whose incidents choose their conversations themselves (openBulkDialog, initBulkPanel).
import * as jobs from '../clients/bulk.js';
import * as conversations from '../clients/conversations.js';
import { attempt } from '../lib/api.js';
import { $, el, fill, toast } from '../lib/dom.js';
import { openPicker, renderOutcome } from './macros.js';

const RUNNING = ['queued', 'running', 'undoing'];
const bulk = { picked: new Set(), all: false, lastClicked: null, request: null, which: null, started: null,
               current: null, console: null };

function selection() {
  if (bulk.all) {
    const f = bulk.console.filters();
    const filter = { queue: bulk.console.state.queue, status: f.status };
    if (f.assignee !== 'any') filter.assignee = f.assignee;
    if (f.tag) filter.tag = f.tag;
    if (f.channel) filter.channel = f.channel;
    return { filter };
  }
  return { conversation_ids: [...bulk.picked] };
}

function renderBar() {
  // The bar stays, so "all matching" is one click away; what acts on a selection shows with one.
  $('#bulk-count').textContent = bulk.all ? 'All matching this filter' : bulk.picked.size ? `${bulk.picked.size} selected` : '';
  $('#bulk-clear').hidden = !hasSelection();
  $('.bulk-ops').hidden = !hasSelection();
  for (const box of document.querySelectorAll('#rows .pick')) box.checked = bulk.all || bulk.picked.has(Number(box.dataset.id));
}

// The checkbox at the start of a list row; shift-click picks the range from the last box clicked.
export function pickBox(conversation) {
  return el('input', { type: 'checkbox', class: 'pick', dataset: { id: conversation.id }, 'aria-label': 'Select',
                       checked: bulk.all || bulk.picked.has(conversation.id),
                       onclick: (event) => { event.stopPropagation(); toggle(conversation.id, event.shiftKey); } });
}

function toggle(id, range) {
  bulk.all = false;
  const ids = bulk.console.order();  // the list's order, drawn or not (the list draws only the rows on screen)
  const on = !bulk.picked.has(id);
  const targets = range && bulk.lastClicked !== null
    ? ids.slice(Math.min(ids.indexOf(id), ids.indexOf(bulk.lastClicked)), Math.max(ids.indexOf(id), ids.indexOf(bulk.lastClicked)) + 1)
    : [id];
  for (const target of targets) { if (on) bulk.picked.add(target); else bulk.picked.delete(target); }
  bulk.lastClicked = id;
  renderBar();
}

// `x`: select or unselect the conversation that is open (or highlighted).
export function toggleCurrent() {
  const id = bulk.console.state.selected;
  if (id) toggle(id, false);
}

export function hasSelection() { return bulk.all || bulk.picked.size > 0; }

export function clearSelection() { bulk.all = false; bulk.picked.clear(); renderBar(); }

// ---------- the dry run, then the run

function describeSummary(s) {
  const partial = s.checked < s.total;
  const parts = [`${s.total} conversation${s.total === 1 ? '' : 's'}`
    + `${partial ? ` (the first ${s.checked} checked)` : ''}: ${s.will_change} will change`];
  if (s.unchanged) parts.push(`${s.unchanged} already as asked`);
  parts.push(`${s.vip} VIP customer${s.vip === 1 ? '' : 's'}`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  if (s.failing) parts.push(`${s.failing} will fail`);
  return parts.join(' · ');
}

async function dryRun() {
  const body = { ...bulk.request(), ...bulk.which(), include_locked: $('#bulk-include-locked').checked };
  $('#bulk-run').disabled = true;
  $('#bulk-summary').replaceChildren(el('p', { class: 'meta', text: 'Dry run…' }));
  let summary;
  try { summary = await jobs.dryRun(body); } catch (error) {
    $('#bulk-summary').replaceChildren(el('p', { class: 'error', text: error.message }));
    return;
  }
  fill($('#bulk-summary'),
    el('p', { class: 'summary', text: describeSummary(summary) }),
    summary.locked.length > 0 && el('div', {}, el('strong', { text: 'Another agent is replying to:' }),
      el('ul', {}, summary.locked.map((l) => el('li', { text: `#${l.conversation_id} (${l.agent.name || 'someone'})` })))),
    summary.failures.length > 0 && el('div', {}, el('strong', { text: 'Will fail:' }),
      el('ul', {}, summary.failures.map((f) => el('li', { text: `#${f.conversation_id}: ${f.reason}` })))),
    ...summary.sample.slice(0, 1).map((s) => el('div', { class: 'sample' },
      el('div', { class: 'meta', text: `For example #${s.conversation_id} (${s.author}):` }),
      renderOutcome({ reply: s.reply, changes: s.changes }))));
  $('#bulk-run').disabled = summary.will_change === 0 && summary.checked === summary.total;
}

function openDialog(title, request, { text = false } = {}) {
  openBulkDialog(title, request, selection, { text, started: clearSelection });
}

// The dry run of `request()` on the conversations `which()` names, then Run; `started(bulk)` follows a start.
export function openBulkDialog(title, request, which, { text = false, started = () => {} } = {}) {
  bulk.request = request;
  bulk.which = which;
  bulk.started = started;
  $('#bulk-title').textContent = title;
  $('#bulk-text-label').hidden = !text;
  $('#bulk-summary').replaceChildren();
  $('#bulk-run').disabled = true;
  $('#bulk-dialog').showModal();
  if (text) $('#bulk-text').focus(); else dryRun();
}

async function run() {
  const body = { ...bulk.request(), ...bulk.which(), include_locked: $('#bulk-include-locked').checked };
  let started;
  try { started = await jobs.start(body); } catch (error) { toast(error.message); return; }
  $('#bulk-dialog').close();
  bulk.started(started);
  showProgress(started);
}

// ---------- progress, results, undo

// Whether a bulk action is still to start, running or being undone.
export function isRunning(job) { return RUNNING.includes(job.state); }

// What the action did, or (once undoing) what is being put back: a sent reply cannot be unsent, so it says so.
const SENT = 'send the reply';
function undoWords(state) {
  if (!['undoing', 'undone'].includes(state.state) || !state.actions.includes(SENT)) return state.actions.join(', ');
  const undone = state.actions.filter((action) => action !== SENT);
  return `${undone.join(', ') || 'nothing'} (the replies already sent stay sent)`;
}

export function showProgress(state) {
  if (bulk.current && state.id < bulk.current.id) return;
  bulk.current = state;
  const panel = $('#bulk-progress');
  panel.hidden = false;
  panel.dataset.state = state.state;
  const verb = { queued: 'Waiting to start', running: 'Working', finished: 'Finished', failed: 'Stopped',
                 undoing: 'Undoing', undone: 'Undone' }[state.state];
  $('#bulk-progress-text').textContent = `${verb}: ${undoWords(state)} · ${state.processed} of ${state.total}`
    + ` · done ${state.done}, skipped ${state.skipped}, failed ${state.failed}${state.error ? ` · ${state.error}` : ''}`;
  $('#bulk-progress-bar').max = state.total || 1;
  $('#bulk-progress-bar').value = state.processed;
  $('#bulk-undo').hidden = !state.undoable;
  $('#bulk-details').hidden = !(state.skipped || state.failed);
}

async function showProblems() {
  const id = bulk.current.id;
  const lists = await Promise.all(['failed', 'skipped'].map((result) =>
    jobs.items(id, result, 200)));
  $('#bulk-problems').replaceChildren(...lists.flatMap((list) => list.data).map((item) =>
    el('li', { text: `#${item.conversation_id} ${item.result}: ${item.reason}` })));
}

async function undo() {
  try { showProgress(await jobs.undo(bulk.current.id)); } catch (error) { toast(error.message); }
}

// Wire the bar, the dialog and the panel; `app` gives the console's state, filters and order() (the list's ids).
export async function initBulk(app) {
  bulk.console = app;
  renderBar();
  $('#bulk-all').addEventListener('click', () => {
    if (app.state.search) { toast('"All matching" works on a queue\'s list; leave the search first'); return; }
    bulk.all = true;
    renderBar();
  });
  $('#bulk-clear').addEventListener('click', clearSelection);
  $('#bulk-macro').addEventListener('click', pickMacro);
  $('#bulk-reply').addEventListener('click', () => openDialog('Reply to each', () => ({ kind: 'reply', text: $('#bulk-text').value }),
    { text: true }));
  $('#bulk-text').addEventListener('change', dryRun);
  $('#bulk-assign').addEventListener('click', () => openDialog('Assign to me', () => ({ kind: 'assign', assignee: 'me' })));
  $('#bulk-merge').addEventListener('click', mergeIntoOpen);
  $('#bulk-tag-add').addEventListener('click', () => {
    const tag = $('#bulk-tag').value.trim();
    if (tag) openDialog(`Tag ${tag}`, () => ({ kind: 'tags', add: [tag] }));
  });
  $('#bulk-move').addEventListener('change', (event) => {
    const queue = event.target.value;
    event.target.value = '';
    if (queue) openDialog(`Move to ${queue}`, () => ({ kind: 'move', queue }));
  });
  $('#bulk-status').addEventListener('change', (event) => {
    const status = event.target.value;
    event.target.value = '';
    if (status) openDialog(`Set status ${status}`, () => ({ kind: 'status', status }));
  });
  await initBulkPanel();
}

// Merge the picked conversations (duplicates) into the open one; each merge can be undone from its conversation.
async function mergeIntoOpen() {
  const into = bulk.console.state.selected;
  const ids = [...bulk.picked].filter((id) => id !== into);
  if (!into || bulk.all || ids.length === 0) { toast('Open the conversation to keep, and tick its duplicates'); return; }
  if (!confirm(`Merge ${ids.length} conversation(s) into #${into}?`)) return;
  const merged = await attempt(() => conversations.mergeMany(ids, into));
  if (!merged) return;
  clearSelection();
  toast(`Merged ${merged.data.length} into #${into}`);
  await bulk.console.reopen(into);
}

// Wire the dialog and the progress panel, and show the latest bulk action if it still runs or can be undone.
export async function initBulkPanel() {
  $('#bulk-check').addEventListener('click', dryRun);
  $('#bulk-include-locked').addEventListener('change', dryRun);
  $('#bulk-run').addEventListener('click', run);
  $('#bulk-cancel').addEventListener('click', () => $('#bulk-dialog').close());
  $('#bulk-details').addEventListener('click', showProblems);
  $('#bulk-undo').addEventListener('click', undo);
  $('#bulk-dismiss').addEventListener('click', () => { $('#bulk-progress').hidden = true; });
  try {  // after a reload: the latest bulk action, if it is still running or can be undone
    const latest = (await jobs.recent()).data[0];
    if (latest && (isRunning(latest) || latest.undoable)) showProgress(latest);
  } catch (error) { toast(error.message); }
}

// Fill the "Move to…" list once the queues are known.
export function setQueues(queues) {
  $('#bulk-move').replaceChildren(el('option', { value: '', text: 'Move to…' }),
    ...queues.map((q) => el('option', { value: q.slug, text: q.name })));
}

export function pickMacro() {
  openPicker(null, (macro) => openDialog(`Macro: ${macro.name}`, () => ({ kind: 'macro', macro_id: macro.id })));
}

// The admin page's retention policy: start the job and follow its progress until it ends.
import * as retention from '../clients/admin/retention.js';
import { attempt } from '../lib/api.js';
import { $ } from '../lib/dom.js';

// How often the page asks for the job's progress while it runs.
const POLL_MS = 1000;

function show(job) {
  const p = job.progress;
  const done = job.result ? `done: ${job.result.conversations} conversations, ${job.result.messages} messages` : '';
  $('#retention-status').textContent = `${job.status}${p ? ` · ${p.done} of ${p.total}` : ''}${done ? ` · ${done}` : ''}`;
}

async function follow(id) {
  const job = await attempt(() => retention.get(id));
  if (!job) return;
  show(job);
  if (!['finished', 'failed', 'canceled', 'stopped'].includes(job.status)) setTimeout(() => follow(id), POLL_MS);
}

$('#retention').addEventListener('submit', async (event) => {
  event.preventDefault();
  const days = Number($('#retention-days').value);
  const mode = $('#retention-mode').value;
  if (!confirm(`${mode === 'delete' ? 'Delete the messages of' : 'Redact'} every conversation closed more than ${days} days ago?`)) return;
  const job = await attempt(() => retention.start(days, mode));
  if (job) { show(job); follow(job.id); }
});

// The admin page's classifier section: trained versions with their held-out figures, and training from an
// admin's labelled history (a .csv or .jsonl file, its labels mapped to queues) through the promotion gate.
import * as classifier from '../clients/admin/classifier.js';
import { attempt } from '../lib/api.js';
import { $, el } from '../lib/dom.js';

const figure = (value, digits = 3) => (typeof value === 'number' ? value.toFixed(digits) : '-');

function versionRow(version) {
  const metrics = version.metrics || {};
  return el('tr', { dataset: { version: version.version } },
    el('td', { text: version.version }), el('td', { text: version.active ? 'active' : '' }),
    el('td', { text: version.source }), el('td', { text: String(version.training_size) }),
    el('td', { text: version.features }),
    el('td', { text: figure(metrics.accuracy) }), el('td', { text: figure(metrics.ece) }),
    el('td', { text: (metrics.never_predicted || []).join(', ') || 'none' }),
    el('td', { text: version.decision }));
}

async function load() {
  const list = await attempt(() => classifier.versions());
  if (!list) return;
  $('#model-versions tbody').replaceChildren(...list.data.map(versionRow));
  // A feature set this installation cannot train stays listed, marked, and cannot be chosen.
  for (const option of $('#train-upload').elements.features.options) {
    const offered = list.features[option.value];
    option.disabled = !offered || !offered.available;
    if (option.disabled && !option.textContent.endsWith('(not installed)')) option.textContent += ' (not installed)';
  }
}

// "Billing issue = billing", one a line; blank lines are skipped.
function mapping(text) {
  return Object.fromEntries(text.split('\n').map((line) => line.split('=').map((part) => part.trim()))
    .filter((parts) => parts.length === 2 && parts[0] && parts[1]));
}

$('#train-upload').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const file = form.elements.history.files[0];
  if (!file) return;
  const body = { file_name: file.name, content: await file.text(), mapping: mapping(form.elements.mapping.value),
    create_queues: form.elements.create_queues.checked, all: form.elements.all.checked,
    force: form.elements.force.checked, features: form.elements.features.value };
  const accepted = await attempt(() => classifier.train(body));
  if (!accepted) return;
  const queues = Object.entries(accepted.labels).map(([queue, rows]) => `${queue} ${rows}`).join(', ');
  $('#train-status').textContent = `Training on ${accepted.rows} rows (${queues}) with ${accepted.features} features`
    + `${accepted.new_queues.length ? `; new queues: ${accepted.new_queues.join(', ')}` : ''}.`
    + ' The new version appears below when it is trained.';
  form.reset();
});
$('#refresh-versions').addEventListener('click', load);
load();

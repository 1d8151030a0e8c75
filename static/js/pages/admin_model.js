// The routing page's model: trained versions with their held-out figures, which is active, promote and roll back,
// training from an admin's labelled history (a .csv or .jsonl file, its labels mapped to queues) through the
// promotion gate, coverage by confidence threshold, and accuracy over time (per version, and live over recent periods).
import * as classifier from '../clients/admin/classifier.js';
import { attempt } from '../lib/api.js';
import { $, el, fill, toast } from '../lib/dom.js';

const PERIODS = [1, 7, 30, 90]; // days of live accuracy shown
const SVG = 'http://www.w3.org/2000/svg';
const percent = (value) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '–');
const figure = (value) => (typeof value === 'number' ? value.toFixed(3) : '–');
const when = (iso) => el('time', { datetime: iso, title: new Date(iso).toLocaleString(), text: new Date(iso).toLocaleDateString() });

async function promote(version) {
  try {
    await classifier.promote(version);
  } catch (error) {
    // The gate refused it (it scores worse than the active one): the admin may overrule it, knowingly.
    if (error.code !== 'not_promoted' || !window.confirm(`${error.message}\nMake ${version} active anyway?`)) {
      toast(error.message);
      return;
    }
    if (!await attempt(() => classifier.promote(version, true))) return;
  }
  $('#model-status').textContent = `${version} is now active.`;
  await load();
}

function versionRow(version) {
  const m = version.metrics || {};
  return el('tr', { dataset: { version: version.version }, class: version.active ? 'active' : '' },
    el('th', { scope: 'row', text: version.version }), el('td', {}, when(version.trained_at)),
    el('td', { text: version.source }), el('td', { text: String(version.training_size) }),
    el('td', { text: version.features }),
    el('td', { text: percent(m.accuracy) }), el('td', { text: figure(m.macro_f1) }), el('td', { text: figure(m.ece) }),
    el('td', { text: (m.never_predicted || []).join(', ') || 'none' }),
    el('td', { text: version.active ? 'active' : version.decision }),
    el('td', {}, version.active ? '' : el('button', { type: 'button', text: 'Promote', 'aria-label': `Promote ${version.version}`,
      onclick: () => promote(version.version) })));
}

function chart(versions) {
  const points = versions.filter((v) => typeof v.metrics?.accuracy === 'number').reverse();
  if (points.length < 2) return el('p', { class: 'meta', text: 'The chart needs two trained versions.' });
  const low = Math.min(...points.map((v) => v.metrics.accuracy), 0.5);
  const x = (i) => 30 + (i * 560) / (points.length - 1);
  const y = (a) => 10 + (1 - (a - low) / (1 - low || 1)) * 100;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 620 140');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Held-out accuracy by version, oldest first: ${points.map((v) => `${v.version} ${percent(v.metrics.accuracy)}`).join(', ')}`);
  const node = (tag, attrs, text) => {
    const child = document.createElementNS(SVG, tag);
    Object.entries(attrs).forEach(([k, v]) => child.setAttribute(k, v));
    if (text) child.textContent = text;
    svg.append(child);
  };
  node('line', { class: 'axis', x1: 30, x2: 590, y1: 110, y2: 110 });
  node('text', { x: 0, y: 14 }, '100%');
  node('text', { x: 0, y: 112 }, percent(low));
  node('polyline', { class: 'line', points: points.map((v, i) => `${x(i)},${y(v.metrics.accuracy)}`).join(' ') });
  points.forEach((v, i) => {
    node('circle', { class: 'dot', cx: x(i), cy: y(v.metrics.accuracy), r: 3 });
    node('text', { x: x(i) - 20, y: 128 }, new Date(v.trained_at).toLocaleDateString());
  });
  return svg;
}

function coverageRows(active) {
  const coverage = active?.metrics?.coverage || [];
  if (!coverage.length) return [el('tr', {}, el('td', { colspan: 3, text: 'No coverage figures stored for the active version.' }))];
  return coverage.map((c) => el('tr', {}, el('td', { text: c.threshold.toFixed(2) }), el('td', { text: percent(c.coverage) }),
    el('td', { text: percent(c.accuracy) })));
}

function accuracyRow(days, report) {
  return el('tr', {}, el('th', { scope: 'row', text: days === 1 ? 'day' : `${days} days` }),
    el('td', { text: String(report.total) }), el('td', { text: `${percent(report.accuracy)} (${report.correct})` }),
    el('td', { text: String(report.corrected) }));
}

let loads = 0;  // an answer to an older load (a refresh clicked twice, a promote meanwhile) is dropped

async function load() {
  const mine = ++loads;
  const list = await attempt(() => classifier.versions());
  if (!list || mine !== loads) return;
  const active = list.data.find((v) => v.active);
  $('#model-active').textContent = active
    ? `Active: ${active.version}, trained ${new Date(active.trained_at).toLocaleString()} on ${active.training_size} rows.`
    : 'No version is active: rules and @-mentions route, the rest waits in triage.';
  $('#model-table tbody').replaceChildren(...(list.data.length ? list.data.map(versionRow)
    : [el('tr', {}, el('td', { colspan: 11, text: 'No version trained yet.' }))]));
  offerFeatures(list.features);
  $('#model-coverage tbody').replaceChildren(...coverageRows(active));
  fill($('#model-chart'), chart(list.data));
  const reports = await Promise.all(PERIODS.map((days) => attempt(() => classifier.accuracy(days))));
  if (mine !== loads) return;
  $('#model-accuracy tbody').replaceChildren(...PERIODS.map((days, i) => reports[i] && accuracyRow(days, reports[i])).filter(Boolean));
}

// A feature set this installation cannot train stays listed, marked, and cannot be chosen.
function offerFeatures(features) {
  for (const option of $('#train-upload').elements.features.options) {
    const offered = features[option.value];
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
    + ' The new version appears in the table above when it is trained.';
  form.reset();
});
$('#refresh-versions').addEventListener('click', load);
$('#model-rollback').addEventListener('click', async () => {
  const now = await attempt(() => classifier.rollback());
  if (now) {
    $('#model-status').textContent = `Rolled back: ${now.version} is active again.`;
    await load();
  }
});
load();

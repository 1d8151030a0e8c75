// The routing page's priority weights: one number field per weight (ranges and meanings from the API); Save
// first shows which unresolved conversations would change priority level, and saves on a second press.
import * as weightsApi from '../clients/admin/priority_weights.js';
import { previewBeforeSave } from '../features/what_if.js';
import { $, el, fill, toast } from '../lib/dom.js';

const form = $('#weights-form');
let doc = null;

const label = (name) => name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

function field(name, spec) {
  const input = el('input', { name, type: 'number', min: spec.min, max: spec.max, step: spec.integer ? 1 : 'any',
    value: doc.values[name], 'aria-describedby': `weight-${name}-meaning weight-${name}-error` });
  return el('label', {}, label(name), input,
    el('span', { class: 'meta', id: `weight-${name}-meaning`, text: `${spec.meaning} (default ${doc.defaults[name]})` }),
    el('span', { class: 'field-error', id: `weight-${name}-error` }));
}

// A blank field goes back to its default (the API's rule for a weight left out).
function values() {
  return Object.fromEntries(Object.keys(doc.fields).map((name) => [name, form.elements[name].value])
    .filter(([, value]) => value !== '').map(([name, value]) => [name, Number(value)]));
}

function clearErrors() {
  form.querySelectorAll('.field-error').forEach((node) => { node.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
}

// The API names the weight first ("vip_points: must be from 0 to 1000"): the message goes beside it.
function showError(message) {
  const name = message.split(':')[0];
  const input = form.elements[name];
  if (input instanceof HTMLInputElement) {
    $(`#weight-${name}-error`).textContent = message.slice(name.length + 1).trim();
    input.setAttribute('aria-invalid', 'true');
  } else $('#weights-error').textContent = message;
}

const example = (e) => el('li', {}, el('a', { href: `/conversations/${e.conversation_id}`,
  text: `#${e.conversation_id} ${e.subject || '(no subject)'}` }), ` (score ${e.score_before} → ${e.score_after})`);

async function preview() {
  clearErrors();
  $('#weights-preview').textContent = 'Scoring the open conversations…';
  try {
    const report = await weightsApi.preview(values());
    fill($('#weights-preview'),
      el('p', { class: 'summary', text: `Of ${report.conversations} unresolved conversations`
        + `${report.limited ? ` (the newest ${report.limit}; there are more)` : ''}, ${report.would_change} would `
        + `change priority level (${report.raised} raised, ${report.lowered} lowered).` }),
      report.changes.length > 0 && el('ul', { class: 'what-if', 'aria-label': 'Priority changes' },
        ...report.changes.map((c) => el('li', {}, `${c.from} → ${c.to}: ${c.count}`, el('ul', {}, ...c.examples.map(example))))),
      el('p', { class: 'meta', text: 'Nothing is saved yet: press the button again to save the weights.' }));
    return true;
  } catch (error) {
    $('#weights-preview').textContent = '';
    showError(error.message);
    return false;
  }
}

async function save() {
  clearErrors();
  try {
    doc = await weightsApi.save(values());
    toast('Priority weights saved');
    return true;
  } catch (error) { showError(error.message); return false; }
}

const gate = previewBeforeSave({ form, button: $('#weights-save'), draft: values, preview, save,
  labels: { save: 'Save weights', confirm: 'Confirm: save weights' } });

$('#weights-defaults').addEventListener('click', () => {
  for (const name of Object.keys(doc.fields)) form.elements[name].value = doc.defaults[name];
  gate.changed();
});

weightsApi.get().then((loaded) => {
  doc = loaded;
  $('#weights-fields').replaceChildren(...Object.entries(doc.fields).map(([name, spec]) => field(name, spec)));
});

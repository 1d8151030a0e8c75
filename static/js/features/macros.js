// The macro picker: type a few letters, see the rendered reply and every change, apply with Enter.
// On an open conversation it previews and applies there; with conversations selected it hands the
// chosen macro to the bulk dialog instead.
import * as macros from '../clients/macros.js';
import { $, el, exactTime, toast } from '../lib/dom.js';

const picker = { macros: [], index: 0, preview: null, target: null, onChosen: null, timer: null };

// A changed field's new value as people read it: lists joined, times in local words (not ISO strings).
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
function shown(value) {
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'string' && ISO_TIME.test(value)) return exactTime(value);
  return value;
}

function describeChange(change) {
  const after = Object.entries(change.after).map(([key, value]) => `${key.replace(/_/g, ' ')}: ${shown(value)}`);
  if (change.action === 'reply') return 'Send the reply above';
  if (change.action === 'note') return `Internal note: ${change.after.note}`;
  return `${change.description} (${after.join('; ')})`;
}

// The rendered reply and the list of changes, shared by the picker and the bulk dialog's sample.
export function renderOutcome(result) {
  const reply = result.reply == null ? null : el('div', {},
    el('div', { class: 'meta', text: result.sends_reply === false ? 'Reply text (inserted in the composer, not sent):'
      : result.reply_limit ? `Reply (${result.reply_length} of ${result.reply_limit} characters):` : 'Reply:' }),
    el('div', { class: 'reply', text: result.reply }));
  const changes = result.changes.filter((c) => c.action !== 'reply' || result.reply == null);
  return el('div', {}, reply,
    el('ul', { class: 'changes' }, changes.length ? changes.map((c) => el('li', { text: describeChange(c) }))
      : el('li', { text: 'Nothing would change.' })));
}

function renderList() {
  $('#macro-list').replaceChildren(...picker.macros.map((macro, index) => el('li', {
    role: 'option', class: index === picker.index ? 'active' : '', dataset: { id: macro.id },
    onclick: () => { picker.index = index; renderList(); showPreview(); } },
  el('strong', { text: macro.name }),
  el('span', { class: 'meta', text: `${macro.scope}${macro.queue ? ` · ${macro.queue}` : ''} · used ${macro.usage.mine}×` }))));
  if (!picker.macros.length) $('#macro-list').replaceChildren(el('li', { class: 'meta', text: 'No macro matches.' }));
}

async function search() {
  const q = $('#macro-search').value.trim();
  try {
    picker.macros = (await macros.search(q)).data;
  } catch (error) { toast(error.message); return; }
  picker.index = 0;
  renderList();
  showPreview();
}

async function showPreview() {
  const macro = picker.macros[picker.index];
  picker.preview = null;
  $('#macro-apply').disabled = !macro;
  if (!macro) { $('#macro-preview').replaceChildren(); return; }
  if (!picker.target) {  // bulk: the dry run shows what it would do to each conversation
    $('#macro-preview').replaceChildren(el('p', { text: macro.description || macro.name }),
      el('p', { class: 'meta', text: `Enter continues to the dry run (${$('#macro-target').textContent.toLowerCase()}).` }));
    return;
  }
  $('#macro-preview').replaceChildren(el('p', { class: 'meta', text: 'Previewing…' }));
  try {
    picker.preview = await macros.preview(macro.id, picker.target);
    if (picker.macros[picker.index] !== macro) return;
    $('#macro-preview').replaceChildren(el('p', { text: macro.description }), renderOutcome(picker.preview));
  } catch (error) {
    $('#macro-preview').replaceChildren(el('p', { class: 'error', text: error.message }));
    $('#macro-apply').disabled = true;
  }
}

async function apply() {
  const macro = picker.macros[picker.index];
  if (!macro || $('#macro-apply').disabled) return;
  if (!picker.target) { close(); picker.onChosen(macro); return; }
  try {
    const result = await macros.apply(macro.id, picker.target);
    close();
    picker.onChosen(macro, result);
  } catch (error) {
    $('#macro-preview').replaceChildren(el('p', { class: 'error', text: error.message }));
  }
}

function close() { $('#macro-picker').close(); }

// Open the picker for one conversation (target = its id) or for a bulk action (target = null), whose
// conversations `label` names.
export function openPicker(target, onChosen, label = 'On the selected conversations') {
  picker.target = target;
  picker.onChosen = onChosen;
  $('#macro-target').textContent = target ? `On conversation #${target}` : label;
  $('#macro-apply').textContent = target ? 'Apply' : 'Dry run…';
  $('#macro-search').value = '';
  $('#macro-picker').showModal();
  $('#macro-search').focus();
  search();
}

$('#macro-search').addEventListener('input', () => { clearTimeout(picker.timer); picker.timer = setTimeout(search, 150); });
$('#macro-picker').addEventListener('keydown', (event) => {
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const step = event.key === 'ArrowDown' ? 1 : -1;
    picker.index = Math.min(Math.max(picker.index + step, 0), Math.max(picker.macros.length - 1, 0));
    renderList();
    showPreview();
  } else if (event.key === 'Enter') {
    event.preventDefault();
    apply();
  }
});
$('#macro-apply').addEventListener('click', apply);
$('#macro-close').addEventListener('click', close);

// The admin page's macros: list, create and edit (template and actions checked by the server), delete,
// export to a JSON file and import one back.
import { api } from './api.js';
import { el, toast } from './dom.js';

const $ = (selector) => document.querySelector(selector);
const form = $('#macro-form');
let macros = [];

function edit(macro) {
  form.elements.id.value = macro ? macro.id : '';
  form.elements.name.value = macro ? macro.name : '';
  form.elements.description.value = macro ? macro.description : '';
  form.elements.scope.value = macro ? macro.scope : 'global';
  form.elements.queue.value = macro && macro.queue ? macro.queue : '';
  form.elements.template.value = macro ? macro.template : '';
  form.elements.actions.value = JSON.stringify(macro ? macro.actions : [{ type: 'reply' }], null, 1);
  form.elements.name.focus();
}

function macroRow(macro) {
  return el('tr', { dataset: { id: macro.id } }, el('td', { text: macro.name, title: macro.description }),
    el('td', { text: macro.scope === 'team' ? `team: ${macro.queue}` : macro.scope }),
    el('td', { text: macro.actions.map((a) => a.type).join(', ') }), el('td', { text: macro.usage.total }),
    el('td', {}, el('button', { text: 'edit', onclick: () => edit(macro) }), ' ',
      el('button', { text: 'delete', onclick: () => confirm(`Delete the macro "${macro.name}"?`) && remove(macro) })));
}

async function load() {
  const [list, queues] = await Promise.all([api('GET', '/macros?manage=1'), api('GET', '/queues')]);
  macros = list.data;
  $('#macros-admin tbody').replaceChildren(...macros.map(macroRow));
  const chosen = form.elements.queue.value;
  form.elements.queue.replaceChildren(el('option', { value: '', text: '(team macros only)' }),
    ...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  form.elements.queue.value = chosen;
}

async function remove(macro) {
  try { await api('DELETE', `/macros/${macro.id}`); toast('Macro deleted'); } catch (error) { toast(error.message); }
  await load();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  let actions;
  try { actions = JSON.parse(form.elements.actions.value || '[]'); } catch {
    toast('Actions: not valid JSON'); return;
  }
  const body = { name: form.elements.name.value, description: form.elements.description.value,
                 scope: form.elements.scope.value, queue: form.elements.queue.value || null,
                 template: form.elements.template.value, actions };
  const id = form.elements.id.value;
  try {
    const saved = await api(id ? 'PATCH' : 'POST', id ? `/macros/${id}` : '/macros', body);
    form.elements.id.value = saved.id;
    toast('Macro saved');
  } catch (error) { toast(error.message); return; }
  await load();
});

$('#macro-new').addEventListener('click', () => edit(null));
$('#macro-export').addEventListener('click', async () => {
  const data = await api('GET', '/macros/export');
  const link = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
                         download: 'switchboard-macros.json' });
  link.click();
  URL.revokeObjectURL(link.href);
});
$('#macro-import').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const counts = await api('POST', '/macros/import', JSON.parse(await file.text()));
    toast(`Imported: ${counts.created} new, ${counts.updated} updated`);
  } catch (error) { toast(error.message); }
  event.target.value = '';
  await load();
});
load();

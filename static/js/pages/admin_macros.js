// The admin page's macros: list, create and edit (template and actions checked by the server), delete,
// export to a JSON file and import one back.
import * as macroLibrary from '../clients/macros.js';
import * as agentAdmin from '../clients/admin/agents.js';
import { list as listQueues } from '../clients/queues.js';
import { macroActions } from '../features/macro_actions.js';
import { attempt } from '../lib/api.js';
import { $, el, toast } from '../lib/dom.js';

const form = $('#macro-form');
let macros = [];
let choices = { queues: [], agents: [] };
const actions = macroActions($('#macro-actions'), () => choices);
actions.show([{ type: 'reply' }, { type: 'status', status: 'resolved' }]);

function edit(macro) {
  form.elements.id.value = macro ? macro.id : '';
  form.elements.name.value = macro ? macro.name : '';
  form.elements.description.value = macro ? macro.description : '';
  form.elements.scope.value = macro ? macro.scope : 'global';
  form.elements.queue.value = macro && macro.queue ? macro.queue : '';
  form.elements.template.value = macro ? macro.template : '';
  actions.show(macro ? macro.actions : [{ type: 'reply' }]);
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
  const [list, queues, agents] = await Promise.all([macroLibrary.manageList(), listQueues(), agentAdmin.list()]);
  macros = list.data;
  choices = { queues: queues.data.map((q) => [q.slug, q.name]),
              agents: agents.data.filter((a) => a.active).map((a) => [a.id, a.name]) };
  $('#macros-admin tbody').replaceChildren(...macros.map(macroRow));
  const chosen = form.elements.queue.value;
  form.elements.queue.replaceChildren(el('option', { value: '', text: '(team macros only)' }),
    ...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
  form.elements.queue.value = chosen;
}

async function remove(macro) {
  await attempt(() => macroLibrary.remove(macro.id), 'Macro deleted');
  await load();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { name: form.elements.name.value, description: form.elements.description.value,
                 scope: form.elements.scope.value, queue: form.elements.queue.value || null,
                 template: form.elements.template.value, actions: actions.read() };
  const id = form.elements.id.value;
  try {
    const saved = await (id ? macroLibrary.update(id, body) : macroLibrary.create(body));
    form.elements.id.value = saved.id;
    toast('Macro saved');
  } catch (error) { toast(error.message); return; }
  await load();
});

$('#macro-new').addEventListener('click', () => edit(null));
$('#macro-add-action').addEventListener('click', () => actions.add());
$('#macro-export').addEventListener('click', async () => {
  const data = await macroLibrary.exportAll();
  const link = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
                         download: 'switchboard-macros.json' });
  link.click();
  URL.revokeObjectURL(link.href);
});
$('#macro-import').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const counts = await macroLibrary.importAll(JSON.parse(await file.text()));
    toast(`Imported: ${counts.created} new, ${counts.updated} updated`);
  } catch (error) { toast(error.message); }
  event.target.value = '';
  await load();
});
load();

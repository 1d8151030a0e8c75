// The customer's person in the customer panel: their other channels, the proposed links with their evidence
// (confirm, dismiss, undo), and the custom fields the team keeps on them.
import * as people from '../../clients/people.js';
import { attempt } from '../../lib/api.js';
import { $, el, fill } from '../../lib/dom.js';
import { me, state } from './state.js';

let reload = async () => {};

const who = (author) => `@${author.handle} on ${author.channel}`;

function linkItem(link) {
  const other = link.authors.find((a) => a.id !== state.author.id) || link.authors[1];
  const evidence = link.evidence.map((e) => e.detail).join('; ');
  const act = (label, call) => el('button', { type: 'button', class: `link-${label.split(' ')[0].toLowerCase()}`,
    text: label, onclick: async () => { if (await attempt(() => call(link.id))) await reload(); } });
  return el('li', { dataset: { id: link.id } },
    el('div', { text: `${link.status === 'proposed' ? 'Maybe also' : 'Linked to'} ${who(other)}` }),
    el('div', { class: 'meta', text: evidence }),
    ...(link.status === 'proposed'
      ? [act('Same person', people.confirmLink), ' ', act('Not them', people.dismissLink)]
      : [act('Undo link', people.undoLink)]));
}

function fieldItem(name, value) {
  const remove = el('button', { type: 'button', class: 'remove-field', text: 'remove',
    'aria-label': `Remove field ${name}`, onclick: () => saveFields({ [name]: null }) });
  return el('li', {}, el('span', { class: 'field-name', text: `${name}: ` }),
    el('span', { class: 'field-value', text: String(value) }), ' ', remove);
}

// Show the person part of the panel for state.author (whose person and links the API sent with it).
export function renderPerson() {
  const a = state.author;
  const others = (a.person ? a.person.authors : []).filter((x) => x.id !== a.id);
  fill($('#cust-person'), others.length > 0 && el('div', { text: `Also ${others.map(who).join(', ')}` }),
    a.person && a.person.tags.length > 0 && el('div', { text: `Tags anywhere: ${a.person.tags.join(', ')}` }));
  $('#cust-links').replaceChildren(...a.links.map(linkItem));
  const fields = a.person ? a.person.fields : {};
  $('#cust-fields').replaceChildren(...Object.entries(fields).map(([name, value]) => fieldItem(name, value)));
  fill($('#cust-privacy'),
    me.role !== 'agent' && el('button', { type: 'button', id: 'cust-export', text: 'Export data', onclick: exportData }),
    me.role === 'admin' && el('button', { type: 'button', id: 'cust-erase', text: 'Erase…', onclick: erase }));
}

// Save everything held about the customer as a JSON file.
async function exportData() {
  const data = await attempt(() => people.exportPerson(state.author.id));
  if (!data) return;
  const link = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
    download: `customer-${state.author.id}.json` });
  link.click();
  URL.revokeObjectURL(link.href);
}

// Erase the customer everywhere, after the admin confirms (it cannot be undone).
async function erase() {
  if (!confirm('Erase this customer on every channel: their posts, notes, profiles and fields? This cannot be undone.')) return;
  if (await attempt(() => people.erasePerson(state.author.id))) await reload();
}

async function saveFields(changes) {
  if (await attempt(() => people.setFields(state.author.id, changes))) await reload();
}

// Wire the field and link forms; `reloadCustomer()` reads the customer again after a change.
export function initPerson({ reloadCustomer }) {
  reload = reloadCustomer;
  $('#cust-field-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('#cust-field-name').value.trim().toLowerCase();
    if (!name) return;
    await saveFields({ [name]: $('#cust-field-value').value });
    $('#cust-field-name').value = '';
    $('#cust-field-value').value = '';
  });
  $('#cust-link-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const other = Number($('#cust-link-id').value);
    if (!other || !await attempt(() => people.link(state.author.id, other, true))) return;
    $('#cust-link-id').value = '';
    await reload();
  });
}

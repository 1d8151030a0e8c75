// The customer beside the open conversation: who they are, their tags, the agents' notes, their history.
import * as authors from '../../clients/authors.js';
import { attempt } from '../../lib/api.js';
import { $, ago, commaList, el, fill, followers } from '../../lib/dom.js';
import { initPerson, renderPerson } from './person.js';
import { me, state } from './state.js';

let open = () => {};

// The server lets a note's writer (or an admin) change it; offer the buttons only then.
const mayChange = (note) => me.role === 'admin' || (note.agent && note.agent.id === me.id);

function renderCustomer() {
  const a = state.author;
  $('#customer').hidden = false;
  $('#cust-name').textContent = a.name || `@${a.handle}`;
  fill($('#cust-meta'),
    el('div', { text: `@${a.handle} on ${a.channel}` }),
    el('div', { text: `${followers(a.followers)} followers${a.verified ? ' · verified ✓' : ''}` }),
    a.trust_level != null && el('div', { text: `forum trust level ${a.trust_level}` }),
    a.email && el('div', { text: a.email }));
  $('#cust-tags').value = a.tags.join(', ');
  $('#cust-notes').replaceChildren(...a.notes.map((note) => el('li', { dataset: { id: note.id } },
    el('div', { class: 'note-text', text: note.text }),
    el('div', { class: 'meta', text: `${note.agent ? note.agent.name : '?'} · ${ago(note.created_at)}` },
      ...(mayChange(note) ? [
        ' ', el('button', { class: 'edit-note', onclick: () => editNote(note), text: 'edit' }),
        ' ', el('button', { class: 'delete-note', onclick: () => deleteNote(note), text: 'delete' })] : [])))));
  $('#cust-history').replaceChildren(...a.conversations.map((c) => el('li', { onclick: () => open(c.id) },
    `#${c.id} ${c.subject || '(no subject)'} · ${c.channel} · ${c.status} · ${c.queue || 'routing'} · `
    + ago(c.last_message_at))));
  renderPerson();
}

// Load and show the customer with this id.
export async function showCustomer(id) {
  state.author = await attempt(() => authors.get(id));
  if (state.author) renderCustomer();
}

// Read the customer again after a change to their notes.
async function reloadCustomer() {
  state.author = await authors.get(state.author.id);
  renderCustomer();
}

async function editNote(note) {
  const text = prompt('Edit note', note.text);
  if (text === null) return;
  await attempt(() => authors.editNote(state.author.id, note.id, text));
  await reloadCustomer();
}

async function deleteNote(note) {
  if (!confirm('Delete this note?')) return;
  await attempt(() => authors.deleteNote(state.author.id, note.id));
  await reloadCustomer();
}

// Wire the tags and the note form; `openConversation(id)` opens one from their history.
export function initCustomer({ openConversation }) {
  open = openConversation;
  initPerson({ reloadCustomer });
  $('#cust-tags').addEventListener('change', async (event) => {
    const author = await attempt(() => authors.update(state.author.id, { tags: commaList(event.target.value) }));
    if (author) { state.author = { ...state.author, ...author }; renderCustomer(); }
  });
  $('#cust-note-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('#cust-note').value;
    if (!text.trim() || !await attempt(() => authors.addNote(state.author.id, text))) return;
    $('#cust-note').value = '';
    await reloadCustomer();
  });
}

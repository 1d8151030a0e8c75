// The customer beside the open conversation: who they are, their tags, the agents' notes, their history.
import * as authors from '../../clients/authors.js';
import { attempt } from '../../lib/api.js';
import { $, ago, commaList, el, exactTime, fill, followers } from '../../lib/dom.js';
import { initPerson, renderPerson } from './person.js';
import { me, state } from './state.js';

let open = () => {};
let wanted = null;  // the customer whose conversation is open: an answer about another comes too late

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
  $('#cust-notes').replaceChildren(...a.notes.map(renderNote));
  $('#cust-history').replaceChildren(...a.conversations.map((c) => el('li', {},
    el('button', { type: 'button', class: 'link', onclick: () => open(c.id), text: `#${c.id} ${c.subject || '(no subject)'}` }),
    ` · ${c.channel} · ${c.status} · ${c.queue ? `queue ${c.queue}` : 'being routed'} · last post `,
    el('time', { datetime: c.last_message_at, title: exactTime(c.last_message_at), text: ago(c.last_message_at) }))));
  renderPerson();
}

function renderNote(note) {
  return el('li', { dataset: { id: note.id } },
    el('div', { class: 'note-text', text: note.text }),
    el('div', { class: 'meta' }, `${note.agent ? note.agent.name : 'a former agent'} · `,
      el('time', { datetime: note.created_at, title: exactTime(note.created_at), text: ago(note.created_at) }),
      ...(mayChange(note) ? [
        ' ', el('button', { type: 'button', class: 'edit-note', onclick: (event) => editNote(event.target.closest('li'), note), text: 'Edit' }),
        ' ', el('button', { type: 'button', class: 'delete-note', onclick: (event) => deleteNote(event.target, note), text: 'Delete' })] : [])));
}

// Load and show the customer with this id.
export async function showCustomer(id) {
  wanted = id;
  const author = await attempt(() => authors.get(id));
  if (wanted !== id) return;
  // Not read: no longer busy, but still out of reach (the panel in view may be another customer's).
  $('#customer').removeAttribute('aria-busy');
  if (!author) return;
  state.author = author;
  renderCustomer();
  $('#customer').inert = false;
}

// A conversation of the customer with this id is shown, theirs to load yet: another customer's panel stays
// in view but out of reach (inert: no tag or note goes to the wrong customer) until theirs is shown.
export function awaitCustomer(id) {
  wanted = id;
  if (state.author && state.author.id === id) return;
  $('#customer').inert = true;
  $('#customer').setAttribute('aria-busy', 'true');
}

// Read the customer again after a change to their notes; dropped if the agent has moved to another customer.
async function reloadCustomer() {
  const id = state.author.id;
  const author = await attempt(() => authors.get(id));
  if (!author || wanted !== id) return;
  state.author = author;
  renderCustomer();
}

// Edit a note where it is: its text becomes a field with Save and Cancel (Escape cancels too).
function editNote(item, note) {
  const field = el('textarea', { class: 'note-edit', rows: 3, 'aria-label': 'Edit the note' });
  field.value = note.text;
  const form = el('form', { class: 'note-edit-form' }, field,
    el('button', { type: 'submit', text: 'Save' }), ' ',
    el('button', { type: 'button', class: 'cancel', onclick: renderCustomer, text: 'Cancel' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!field.value.trim() || !await attempt(() => authors.editNote(state.author.id, note.id, field.value))) return;
    await reloadCustomer();
  });
  field.addEventListener('keydown', (event) => { if (event.key === 'Escape') { event.stopPropagation(); renderCustomer(); } });
  item.replaceChildren(form);
  field.focus();
}

// Delete asks once more on the button itself ("Really delete?") rather than in a browser dialog.
async function deleteNote(button, note) {
  if (!button.classList.contains('confirming')) {
    button.classList.add('confirming');
    button.textContent = 'Really delete?';
    setTimeout(() => { button.classList.remove('confirming'); button.textContent = 'Delete'; }, 4000);
    return;
  }
  await attempt(() => authors.deleteNote(state.author.id, note.id));
  await reloadCustomer();
}

// Wire the tags and the note form; `openConversation(id)` opens one from their history.
export function initCustomer({ openConversation }) {
  open = openConversation;
  initPerson({ reloadCustomer });
  $('#cust-tags').addEventListener('change', async (event) => {
    const { id } = state.author;
    const author = await attempt(() => authors.update(id, { tags: commaList(event.target.value) }));
    if (author && wanted === id && state.author.id === id) { state.author = { ...state.author, ...author }; renderCustomer(); }
  });
  $('#cust-note-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('#cust-note').value;
    if (!text.trim() || !await attempt(() => authors.addNote(state.author.id, text))) return;
    $('#cust-note').value = '';
    await reloadCustomer();
  });
}

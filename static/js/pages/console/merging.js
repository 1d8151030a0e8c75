// Merging the open conversation into another (a duplicate), splitting it at a message or splitting off a selection
// of its messages, and undoing the last of these.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, el, fill, toast } from '../../lib/dom.js';
import { state } from './state.js';

let open = async () => {};
// The agent's latest merge or split, offered for undo while its conversations are on screen.
let last = null;
// The messages ticked to split off together, and the conversation they belong to (a new one starts a new selection).
const picked = { conversation: null, ids: new Set() };

function pickedIn(c) {
  if (picked.conversation !== c.id) Object.assign(picked, { conversation: c.id, ids: new Set() });
  return picked.ids;
}

// The "Split selected" button: shown, with the count, while messages are ticked.
function splitSelectedButton() {
  const count = picked.ids.size;
  return el('button', { type: 'button', id: 'split-selected', hidden: count === 0, onclick: splitSelected,
    text: `Split ${count} selected into a new conversation` });
}

async function splitSelected() {
  const ids = [...picked.ids];
  const record = await attempt(() => conversations.splitMessages(state.conversation.id, ids));
  if (!record) return;
  picked.ids = new Set();
  last = record;
  toast(`${ids.length} split into #${record.target_id}`);
  await open(record.target_id);
}

async function undoLast() {
  const record = last;
  if (!record || !await attempt(() => conversations.undoMerge(record.id))) return;
  last = null;
  toast(`${record.kind === 'merge' ? 'Merge' : 'Split'} undone`);
  await open(record.source_id);
}

// The merge box for conversation c: "merged into #N" with a way there (and undo), or a form to merge it.
export function renderMerge(c) {
  const mine = last && [last.source_id, last.target_id].includes(c.id);
  const undo = mine && el('button', { type: 'button', id: 'undo-merge', onclick: undoLast,
    text: `Undo ${last.kind}` });
  if (c.merged_into) {
    fill($('#conv-merge'), el('span', { class: 'merged', text: `Merged into #${c.merged_into} ` }),
      el('button', { type: 'button', id: 'open-merged', onclick: () => open(c.merged_into),
        text: `Open #${c.merged_into}` }), undo);
    return;
  }
  const input = el('input', { id: 'merge-into', type: 'number', min: '1', placeholder: '#',
    'aria-label': 'Merge this conversation into conversation number' });
  const submit = (event) => { event.preventDefault(); mergeInto(Number(input.value)); };
  pickedIn(c);
  fill($('#conv-merge'), el('form', { class: 'inline-form', onsubmit: submit },
    input, el('button', { type: 'submit', text: 'Merge into' })), undo, splitSelectedButton());
}

async function mergeInto(target) {
  if (!target) return;
  const record = await attempt(() => conversations.merge(state.conversation.id, target));
  if (!record) return;
  last = record;
  toast(`Merged into #${target}`);
  await open(target);
}

// A "split from here" button for a message that is not the thread's first.
export function splitButton(message) {
  return el('button', { type: 'button', class: 'split', text: 'split from here',
    'aria-label': 'Split this message and the later ones into a new conversation',
    onclick: async () => {
      const record = await attempt(() => conversations.split(state.conversation.id, message.id));
      if (!record) return;
      last = record;
      toast(`Split into #${record.target_id}`);
      await open(record.target_id);
    } });
}

// A box ticking the message for "Split selected" (to split off several messages, not only a message onwards).
export function splitPick(c, message) {
  const ids = pickedIn(c);
  return el('input', { type: 'checkbox', class: 'split-pick', checked: ids.has(message.id),
    'aria-label': 'Select this message to split off with the other selected ones',
    onchange: (event) => {
      if (event.target.checked) ids.add(message.id);
      else ids.delete(message.id);
      $('#split-selected').replaceWith(splitSelectedButton());
    } });
}

// Wire opening conversations (for the merged one, and after a merge, split or undo).
export function initMerging({ openConversation }) {
  open = openConversation;
}

// Merging the open conversation into another (a duplicate), splitting it at a message, and undoing the last of these.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, el, fill, toast } from '../../lib/dom.js';
import { state } from './state.js';

let open = async () => {};
// The agent's latest merge or split, offered for undo while its conversations are on screen.
let last = null;

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
  fill($('#conv-merge'), el('form', { class: 'inline-form', onsubmit: submit },
    input, el('button', { type: 'submit', text: 'Merge into' })), undo);
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

// Wire opening conversations (for the merged one, and after a merge, split or undo).
export function initMerging({ openConversation }) {
  open = openConversation;
}

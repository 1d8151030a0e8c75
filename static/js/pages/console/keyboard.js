// The console's keyboard: one key per common action (the help dialog lists them).
import { $ } from '../../lib/dom.js';
import { toggleCurrent } from '../../features/bulk.js';
import { insertSuggestion, useKnownAnswer } from '../../features/suggestions.js';
import { openMacros, setKind } from './composer.js';
import { change, escalateOpen, getNext, openConversation } from './conversation.js';
import { neighbour, reveal } from './list.js';
import { app, state } from './state.js';

// j/k: open the next or previous conversation in the list, scrolled into view.
function moveSelection(step) {
  const next = neighbour(state.selected, step);
  if (next === null) return;
  state.selected = next;  // a second j before the first conversation arrives goes one further
  reveal(next);
  openConversation(next);
}

const KEYS = {
  j: () => moveSelection(1), k: () => moveSelection(-1), n: getNext,
  r: () => setKind('reply'), i: () => setKind('note'),
  e: () => state.conversation && change({ status: 'resolved' }),
  a: () => state.conversation && change({ assignee: 'me' }),
  t: escalateOpen,
  m: () => $('#conv-queue').focus(), '/': () => $('#search').focus(), '?': () => $('#help').showModal(),
  x: toggleCurrent, ';': openMacros, u: () => state.conversation && useKnownAnswer(),
  // Suggestions beside the conversation: a digit puts that one in the composer (never sends it).
  ...Object.fromEntries([1, 2, 3, 4, 5, 6].map((n) => [String(n), () => state.conversation && insertSuggestion(n)])),
};

export function initKeyboard() {
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { app.dataset.view = 'list'; document.activeElement.blur(); return; }
    const focused = document.activeElement;
    const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(focused.tagName) && !['checkbox', 'radio'].includes(focused.type);
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const action = KEYS[event.key];
    if (action) { event.preventDefault(); action(); }
  });
}

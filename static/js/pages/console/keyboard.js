// The console's keyboard: one key per common action (the help dialog lists them).
import { $ } from '../../lib/dom.js';
import { toggleCurrent } from '../../features/bulk.js';
import { insertSuggestion, useKnownAnswer } from '../../features/suggestions.js';
import { openMacros, setKind } from './composer.js';
import { change, escalateOpen, getNext, openConversation } from './conversation.js';
import { app, state } from './state.js';

function moveSelection(step) {
  const rows = [...document.querySelectorAll('#rows .row')];
  if (!rows.length) return;
  const index = rows.findIndex((row) => Number(row.dataset.id) === state.selected);
  const next = rows[Math.min(Math.max(index + step, 0), rows.length - 1)];
  openConversation(Number(next.dataset.id));
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

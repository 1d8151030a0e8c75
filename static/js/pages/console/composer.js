// The composer under the conversation: a reply or an internal note, send (and resolve), macros.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, toast } from '../../lib/dom.js';
import { hasSelection, pickMacro } from '../../features/bulk.js';
import { openPicker } from '../../features/macros.js';
import { replySent } from '../../features/suggestions.js';
import { typed } from '../../features/presence.js';
import { change, refreshConversation } from './conversation.js';
import { state } from './state.js';

async function send(resolveAfter) {
  const text = $('#reply-text').value;
  if (!text.trim() || !state.conversation) return;
  const kind = document.querySelector('input[name="kind"]:checked').value;
  const id = state.conversation.id;
  if (!await attempt(() => (kind === 'note' ? conversations.addNote(id, text) : conversations.reply(id, text)))) return;
  $('#reply-text').value = '';
  if (kind === 'reply') replySent(text);
  if (resolveAfter) await change({ status: 'resolved' });
  await refreshConversation();
  toast(kind === 'note' ? 'Note added' : resolveAfter ? 'Sent and resolved' : 'Reply sent');
}

export function setKind(kind) {
  document.querySelector(`input[name="kind"][value="${kind}"]`).checked = true;
  $('#composer').classList.toggle('note-mode', kind === 'note');
  $('#reply-text').focus();
}

// Macros: on the selection when there is one (bulk), else on the open conversation.
export function openMacros() {
  if (hasSelection()) return pickMacro();
  if (!state.conversation) return toast('Open a conversation or select some first');
  return openPicker(state.conversation.id, async (macro, result) => {
    if (!result.sends_reply && result.reply) { setKind('reply'); $('#reply-text').value = result.reply; }
    await refreshConversation();
    toast(`${macro.name} applied`);
  });
}

export function initComposer() {
  $('#composer').addEventListener('submit', (event) => { event.preventDefault(); send(false); });
  $('#send-resolve').addEventListener('click', () => send(true));
  $('#reply-text').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(false); }
  });
  $('#reply-text').addEventListener('input', typed);
  document.querySelectorAll('input[name="kind"]').forEach((radio) => radio.addEventListener('change', () => setKind(radio.value)));
  $('#open-macros').addEventListener('click', openMacros);
}

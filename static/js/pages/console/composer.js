// The composer under the conversation: a reply or an internal note, send (and resolve), macros.
import * as conversations from '../../clients/conversations.js';
import { attempt } from '../../lib/api.js';
import { $, toast } from '../../lib/dom.js';
import { hasSelection, pickMacro } from '../../features/bulk.js';
import { emailFields, emailSent } from '../../features/mail_out.js';
import { openPicker } from '../../features/macros.js';
import { replySent } from '../../features/suggestions.js';
import { typed } from '../../features/presence.js';
import { change, refreshConversation } from './conversation.js';
import { state } from './state.js';

// Each mode's words: a note is plainly not a reply before it is sent.
const MODES = {
  reply: { placeholder: 'Write a reply to the customer…  (Ctrl+Enter sends)', send: 'Send', label: 'Reply to the customer' },
  note: { placeholder: 'Write an internal note for agents; the customer never sees it…  (Ctrl+Enter adds it)',
          send: 'Add note', label: 'Internal note' },
};

async function send(resolveAfter) {
  const text = $('#reply-text').value;
  if (!text.trim() || !state.conversation) return;
  const kind = document.querySelector('input[name="kind"]:checked').value;
  const id = state.conversation.id;
  const conversation = state.conversation;
  if (!await attempt(async () => (kind === 'note' ? conversations.addNote(id, text)
    : conversations.reply(id, text, await emailFields(conversation))))) return;
  $('#reply-text').value = '';
  if (kind === 'reply') emailSent();
  if (kind === 'reply') replySent(text);
  setKind('reply', { focus: false });  // a note is one note: the next message is a reply again
  await refreshConversation();
  if (resolveAfter) {
    toast(kind === 'note' ? 'Note added' : 'Reply sent');
    await change({ status: 'resolved' });  // goes on to the next conversation, offering to reopen this one
  } else {
    toast(kind === 'note' ? 'Note added' : 'Reply sent');
  }
}

export function setKind(kind, { focus = true } = {}) {
  document.querySelector(`input[name="kind"][value="${kind}"]`).checked = true;
  $('#composer').classList.toggle('note-mode', kind === 'note');
  $('#email-fields').classList.toggle('note-mode', kind === 'note');  // a note is never mailed
  const mode = MODES[kind];
  $('#reply-text').placeholder = mode.placeholder;
  $('#reply-text').setAttribute('aria-label', mode.label);
  $('#send-reply').textContent = mode.send;
  $('#send-resolve').textContent = `${mode.send} & resolve`;
  if (focus) $('#reply-text').focus();
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

// Mail out from the console: Cc, Bcc and files on an email reply (Cc filled with whom the customer copied),
// forwarding the open conversation to someone else, and starting a conversation with a new email.
// The server checks every address and file; here they are only gathered.
import * as conversations from '../clients/conversations.js';
import { attempt } from '../lib/api.js';
import { $, commaList, el, toast } from '../lib/dom.js';

let prefilledFor = null;

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error(`Could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

async function files(input) {
  return Promise.all([...input.files].map(async (file) => ({ filename: file.name, content_base64: await readBase64(file) })));
}

// Show the email fields and the Forward button for an email conversation; Cc starts as the customer's copies
// each time another conversation opens (a live refresh of the same one keeps what the agent typed).
export function showEmailFields(conversation) {
  const isEmail = conversation.channel_kind === 'email';
  $('#email-fields').hidden = !isEmail;
  $('#forward').hidden = !isEmail;
  if (!isEmail || prefilledFor === conversation.id) return;
  prefilledFor = conversation.id;
  const latest = [...conversation.messages].reverse().find((m) => m.direction === 'inbound' && m.email);
  $('#reply-cc').value = latest ? (latest.email.copies || []).join(', ') : '';
  $('#reply-bcc').value = '';
  $('#reply-files').value = '';
}

// What a reply to this conversation adds to its text: nothing unless it is an email conversation.
export async function emailFields(conversation) {
  if (conversation.channel_kind !== 'email') return {};
  return { cc: commaList($('#reply-cc').value), bcc: commaList($('#reply-bcc').value),
           attachments: await files($('#reply-files')) };
}

// After a reply went out: the files and Bcc were for that mail only; Cc stays for the next one.
export function emailSent() {
  $('#reply-files').value = '';
  $('#reply-bcc').value = '';
}

// Wire the Forward and New email dialogs. `current()` is the open conversation; `refresh()` shows it again;
// `open(id)` opens another; `queues()` lists the agent's queues.
export function initMailOut({ current, refresh, open, queues }) {
  $('#forward').addEventListener('click', () => {
    $('#forward-form').reset();
    $('#forward-dialog').showModal();
  });
  $('#forward-cancel').addEventListener('click', () => $('#forward-dialog').close());
  $('#forward-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const conversation = current();
    if (!conversation) return;
    const note = $('#forward-note').value;
    const sent = await attempt(() => conversations.forward(conversation.id, {
      to: commaList($('#forward-to').value), cc: commaList($('#forward-cc').value), ...(note.trim() ? { note } : {}) }));
    if (!sent) return;
    $('#forward-dialog').close();
    toast('Forwarded');
    await refresh();
  });
  const compose = $('#compose-email');
  if (!compose) return;  // no email channel to send from
  compose.addEventListener('click', () => {
    $('#compose-form').reset();
    $('#compose-queue').replaceChildren(...queues().map((q) => el('option', { value: q.slug, text: q.name })));
    $('#compose-dialog').showModal();
  });
  $('#compose-cancel').addEventListener('click', () => $('#compose-dialog').close());
  $('#compose-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = {
      channel: $('#compose-channel').value, queue: $('#compose-queue').value, to: $('#compose-to').value.trim(),
      cc: commaList($('#compose-cc').value), bcc: commaList($('#compose-bcc').value),
      subject: $('#compose-subject').value, text: $('#compose-text').value,
    };
    const created = await attempt(async () => conversations.startByEmail({ ...fields, attachments: await files($('#compose-files')) }));
    if (!created) return;
    $('#compose-dialog').close();
    toast('Email sent');
    await open(created.id);
  });
}

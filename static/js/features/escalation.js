// Escalation to the ticketing system: the Escalate button, and the ticket's number, link and status.
import * as escalations from '../clients/escalations.js';
import { $, el } from '../lib/dom.js';

// Only http(s) links are followed, whatever the server sends.
function safeLink(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch { return null; }
}

// Escalating does something when there is no ticket yet, or when the ticketing team finished with it.
export function canEscalate(conversation) {
  const e = conversation.escalation;
  return !e || (e.state === 'created' && ['solved', 'closed'].includes(e.ticket_status));
}

export function renderEscalation(conversation) {
  const e = conversation.escalation;
  const button = $('#escalate');
  button.hidden = !canEscalate(conversation);
  button.textContent = e ? 'Escalate again' : 'Escalate';
  const box = $('#conv-ticket');
  if (!e) { box.replaceChildren(); return; }
  if (e.state === 'pending') {
    const text = e.attempts ? `Ticket pending: ${e.attempts} attempt${e.attempts > 1 ? 's' : ''} failed, retrying`
      : 'Ticket pending: creating…';
    box.replaceChildren(el('span', { class: 'ticket pending', title: e.last_error || '', text }));
    return;
  }
  const href = safeLink(e.ticket_url);
  box.replaceChildren(
    href ? el('a', { class: 'ticket', href, target: '_blank', rel: 'noopener noreferrer', text: `Ticket #${e.ticket_id}` })
      : el('span', { class: 'ticket', text: `Ticket #${e.ticket_id}` }),
    ' ', el('span', { class: `ticket-status status-${e.ticket_status}`, text: e.ticket_status || '' }));
}

export function escalate(conversation) {
  return escalations.escalate(conversation.id);
}

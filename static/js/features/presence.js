// Presence on the open conversation: who else is viewing it or typing, and the soft lock that the
// agent replying holds (the composer is disabled for everyone else until they take over).
import { $ } from '../lib/dom.js';

const TYPING_EVERY = 2000;  // ms between two "typing" signals
const presence = { socket: null, me: null, current: () => null, lastTyping: 0 };

// socket: the live connection (null when polling); me: the agent; current(): the open conversation.
export function initPresence({ socket, me, current }) {
  Object.assign(presence, { socket, me, current });
  $('#take-over').addEventListener('click', () => socket?.emit('take_over', { conversation_id: current().id }));
}

// Tell the others which conversation this agent is looking at; null when they left it.
export function viewing(id, previous) {
  if (previous && previous !== id) presence.socket?.emit('leave', { conversation_id: previous });
  if (id) presence.socket?.emit('view', { conversation_id: id });
}

export function renderPresence(p) {
  const conversation = presence.current();
  if (!conversation || p.conversation_id !== conversation.id) return;
  const me = presence.me.id;
  const others = p.viewers.filter((v) => v.id !== me).map((v) => v.name);
  const typing = p.typing.filter((v) => v.id !== me).map((v) => v.name);
  $('#presence').textContent = [others.length ? `Also viewing: ${others.join(', ')}` : '',
                                typing.length ? `${typing.join(', ')} typing…` : ''].filter(Boolean).join(' · ');
  const lockedBy = p.lock && p.lock.agent.id !== me ? p.lock.agent : null;
  $('#lock').hidden = !lockedBy;
  $('#lock-text').textContent = lockedBy ? `${lockedBy.name} is replying.` : '';
  $('#reply-text').disabled = Boolean(lockedBy);
  $('#send-reply').disabled = Boolean(lockedBy);
}

// The agent typed in the composer: say so, at most every TYPING_EVERY ms.
export function typed() {
  const conversation = presence.current();
  if (!conversation || !presence.socket || Date.now() - presence.lastTyping < TYPING_EVERY) return;
  presence.lastTyping = Date.now();
  presence.socket.emit('typing', { conversation_id: conversation.id });
}

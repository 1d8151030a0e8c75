// The agent console: queues, the ordered list, one conversation with its customer, live.
import { $, commaList, countdown, toast } from '../../lib/dom.js';
import { connectLive } from '../../lib/live.js';
import { conversationFromPage } from '../../lib/routes.js';
import { initBulk, showProgress } from '../../features/bulk.js';
import { initPresence, renderPresence, viewing } from '../../features/presence.js';
import { initSuggestions } from '../../features/suggestions.js';
import { initComposer } from './composer.js';
import { change, escalateOpen, getNext, openConversation, refreshConversation } from './conversation.js';
import { initCustomer } from './customer.js';
import { initKeyboard } from './keyboard.js';
import { applyChanges, initList, loadList, runSearch, selectQueue } from './list.js';
import { initQueues, loadQueues, updateCounts } from './queues.js';
import { initSearch } from './search.js';
import { app, filters, me, state } from './state.js';

const HEARTBEAT_EVERY = 30000;  // ms; assignment hands work only to agents whose console says they are online

function startLive() {
  const beat = () => state.socket.emit('heartbeat', { status: $('#my-status').value });
  state.socket = connectLive({
    catchUp: () => {
      loadQueues();
      if (!state.search) loadList(true);
      refreshConversation();
      if (state.conversation) viewing(state.conversation.id);
    },
    poll: () => { loadQueues(); if (!state.search) loadList(true); },
    pollSeconds: 5,
    events: {
      connect: beat,
      'conversation.created': (data) => applyChanges(data.conversations, true),
      'conversation.updated': (data) => applyChanges(data.conversations, false),
      'queue.counts': updateCounts,
      presence: renderPresence,
      'sla.breached': ({ items }) => toast(`${items.length} conversation${items.length > 1 ? 's' : ''} breached SLA`),
      'bulk.progress': showProgress,
    },
  });
  initPresence({ socket: state.socket, me, current: () => state.conversation });
  if (state.socket) {
    $('#my-status').addEventListener('change', beat);
    setInterval(beat, HEARTBEAT_EVERY);
  }
}

initQueues({ select: selectQueue });
initList({ open: openConversation, changed: refreshConversation });
initCustomer({ openConversation });
initComposer();
initSuggestions();
initKeyboard();
initSearch({ open: openConversation, list: runSearch });
$('#conv-status').addEventListener('change', (event) => change({ status: event.target.value }));
$('#conv-queue').addEventListener('change', (event) => change({ queue: event.target.value }));
$('#conv-priority').addEventListener('change', (event) => change({ priority: event.target.value }));
$('#conv-tags').addEventListener('change', (event) => change({ tags: commaList(event.target.value) }));
$('#assign-me').addEventListener('click', () => change({ assignee: 'me' }));
$('#why').addEventListener('click', () => { $('#explanation').hidden = !$('#explanation').hidden; });
$('#get-next').addEventListener('click', getNext);
$('#escalate').addEventListener('click', escalateOpen);
$('#show-help').addEventListener('click', () => $('#help').showModal());
// Back on a phone: customer -> conversation -> list -> queues.
const BACK = { customer: 'conversation', conversation: 'list' };
$('#back').addEventListener('click', () => { app.dataset.view = BACK[app.dataset.view] || 'queues'; });
// On a phone the customer panel takes the conversation's place (on a desk both show side by side).
$('#show-customer').addEventListener('click', () => { app.dataset.view = 'customer'; $('#hide-customer').focus(); });
$('#hide-customer').addEventListener('click', () => { app.dataset.view = 'conversation'; $('#show-customer').focus(); });
$('#more').addEventListener('click', () => loadList(false));
['#filter-status', '#filter-assignee', '#filter-tag', '#filter-channel'].forEach((id) =>
  $(id).addEventListener('change', () => loadList(true)));
window.addEventListener('popstate', (event) => {
  if (event.state && event.state.id) openConversation(event.state.id, { push: false });
  else app.dataset.view = 'list';
});
setInterval(() => {  // SLA countdowns tick in place
  for (const span of document.querySelectorAll('.sla[data-due]')) {
    const due = countdown(span.dataset.due);
    span.textContent = due.text;
    span.classList.toggle('late', due.late);
  }
}, 1000);

(async function start() {
  await loadQueues();
  await loadList(true);
  startLive();
  initBulk({ state, filters });
  const id = conversationFromPage(location.pathname);
  if (id) openConversation(id, { push: false });
}());

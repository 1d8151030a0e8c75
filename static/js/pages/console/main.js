// The agent console: queues, the ordered list, one conversation with its customer, live.
import { $, commaList, countdown, el, toast } from '../../lib/dom.js';
import { registerServiceWorker } from '../../lib/install.js';
import { connectLive } from '../../lib/live.js';
import { conversationFromPage } from '../../lib/routes.js';
import { initBulk, showProgress } from '../../features/bulk.js';
import * as bell from '../../features/notifications.js';
import { initPresence, renderPresence, viewing } from '../../features/presence.js';
import { initComposer, setKind } from './composer.js';
import { initMailOut } from '../../features/mail_out.js';
import { initSuggestions } from '../../features/suggestions.js';
import { change, escalateOpen, getNext, openConversation, refreshConversation } from './conversation.js';
import { initCustomer } from './customer.js';
import { initMerging } from './merging.js';
import { initKeyboard } from './keyboard.js';
import { applyChanges, initList, loadList, ordered, restyle, runSearch, selectQueue } from './list.js';
import { initQueues, loadQueues, updateCounts } from './queues.js';
import { initViews, loadViews, renderViews, viewsChanged } from './views.js';
import { COLUMNS, SORTS, saveView, view } from './rows.js';
import { initSearch } from './search.js';
import { app, filters, me, state } from './state.js';

const HEARTBEAT_EVERY = 30000;  // ms; assignment hands work only to agents whose console says they are online

function startLive() {
  const beat = () => state.socket.emit('heartbeat', { status: $('#my-status').value });
  state.socket = connectLive({
    catchUp: () => {
      bell.catchUp();
      loadQueues();
      loadViews();
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
      'queue.counts': (data) => { updateCounts(data); viewsChanged(); },
      presence: renderPresence,
      'sla.breached': ({ items }) => toast(`${items.length} conversation${items.length > 1 ? 's' : ''} breached SLA`),
      'bulk.progress': showProgress,
      ...bell.events,
    },
  });
  initPresence({ socket: state.socket, me, current: () => state.conversation });
  if (state.socket) {
    $('#my-status').addEventListener('change', beat);
    setInterval(beat, HEARTBEAT_EVERY);
  }
}

initQueues({ select: (slug) => { const shown = selectQueue(slug); renderViews(); return shown; } });
bell.initNotifications({ open: openConversation });
initList({ open: openConversation, changed: refreshConversation });
initCustomer({ openConversation });
initMerging({ openConversation });
initComposer();
initMailOut({ current: () => state.conversation, refresh: refreshConversation, open: (id) => openConversation(id),
              queues: () => state.queues });
initSuggestions();
initKeyboard();
initViews();
document.addEventListener('view-opened', renderViews);
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
initListView();
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

// The list's sort, density and columns, as the agent last chose them in this browser.
function initListView() {
  $('#list-sort').replaceChildren(...Object.entries(SORTS).map(([value, sort]) => el('option', { value, text: sort.label })));
  $('#list-sort').value = view.sort;
  $('#list-density').value = view.density;
  $('#list-columns').append(...Object.entries(COLUMNS).map(([value, label]) => el('label', {},
    el('input', { type: 'checkbox', value, checked: view.columns.includes(value) }), ` ${label}`)));
  const changed = () => {
    view.sort = $('#list-sort').value;
    view.density = $('#list-density').value;
    view.columns = [...document.querySelectorAll('#list-columns input:checked')].map((box) => box.value);
    saveView();
    restyle();
  };
  ['#list-sort', '#list-density', '#list-columns'].forEach((id) => $(id).addEventListener('change', changed));
}

(async function start() {
  setKind('reply', { focus: false });
  registerServiceWorker();
  await loadQueues();
  loadViews();
  const id = conversationFromPage(location.pathname);
  // A link to one conversation opens it in its own queue's list, highlighted there.
  if (id) await openConversation(id, { push: false, reveal: true });
  else await loadList(true);
  startLive();
  initBulk({ state, filters, order: ordered, reopen: openConversation });
}());

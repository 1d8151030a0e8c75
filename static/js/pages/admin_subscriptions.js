// The admin page's outbound events: subscribe a URL to events, enable or disable it, send a test event, read
// its delivery log.
import * as subscriptions from '../clients/subscriptions.js';
import { attempt } from '../lib/api.js';
import { $, el, fill } from '../lib/dom.js';

const EVENTS = ['conversation.created', 'conversation.updated', 'conversation.resolved', 'message.created',
  'automation.fired', 'csat.received', 'incident.opened', 'ping'];

async function save(action, success) {
  await attempt(action, success);
  await load();
}

async function showLog(subscription) {
  const log = await attempt(() => subscriptions.deliveries(subscription.id));
  if (!log) return;
  const rows = log.data.map((d) => el('tr', {}, el('td', { text: `#${d.id}` }), el('td', { text: d.event }),
    el('td', { text: d.state }), el('td', { text: d.attempts }), el('td', { text: d.response_status ?? '—' }),
    el('td', { text: d.error || '' }), el('td', { text: new Date(d.created_at).toLocaleString() })));
  fill($('#subscription-log'), el('h3', { text: `Deliveries to ${subscription.url}` }),
    el('table', {}, el('thead', {}, el('tr', {}, ...['Delivery', 'Event', 'State', 'Attempts', 'Answer', 'Error', 'Created']
      .map((h) => el('th', { scope: 'col', text: h })))), el('tbody', {}, rows)));
  $('#subscription-log').focus();
}

function subscriptionRow(subscription) {
  const enabled = el('input', { type: 'checkbox', checked: subscription.enabled, 'aria-label': `Send events to ${subscription.url}`,
    onchange: (e) => save(() => subscriptions.update(subscription.id, { enabled: e.target.checked }), 'Saved') });
  const secret = el('code', { class: 'secret', text: '••••••••' });
  return el('tr', { dataset: { id: subscription.id } }, el('td', { text: subscription.url }),
    el('td', { text: subscription.events.join(', ') }),
    el('td', {}, enabled, subscription.disabled_reason ? el('div', { text: subscription.disabled_reason }) : null),
    el('td', {}, secret, ' ', el('button', { text: 'show', 'aria-label': `Show the secret of ${subscription.url}`,
      onclick: () => { secret.textContent = subscription.secret; } })),
    el('td', {}, el('button', { text: 'send a test', 'aria-label': `Send a test event to ${subscription.url}`,
      onclick: () => save(() => subscriptions.test(subscription.id), 'Test event queued') }), ' ',
    el('button', { text: 'log', 'aria-label': `Delivery log of ${subscription.url}`, onclick: () => showLog(subscription) }), ' ',
    el('button', { text: 'delete', 'aria-label': `Delete the subscription of ${subscription.url}`,
      onclick: () => confirm(`Stop sending events to ${subscription.url}?`)
        && save(() => subscriptions.remove(subscription.id), 'Subscription deleted') })));
}

async function load() {
  const list = await attempt(() => subscriptions.list());
  if (list) fill($('#subscriptions-admin tbody'), list.data.map(subscriptionRow));
}

fill($('#subscription-events'), EVENTS.map((event) => el('label', { class: 'check' },
  el('input', { type: 'checkbox', name: 'events', value: event }), ` ${event}`)));
$('#new-subscription').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const events = [...form.querySelectorAll('input[name=events]:checked')].map((box) => box.value);
  save(async () => { await subscriptions.create({ url: form.elements.url.value, events }); form.reset(); },
    'Subscribed');
});
load();

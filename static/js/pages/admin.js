// The admin page: agents, queues and channels, edited in place through the admin API.
import * as agents from '../clients/admin/agents.js';
import * as channels from '../clients/admin/channels.js';
import * as queueAdmin from '../clients/admin/queues.js';
import * as suspendedMail from '../clients/admin/suspended_mail.js';
import { list as listQueues } from '../clients/queues.js';
import { attempt } from '../lib/api.js';
import { $, el } from '../lib/dom.js';

let queues = [];

async function save(action, success) {
  await attempt(action, success);
  await load();
}

function agentRow(agent) {
  const role = el('select', { 'aria-label': `Role of ${agent.name}`, onchange: (e) => save(() => agents.update(agent.id, { role: e.target.value }), 'Role changed') },
    ...['agent', 'supervisor', 'admin'].map((r) => el('option', { value: r, text: r, selected: r === agent.role })));
  const active = el('input', { type: 'checkbox', checked: agent.active, 'aria-label': `${agent.name} is active`,
    onchange: (e) => save(() => agents.update(agent.id, { active: e.target.checked }), 'Saved') });
  // One box per queue: a click adds or removes that queue alone (a multi-select replaced them all).
  const member = el('fieldset', { class: 'queues' }, el('legend', { class: 'visually-hidden', text: `Queues of ${agent.name}` }),
    ...queues.map((q) => el('label', {}, el('input', { type: 'checkbox', value: q.slug, checked: agent.queues.includes(q.slug),
      onchange: (e) => save(() => agents.update(agent.id, { queues: [...e.target.closest('fieldset')
        .querySelectorAll('input:checked')].map((box) => box.value) }),
      `${agent.name} ${e.target.checked ? 'joined' : 'left'} ${q.name}`) }), ` ${q.name}`)));
  const capacity = el('input', { type: 'number', min: 0, max: 1000, value: agent.capacity, class: 'capacity',
    'aria-label': `Capacity of ${agent.name}`, title: 'most open conversations automatic assignment gives them',
    onchange: (e) => save(() => agents.update(agent.id, { capacity: Number(e.target.value) }), 'Capacity saved') });
  // A lost phone: the admin turns the agent's second factor off; they set it up again from their Security page.
  const twoFactor = agent.two_factor
    ? el('button', { type: 'button', text: 'On: reset', 'aria-label': `Reset two-factor sign-in of ${agent.name}`,
      onclick: () => window.confirm(`Turn off two-factor sign-in for ${agent.name}?`)
        && save(() => agents.resetTwoFactor(agent.id), 'Two-factor sign-in reset') })
    : el('span', { text: 'off' });
  return el('tr', { dataset: { id: agent.id } }, el('td', { text: agent.name }), el('td', { text: agent.email }),
    el('td', {}, role), el('td', {}, active), el('td', {}, member), el('td', {}, capacity),
    el('td', { class: 'two-factor' }, twoFactor));
}

function queueRow(queue, leads) {
  // Reply targets are set in one place, the SLA policies section; this links there with the queue chosen.
  const sla = el('a', { href: '#sla-policies', text: 'SLA targets', 'aria-label': `SLA targets of ${queue.name}`,
    dataset: { slaQueue: queue.slug } });
  const threshold = el('input', { type: 'number', min: 0, max: 1, step: 0.05, value: queue.routing_threshold ?? '',
    placeholder: 'default', 'aria-label': `Routing threshold of ${queue.name}`, onchange: (e) => save(() => queueAdmin.update(queue.slug,
      { routing_threshold: e.target.value === '' ? null : Number(e.target.value) }), 'Threshold saved') });
  // Whom automations hand the queue's conversations to ("assign to the queue's lead").
  const lead = el('select', { 'aria-label': `Lead of ${queue.name}`, onchange: (e) => save(() => queueAdmin.update(queue.slug,
    { lead_id: e.target.value === '' ? null : Number(e.target.value) }), 'Lead saved') },
  el('option', { value: '', text: '(none)' }),
  ...leads.map((a) => el('option', { value: a.id, text: a.name, selected: a.id === queue.lead_id })));
  // Appended to email replies sent from the queue (as text, and escaped in their HTML part).
  const signature = el('textarea', { rows: 2, maxlength: 2000, text: queue.signature || '', class: 'signature',
    'aria-label': `Email signature of ${queue.name}`, onchange: (e) => save(() => queueAdmin.update(queue.slug,
      { signature: e.target.value }), 'Signature saved') });
  return el('tr', { dataset: { slug: queue.slug } }, el('td', { text: queue.slug }), el('td', { text: queue.name }),
    el('td', {}, sla), el('td', {}, threshold), el('td', {}, lead), el('td', {}, signature));
}

function channelRow(channel) {
  const enabled = el('input', { type: 'checkbox', checked: channel.enabled, 'aria-label': `${channel.name} is enabled`,
    onchange: (e) => save(() => channels.update(channel.slug, { enabled: e.target.checked }), 'Saved') });
  const secret = el('code', { class: 'secret', text: '••••••••' });
  const reveal = el('button', { text: 'show', 'aria-label': `Show the secret of ${channel.name}`, onclick: () => { secret.textContent = channel.secret; } });
  const rotate = el('button', { text: 'new secret', 'aria-label': `New secret for ${channel.name}`, onclick: () => confirm('Senders must switch to the new secret. Go on?')
    && save(() => channels.update(channel.slug, { rotate_secret: true }), 'New secret made') });
  return el('tr', { dataset: { slug: channel.slug } }, el('td', { text: channel.slug }), el('td', { text: channel.name }),
    el('td', { text: channel.kind }), el('td', {}, enabled), el('td', { text: channel.webhook_path }),
    el('td', {}, secret, ' ', reveal, ' ', rotate), el('td', { class: 'settings' }, ...channel.setting_names.map(
      (name) => settingInput(channel, name))));
}

// One input per setting the channel's kind takes; write-only ones (API keys) never show their value.
function settingInput(channel, name) {
  const writeOnly = channel.write_only_settings.includes(name);
  const input = el('input', { name, 'aria-label': name, type: writeOnly ? 'password' : 'text', autocomplete: 'off',
    value: writeOnly ? '' : channel.settings[name] ?? '',
    placeholder: writeOnly ? `${name} (${channel.settings[`${name}_set`] ? 'set: type to replace' : 'not set'})` : name,
    onchange: (e) => save(() => channels.update(channel.slug,
      { settings: { [name]: e.target.value.trim() || null } }), `${name} saved`) });
  return el('label', {}, input);
}

function suspendedRow(held) {
  return el('tr', { dataset: { id: held.id } }, el('td', { text: new Date(held.created_at).toLocaleString() }),
    el('td', { text: held.sender }), el('td', { text: held.subject }), el('td', { text: held.reason }),
    el('td', {}, el('button', { text: 'Release', 'aria-label': `Release the mail from ${held.sender}: ${held.subject}`,
      onclick: () => save(() => suspendedMail.release(held.id), 'Released into the queues') }), ' ',
    el('button', { text: 'Drop', 'aria-label': `Drop the mail from ${held.sender}: ${held.subject}`,
      onclick: () => confirm('Delete this message for good?') && save(() => suspendedMail.drop(held.id), 'Dropped') })));
}

async function load() {
  const [agentList, queueList, channelList, held] = await Promise.all([agents.list(), listQueues(), channels.list(),
    suspendedMail.list()]);
  queues = queueList.data;
  $('#agents tbody').replaceChildren(...agentList.data.map(agentRow));
  const leads = agentList.data.filter((a) => a.active && a.role !== 'agent');
  $('#queues-admin tbody').replaceChildren(...queues.map((q) => queueRow(q, leads)));
  $('#channels tbody').replaceChildren(...channelList.data.map(channelRow));
  $('#suspended-mail tbody').replaceChildren(...held.data.map(suspendedRow));
}

function form(selector, create, message) {
  $(selector).addEventListener('submit', (event) => {
    event.preventDefault();
    const data = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => v !== ''));
    save(async () => { await create(data); event.target.reset(); }, message);
  });
}

form('#new-agent', agents.create, 'Agent added');
form('#new-queue', queueAdmin.create, 'Queue added');
form('#new-channel', channels.create, 'Channel added');
load();

// The bell: your notifications with an unread badge, kept live by the `notification.*` events; opening a
// conversation marks its notifications read. Optional browser notifications while the console is open.
import * as notifications from '../clients/notifications.js';
import { $, ago, el, fill } from '../lib/dom.js';
import { conversationPage } from '../lib/routes.js';

let items = [];
let loaded = false;
let openConversation = null;

function renderBadge(unread) {
  const badge = $('#bell-count');
  badge.textContent = unread > 99 ? '99+' : String(unread);
  badge.hidden = unread === 0;
  $('#bell').setAttribute('aria-label', `Notifications, ${unread} unread`);
}

function render() {
  fill($('#bell-list'), items.length ? items.map((n) => el('li', { class: n.read_at ? 'read' : 'unread' },
    el('a', { href: n.conversation_id ? conversationPage(n.conversation_id) : '/dashboard', dataset: { id: n.id },
              onclick: (event) => choose(event, n) }, n.title),
    el('span', { class: 'when', text: ago(n.created_at) }))) : el('li', { text: 'Nothing yet.' }));
}

async function choose(event, n) {
  if (!n.conversation_id || !openConversation) return;  // incidents: the link goes to the dashboard
  event.preventDefault();
  $('#bell-panel').hidden = true;
  openConversation(n.conversation_id);
}

async function load() {
  const page = await notifications.list();
  items = page.data;
  loaded = true;
  renderBadge(page.unread);
  render();
}

// Mark a conversation's notifications read once the agent has it open.
export async function seen(conversationId) {
  if (loaded && !items.some((n) => n.conversation_id === conversationId && !n.read_at)) return;
  const now = new Date().toISOString();
  items = items.map((n) => (n.conversation_id === conversationId && !n.read_at ? { ...n, read_at: now } : n));
  render();
  renderBadge((await notifications.markRead({ conversation_id: conversationId })).unread);
}

function created({ notifications: fresh, unread }) {
  const ids = new Set(fresh.map((n) => n.id));
  items = [...fresh.slice().reverse(), ...items.filter((n) => !ids.has(n.id))].slice(0, 30);
  renderBadge(unread);
  render();
  if (window.Notification && Notification.permission === 'granted' && document.hidden) {
    const [latest] = fresh.slice(-1);
    const one = fresh.length === 1 && latest.conversation_id;
    new Notification(fresh.length === 1 ? latest.title : `${fresh.length} new notifications`,
                     { tag: one ? `conversation-${latest.conversation_id}` : 'summary' });
  }
}

// The events to give the live connection, and `catchUp` to call on every (re)connect.
export const events = { 'notification.created': created, 'notification.read': ({ unread }) => renderBadge(unread) };
export const catchUp = load;

export function initNotifications({ open }) {
  openConversation = open;
  $('#bell').addEventListener('click', () => {
    const panel = $('#bell-panel');
    panel.hidden = !panel.hidden;
    $('#bell').setAttribute('aria-expanded', String(!panel.hidden));
  });
  $('#bell-read-all').addEventListener('click', async () => {
    renderBadge((await notifications.markRead({ all: true })).unread);
    await load();
  });
  load();
}

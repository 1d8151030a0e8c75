// Your devices (subscribe this one, revoke any) and what to push to them, and when.
import * as notifications from '../clients/notifications.js';
import { attempt } from '../lib/api.js';
import { $, el } from '../lib/dom.js';
import { registerServiceWorker } from '../lib/install.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

async function loadDevices() {
  const list = await attempt(() => notifications.devices());
  if (!list) return;
  $('#devices tbody').replaceChildren(...list.data.map((d) => el('tr', {},
    el('td', { text: d.label || 'Device' }), el('td', { text: d.push_service }), el('td', { text: when(d.created_at) }),
    el('td', { text: d.last_error ? `failed: ${d.last_error}` : when(d.last_sent_at) }),
    el('td', {}, el('button', { type: 'button', text: 'Revoke', 'aria-label': `Revoke ${d.label || 'device'}`,
                                onclick: async () => { await attempt(() => notifications.removeDevice(d.id), 'Device revoked'); loadDevices(); } })))));
}

// base64url -> bytes, as pushManager.subscribe takes the server's key.
function keyBytes(text) {
  const raw = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function enablePush() {
  if (!('serviceWorker' in navigator) || !window.PushManager) { alert('This browser cannot receive pushes.'); return; }
  if (await Notification.requestPermission() !== 'granted') return;
  await registerServiceWorker();
  const registration = await navigator.serviceWorker.ready;
  const { public_key: key } = await notifications.pushKey();
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await attempt(() => notifications.addDevice({ ...subscription.toJSON(), label: navigator.platform || 'Browser' }), 'This device gets pushes');
  loadDevices();
}

async function loadSettings() {
  const s = await attempt(() => notifications.settings());
  if (!s) return;
  const form = $('#push-settings');
  for (const box of form.querySelectorAll('input[name="kinds"]')) box.checked = s.kinds.includes(box.value);
  for (const box of form.querySelectorAll('input[name="priorities"]')) box.checked = s.priorities.includes(box.value);
  form.time_zone.value = s.time_zone;
  form.quiet_start.value = s.quiet_start || '';
  form.quiet_end.value = s.quiet_end || '';
  form.only_when_away.checked = s.only_when_away;
  form.include_text.checked = s.include_text;
  form.webhook_url.value = s.webhook_url || '';
  form.email_enabled.checked = s.email_enabled;
  form.email_address.value = s.email_address || '';
}

$('#push-settings').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  await attempt(() => notifications.updateSettings({
    kinds: data.getAll('kinds'), priorities: data.getAll('priorities'), time_zone: form.time_zone.value,
    quiet_start: form.quiet_start.value || null, quiet_end: form.quiet_end.value || null,
    only_when_away: form.only_when_away.checked, include_text: form.include_text.checked,
    webhook_url: form.webhook_url.value || null,
    email_enabled: form.email_enabled.checked, email_address: form.email_address.value.trim() || null,
  }), 'Saved');
});
$('#enable-push').addEventListener('click', enablePush);
loadDevices();
loadSettings();

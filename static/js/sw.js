// The console's service worker: an offline page when the network is gone, and pushes shown as notifications
// that open their conversation. Served at /sw.js so its scope is the whole console.
const CACHE = 'switchboard-shell-v1';
const OFFLINE = '/offline';
const SHELL = [OFFLINE, '/static/css/console.css', '/static/js/pages/offline.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// Everything comes from the network; without one, pages get the offline page (which reconnects by itself)
// and the offline page's own style and script come from the cache.
self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  } else if (request.method === 'GET' && SHELL.includes(new URL(request.url).pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(request, { ignoreSearch: true })));
  }
});

// A push carries {title, body, tag, url, count}: one notification per tag, replaced rather than stacked.
self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { title: 'Switchboard' }; }
  const url = typeof data.url === 'string' && data.url.startsWith('/') ? data.url : '/';
  event.waitUntil(self.registration.showNotification(data.title || 'Switchboard', {
    body: data.body || '', tag: data.tag || 'switchboard', renotify: true, data: { url },
    icon: '/static/icons/icon-192.png', badge: '/static/icons/icon-192.png',
  }));
});

// Clicking opens the conversation: in a console window already open if there is one, else a new one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data && event.notification.data.url || '/', self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) return open.navigate(url).then((w) => (w || open).focus());
    return self.clients.openWindow(url);
  }));
});

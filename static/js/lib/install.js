// The installable console: register the service worker (offline page, pushes that open their conversation).
export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return null;
  return navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => null);
}

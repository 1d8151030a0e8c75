// The offline page: try the server every few seconds and go back to where the agent was once it answers.
const RETRY_MS = 3000;

async function retry() {
  try {
    const response = await fetch('/ping', { cache: 'no-store' });
    if (response.ok) { location.reload(); return; }
  } catch { /* still offline */ }
  setTimeout(retry, RETRY_MS);
}
window.addEventListener('online', retry);
setTimeout(retry, RETRY_MS);

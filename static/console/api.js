// The console's calls to the REST API: JSON in and out, the session's CSRF token on writes.
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

export async function api(method, path, body) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  if (method !== 'GET') options.headers['X-CSRFToken'] = csrfToken;
  const response = await fetch(`/api/v1${path}`, options);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401) window.location = `/login?next=${encodeURIComponent(location.pathname)}`;
    const error = data.error || {};
    throw new ApiError(response.status, error.code || 'error', error.message || response.statusText);
  }
  return data;
}

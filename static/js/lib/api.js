// The one way to the REST API: JSON in and out, the session's CSRF token on writes, errors as ApiError.
// Only the modules in clients/ call it; they alone know the API's paths.
import { loginPage } from './routes.js';
import { toast } from './dom.js';

export const API_ROOT = '/api/v1';
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// `signal` (an AbortSignal) cancels the request: a stale search as the agent types on.
export async function api(method, path, body, { signal } = {}) {
  const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', signal };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  if (method !== 'GET') options.headers['X-CSRFToken'] = csrfToken;
  const response = await fetch(`${API_ROOT}${path}`, options);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401) window.location = loginPage(location.pathname);
    const error = data.error || {};
    throw new ApiError(response.status, error.code || 'error', error.message || response.statusText);
  }
  return data;
}

// Run `action`; on success toast `success` (when given) and return its result, on failure toast the
// error and return null.
export async function attempt(action, success) {
  try {
    const result = await action();
    if (success) toast(success);
    return result;
  } catch (error) { toast(error.message); return null; }
}


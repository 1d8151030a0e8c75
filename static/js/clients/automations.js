// /automations: conditions on conversations over time and their actions (admins), dry runs and firings.
import { api } from '../lib/api.js';

export const list = () => api('GET', '/automations');
export const create = (body) => api('POST', '/automations', body);
export const update = (id, fields) => api('PATCH', `/automations/${id}`, fields);
export const remove = (id) => api('DELETE', `/automations/${id}`);
export const dryRun = (body) => api('POST', '/automations/dry-run', body);
export const firings = (id) => api('GET', `/automations/${id}/firings`);
export const ofConversation = (conversationId) => api('GET', `/conversations/${conversationId}/automations`);

// /incidents: spikes of related conversations, opened by detection or by hand.
import { api } from '../lib/api.js';

export const create = (title, match) => api('POST', '/incidents', { title, match });
export const update = (id, fields) => api('PATCH', `/incidents/${id}`, fields);
// Resolve the incident itself; its conversations are resolved as a bulk action when wanted.
export const resolve = (id) => api('POST', `/incidents/${id}/resolve`, { resolve_conversations: false });

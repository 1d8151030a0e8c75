// /views: an agent's and their teams' saved views (named filter sets) with counts, and each one's conversations.
import { api } from '../lib/api.js';

export const list = () => api('GET', '/views');
export const create = (body) => api('POST', '/views', body);
export const update = (id, fields) => api('PATCH', `/views/${id}`, fields);
export const remove = (id) => api('DELETE', `/views/${id}`);
// One page of a view's conversations in work order; `params` are URLSearchParams (limit, cursor).
export const conversations = (id, params) => api('GET', `/views/${id}/conversations?${params}`);

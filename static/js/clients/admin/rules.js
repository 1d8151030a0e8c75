// /rules and the what-if replay: routing rules in evaluation order, as admins edit them.
import { api } from '../../lib/api.js';

export const list = () => api('GET', '/rules');
export const create = (body) => api('POST', '/rules', body);
export const update = (id, fields) => api('PATCH', `/rules/${id}`, fields);
export const remove = (id) => api('DELETE', `/rules/${id}`);
export const reorder = (order) => api('POST', '/rules/reorder', { order });
// Where `since` of stored traffic would go under the draft `rules` (none saved): moves and priority changes.
export const replay = (rules, since = '7d') => api('POST', '/routing/replay', { since, rules });

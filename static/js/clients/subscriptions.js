// /subscriptions: outside URLs that receive signed events (admins), their test event and delivery log.
import { api } from '../lib/api.js';

export const list = () => api('GET', '/subscriptions');
export const create = (body) => api('POST', '/subscriptions', body);
export const update = (id, fields) => api('PATCH', `/subscriptions/${id}`, fields);
export const remove = (id) => api('DELETE', `/subscriptions/${id}`);
export const test = (id) => api('POST', `/subscriptions/${id}/test`);
export const deliveries = (id) => api('GET', `/subscriptions/${id}/deliveries`);

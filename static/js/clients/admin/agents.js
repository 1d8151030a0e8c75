// /agents: the people who sign in, their role, queues, capacity and second factor.
import { api } from '../../lib/api.js';

export const list = () => api('GET', '/agents');
export const create = (body) => api('POST', '/agents', body);
export const update = (id, fields) => api('PATCH', `/agents/${id}`, fields);
export const resetTwoFactor = (id) => api('DELETE', `/agents/${id}/two-factor`);

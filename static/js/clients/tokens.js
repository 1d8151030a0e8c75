// /tokens: your own API tokens; /agents/<id>/tokens: any agent's, for admins.
import { api } from '../lib/api.js';

export const list = () => api('GET', '/tokens');
export const issue = (body) => api('POST', '/tokens', body);
export const revoke = (id) => api('DELETE', `/tokens/${id}`);
export const listFor = (agentId) => api('GET', `/agents/${agentId}/tokens`);
export const revokeFor = (agentId, id) => api('DELETE', `/agents/${agentId}/tokens/${id}`);

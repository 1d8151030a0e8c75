// /bulk: bulk actions, dry-run first, then run as a job that reports its items and can be undone.
import { api } from '../lib/api.js';

export const dryRun = (body) => api('POST', '/bulk/dry-run', body);
export const start = (body) => api('POST', '/bulk', body);
export const recent = () => api('GET', '/bulk');
export const items = (id, result, limit) => api('GET', `/bulk/${id}/items?result=${result}&limit=${limit}`);
export const undo = (id) => api('POST', `/bulk/${id}/undo`);

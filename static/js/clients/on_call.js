// /queues/<slug>/on-call: a queue's rota; /on-call: who is on call now.
import { api } from '../lib/api.js';

export const rota = (slug) => api('GET', `/queues/${encodeURIComponent(slug)}/on-call`);
export const replace = (slug, shifts) => api('PUT', `/queues/${encodeURIComponent(slug)}/on-call`, { shifts });
export const now = () => api('GET', '/on-call');

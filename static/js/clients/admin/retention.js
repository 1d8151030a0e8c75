// /retention: the job that redacts or deletes conversations closed long ago, and its progress.
import { api } from '../../lib/api.js';

export const start = (days, mode) => api('POST', '/retention', { days, mode });
export const get = (id) => api('GET', `/retention/${encodeURIComponent(id)}`);

// /channels: where posts come from, their webhook secrets and settings.
import { api } from '../../lib/api.js';

export const list = () => api('GET', '/channels');
export const create = (body) => api('POST', '/channels', body);
export const update = (slug, fields) => api('PATCH', `/channels/${slug}`, fields);

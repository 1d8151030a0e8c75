// /articles: the knowledge base: search and read (agents), manage (admins).
import { api } from '../lib/api.js';

export const search = (q) => api('GET', `/articles?q=${encodeURIComponent(q)}`);
export const get = (id) => api('GET', `/articles/${id}`);
export const create = (body) => api('POST', '/articles', body);
export const update = (id, body) => api('PATCH', `/articles/${id}`, body);
export const remove = (id) => api('DELETE', `/articles/${id}`);

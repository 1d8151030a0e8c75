// /macros: finding, previewing and applying macros, and managing the library (admin).
import { api } from '../lib/api.js';

export const search = (q) => api('GET', `/macros?q=${encodeURIComponent(q)}`);
export const preview = (id, conversationId) => api('POST', `/macros/${id}/preview`, { conversation_id: conversationId });
export const apply = (id, conversationId) => api('POST', `/conversations/${conversationId}/macros/${id}`);

// Managing the library.
export const manageList = () => api('GET', '/macros?manage=1');
export const create = (body) => api('POST', '/macros', body);
export const update = (id, body) => api('PATCH', `/macros/${id}`, body);
export const remove = (id) => api('DELETE', `/macros/${id}`);
export const exportAll = () => api('GET', '/macros/export');
export const importAll = (data) => api('POST', '/macros/import', data);

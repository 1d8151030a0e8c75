// /conversations: one conversation, changing it, replying, notes, the next one to work on, search.
import { api } from '../lib/api.js';

export const get = (id) => api('GET', `/conversations/${id}`);
export const update = (id, fields) => api('PATCH', `/conversations/${id}`, fields);
export const reply = (id, text) => api('POST', `/conversations/${id}/replies`, { text });
export const addNote = (id, text) => api('POST', `/conversations/${id}/notes`, { text });
// Hand the agent the next conversation to work on (assigning it to them).
export const next = () => api('POST', '/conversations/next', {});
export const search = (text) => api('GET', `/search?q=${encodeURIComponent(text)}`);

// /authors: the customer behind a conversation, their tags and the agents' notes on them.
import { api } from '../lib/api.js';

export const get = (id) => api('GET', `/authors/${id}`);
export const update = (id, fields) => api('PATCH', `/authors/${id}`, fields);
export const addNote = (id, text) => api('POST', `/authors/${id}/notes`, { text });
export const editNote = (id, noteId, text) => api('PATCH', `/authors/${id}/notes/${noteId}`, { text });
export const deleteNote = (id, noteId) => api('DELETE', `/authors/${id}/notes/${noteId}`);

// /conversations: one conversation, changing it, replying, notes, the next one to work on, search.
import { api } from '../lib/api.js';

export const get = (id) => api('GET', `/conversations/${id}`);
export const update = (id, fields) => api('PATCH', `/conversations/${id}`, fields);
// `email` (email conversations only): { cc, bcc, attachments: [{ filename, content_base64 }] }.
export const reply = (id, text, email = {}) => api('POST', `/conversations/${id}/replies`, { text, ...email });
export const forward = (id, fields) => api('POST', `/conversations/${id}/forwards`, fields);
// Start a conversation by sending a new email: { channel, queue, to, cc, bcc, subject, text, attachments }.
export const startByEmail = (fields) => api('POST', '/conversations', fields);
export const addNote = (id, text) => api('POST', `/conversations/${id}/notes`, { text });
// Hand the agent the next conversation to work on (assigning it to them).
export const next = () => api('POST', '/conversations/next', {});
// One page of search results; `cursor` continues a search, `signal` cancels it.
export function search(text, { cursor, limit, signal } = {}) {
  const params = new URLSearchParams({ q: text });
  if (cursor) params.set('cursor', cursor);
  if (limit) params.set('limit', limit);
  return api('GET', `/search?${params}`, undefined, { signal });
}
// Merging a duplicate into another conversation, splitting one, and undoing either.
export const merge = (id, into) => api('POST', `/conversations/${id}/merge`, { into });
export const split = (id, messageId) => api('POST', `/conversations/${id}/split`, { message_id: messageId });
export const splitMessages = (id, messageIds) => api('POST', `/conversations/${id}/split-messages`,
  { message_ids: messageIds });
export const undoMerge = (mergeId) => api('POST', `/conversation-merges/${mergeId}/undo`);
export const mergeMany = (ids, into) => api('POST', '/conversations/merge', { ids, into });

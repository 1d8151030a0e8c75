// /conversations/:id/suggestions: what the ranker suggests beside a conversation, and what the agent did with it.
import { api } from '../lib/api.js';

export const knownIssues = (conversationId) => api('GET', `/conversations/${conversationId}/known-issues`);
export const summary = (conversationId) => api('GET', `/conversations/${conversationId}/summary`);
export const draft = (conversationId) => api('POST', `/conversations/${conversationId}/draft`);
export const list = (conversationId) => api('GET', `/conversations/${conversationId}/suggestions`);
export const record = (conversationId, id, outcome) =>
  api('POST', `/conversations/${conversationId}/suggestions/${id}/outcome`, { outcome });
// Admins: versions with their gate decisions and acceptance, and training a new one.
export const versions = () => api('GET', '/suggestions/versions');
export const train = (force) => api('POST', '/suggestions/versions', { force });

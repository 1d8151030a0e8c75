// Escalating a conversation to the ticketing system.
import { api } from '../lib/api.js';

export const escalate = (conversationId) => api('POST', `/conversations/${conversationId}/escalate`);

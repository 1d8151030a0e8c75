// /queues as agents read them: the queues with their live counts, and one queue's conversations in work order.
import { api } from '../lib/api.js';

// The priority levels, most urgent first, as the API names them.
export const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

export const list = () => api('GET', '/queues');
// One page of a queue's conversations; `params` are URLSearchParams (status, assignee, tag, cursor...).
export const conversations = (slug, params) => api('GET', `/queues/${encodeURIComponent(slug)}/conversations?${params}`);

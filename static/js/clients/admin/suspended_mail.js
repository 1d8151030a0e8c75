// /suspended-mail: mail held back from flooding senders, released into the queues or dropped.
import { api } from '../../lib/api.js';

export const list = () => api('GET', '/suspended-mail');
export const release = (id) => api('POST', `/suspended-mail/${id}/release`);
export const drop = (id) => api('DELETE', `/suspended-mail/${id}`);

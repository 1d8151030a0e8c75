// Queues as admins change them (reading them: clients/queues.js).
import { api } from '../../lib/api.js';

export const create = (body) => api('POST', '/queues', body);
export const update = (slug, fields) => api('PATCH', `/queues/${slug}`, fields);

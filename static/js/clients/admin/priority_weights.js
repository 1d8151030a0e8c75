// /routing/priority-weights: the weights priority is scored with, and a what-if of a change.
import { api } from '../../lib/api.js';

export const get = () => api('GET', '/routing/priority-weights');
export const save = (values) => api('PUT', '/routing/priority-weights', values);
export const preview = (values) => api('POST', '/routing/priority-weights/preview', values);

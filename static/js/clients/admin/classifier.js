// The classifier as admins train and run it: trained versions, training from an uploaded history, promotion,
// roll back and routing accuracy.
import { api } from '../../lib/api.js';

export const versions = () => api('GET', '/routing/models');
export const train = (body) => api('POST', '/routing/train', body);
export const promote = (version, force = false) => api('POST', `/routing/models/${encodeURIComponent(version)}/promote`,
  { force });
export const rollback = () => api('POST', '/routing/rollback');
// How often the model's queue was the final one, over the last `days` days.
export const accuracy = (days) => api('GET', `/routing/accuracy?days=${days}`);

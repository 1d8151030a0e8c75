// The classifier as admins train it: trained versions, and training from an uploaded history.
import { api } from '../../lib/api.js';

export const versions = () => api('GET', '/routing/models');
export const train = (body) => api('POST', '/routing/train', body);

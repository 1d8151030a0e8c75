// /audit: the audit log (admins), a page at a time, and the address of its CSV export.
import { api, API_ROOT } from '../lib/api.js';

const query = (filters) => new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== '' && v != null));

export const list = (filters, cursor) => api('GET', `/audit?${query({ ...filters, cursor })}`);
export const exportUrl = (filters) => `${API_ROOT}/audit?${query({ ...filters, format: 'csv' })}`;

// /alerts/settings: where incidents are posted, incident tickets, and the weekly report's mail (admins).
import { api } from '../lib/api.js';

export const settings = () => api('GET', '/alerts/settings');
export const update = (fields) => api('PATCH', '/alerts/settings', fields);

// /dashboard: the supervisors' snapshot and the conversations behind each of its figures.
import { API_ROOT, api } from '../lib/api.js';

export const snapshot = () => api('GET', '/dashboard');
// `params` names a figure (metric, queue, bucket, agent_id, incident_id).
export const conversations = (params) => api('GET', `/dashboard/conversations?${new URLSearchParams(params)}`);
// The address of the CSV download of the same conversations (a link, not a call).
export const drilldownCsv = (params) => `${API_ROOT}/dashboard/export?table=drilldown&${new URLSearchParams(params)}`;

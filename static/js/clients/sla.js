// SLA set-up (admin): business-hours calendars and each queue's SLA policy per priority level.
import { api } from '../lib/api.js';

export const calendars = () => api('GET', '/calendars');
export const createCalendar = (body) => api('POST', '/calendars', body);
export const updateCalendar = (id, body) => api('PATCH', `/calendars/${id}`, body);
export const importHolidays = (id, ical) => api('POST', `/calendars/${id}/import`, { ical });
export const deleteCalendar = (id) => api('DELETE', `/calendars/${id}`);

export const policies = (queue) => api('GET', `/queues/${queue}/sla`);
export const savePolicy = (queue, level, body) => api('PUT', `/queues/${queue}/sla/${level}`, body);
export const deletePolicy = (queue, level) => api('DELETE', `/queues/${queue}/sla/${level}`);

// /notifications: your list, unread count and marking read; /push: the VAPID key and your devices.
import { api } from '../lib/api.js';

export const list = (before) => api('GET', `/notifications?limit=30${before ? `&before=${before}` : ''}`);
export const markRead = (body) => api('POST', '/notifications/read', body);
export const settings = () => api('GET', '/notifications/settings');
export const updateSettings = (body) => api('PATCH', '/notifications/settings', body);
export const pushKey = () => api('GET', '/push/key');
export const devices = () => api('GET', '/push/devices');
export const addDevice = (subscription) => api('POST', '/push/devices', subscription);
export const removeDevice = (id) => api('DELETE', `/push/devices/${id}`);

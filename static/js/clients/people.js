// People: one customer across channels, the links between their authors, and their custom fields.
import { api } from '../lib/api.js';

export const setFields = (authorId, fields) => api('PATCH', `/authors/${authorId}/fields`, { fields });
export const link = (authorId, otherAuthorId, confirm) =>
  api('POST', `/authors/${authorId}/links`, { other_author_id: otherAuthorId, confirm });
export const confirmLink = (id) => api('POST', `/person-links/${id}/confirm`);
export const dismissLink = (id) => api('POST', `/person-links/${id}/dismiss`);
export const undoLink = (id) => api('POST', `/person-links/${id}/undo`);
export const importPeople = (people) => api('POST', '/people/import', { people });
export const exportPerson = (authorId) => api('GET', `/authors/${authorId}/export`);
export const erasePerson = (authorId) => api('POST', `/authors/${authorId}/erase`);

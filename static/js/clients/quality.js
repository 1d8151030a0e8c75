// /qa: samples of agents' replies to review, the reviews, and weekly averages.
import { api } from '../lib/api.js';

export const sample = (params) => api('GET', `/qa/sample?${params}`);
export const review = (body) => api('POST', '/qa/reviews', body);
export const reviews = () => api('GET', '/qa/reviews');
export const averages = () => api('GET', '/qa/averages');

// One row of a token table (the agent's own page and the admin page): name, scopes, dates, and Revoke.
import { el } from '../lib/dom.js';

const day = (iso) => (iso ? new Date(iso).toLocaleString() : '');

// `revoke` is called (after a confirmation) with the token; a revoked token shows when, not a button.
export function tokenRow(token, revoke) {
  const action = token.revoked_at
    ? el('span', { text: `revoked ${day(token.revoked_at)}` })
    : el('button', { type: 'button', text: 'Revoke', 'aria-label': `Revoke token ${token.name}`,
      onclick: () => confirm(`Revoke "${token.name}"? Whatever uses it stops working at once.`) && revoke(token) });
  return el('tr', { dataset: { id: token.id } }, el('td', { text: token.name }),
    el('td', { text: token.scopes.join(', ') }), el('td', { text: day(token.created_at) }),
    el('td', { text: token.expires_at ? day(token.expires_at) : 'never' }),
    el('td', { text: token.last_used_at ? day(token.last_used_at) : 'never' }), el('td', {}, action));
}

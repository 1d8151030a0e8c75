// Your API tokens: list them, issue one (its secret is shown once), revoke one.
import * as tokens from '../clients/tokens.js';
import { tokenRow } from '../features/tokens.js';
import { attempt } from '../lib/api.js';
import { $ } from '../lib/dom.js';

async function load() {
  const list = await attempt(() => tokens.list());
  if (list) $('#tokens tbody').replaceChildren(...list.data.map((token) => tokenRow(token, revoke)));
}

async function revoke(token) {
  await attempt(() => tokens.revoke(token.id), 'Token revoked');
  await load();
}

$('#new-token').addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  const body = { name: data.get('name'), scopes: data.getAll('scopes') };
  if (data.get('expires')) body.expires = data.get('expires');
  const made = await attempt(() => tokens.issue(body), 'Token issued');
  if (!made) return;
  $('#secret code').textContent = made.token;
  $('#secret').hidden = false;
  $('#secret code').focus();
  event.target.reset();
  await load();
});
load();

// The admin page's API tokens section: pick an agent, see their tokens, revoke one.
import * as agents from '../clients/admin/agents.js';
import * as tokens from '../clients/tokens.js';
import { tokenRow } from '../features/tokens.js';
import { attempt } from '../lib/api.js';
import { $, el } from '../lib/dom.js';

const picker = $('#token-agent');

async function show() {
  const agentId = picker.value;
  const list = agentId ? await attempt(() => tokens.listFor(agentId)) : { data: [] };
  if (!list) return;
  $('#agent-tokens tbody').replaceChildren(...list.data.map((token) => tokenRow(token, async (revoked) => {
    await attempt(() => tokens.revokeFor(agentId, revoked.id), 'Token revoked');
    await show();
  })));
}

async function load() {
  const list = await attempt(() => agents.list());
  if (!list) return;
  picker.replaceChildren(el('option', { value: '', text: 'Choose an agent' }),
    ...list.data.map((agent) => el('option', { value: agent.id, text: `${agent.name} (${agent.email})` })));
}

picker.addEventListener('change', show);
load();

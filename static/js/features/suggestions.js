// Suggestions beside the open conversation: macros and past replies, each with its source and confidence.
// A digit key (or a click) puts one in the composer; nothing is ever sent from here. What the agent did
// with each is recorded: inserted, then sent as is or edited, and the rest ignored when a reply goes out.
import * as macros from '../clients/macros.js';
import * as suggestions from '../clients/suggestions.js';
import { attempt } from '../lib/api.js';
import { $, el, fill, toast } from '../lib/dom.js';

const shown = { conversationId: null, items: [], inserted: null, text: '' };

function describe(s) {
  const percent = `${Math.round(s.confidence * 100)}%`;
  if (s.kind === 'macro') {
    const why = s.evidence === 'learned' ? 'applied to similar posts' : 'its words match';
    return [el('strong', { text: `Macro: ${s.source.name}` }), ` · ${percent} · ${why}`];
  }
  return [el('strong', { text: `Past reply (conversation #${s.source.conversation_id})` }),
    ` · ${percent} similar post`, el('span', { class: 'suggestion-text', text: s.source.text })];
}

function render() {
  const items = shown.items.map((s, index) => el('li', {},
    el('button', { type: 'button', class: 'suggestion', dataset: { id: s.id },
                   title: `Insert into the reply (${index + 1})`, onclick: () => insertSuggestion(index + 1) },
      el('kbd', { text: String(index + 1) }), ' ', ...describe(s))));
  fill($('#suggestions'), el('h2', { text: 'Suggested' }),
    items.length ? el('ol', {}, items) : el('p', { class: 'meta', text: 'Nothing to suggest for this post.' }));
}

// Show the suggestions for a conversation just opened.
export async function showSuggestions(conversationId) {
  shown.conversationId = conversationId;
  shown.items = [];
  shown.inserted = null;
  const answer = await attempt(() => suggestions.list(conversationId));
  if (!answer || shown.conversationId !== conversationId) return;
  shown.items = answer.data;
  render();
}

// Put suggestion `number` (1-based) into the composer as the reply text; the agent still sends it.
export async function insertSuggestion(number) {
  const s = shown.items[number - 1];
  if (!s) return;
  let text = s.kind === 'reply' ? s.source.text : null;
  if (s.kind === 'macro') {
    const result = await attempt(() => macros.preview(s.source.macro_id, shown.conversationId));
    text = result && result.reply;
  }
  if (!text) { toast('That macro has no reply text'); return; }
  document.querySelector('input[name="kind"][value="reply"]').click();
  $('#reply-text').value = text;
  $('#reply-text').focus();
  shown.inserted = s;
  shown.text = text;
  if (s.outcome === 'shown') {
    const answer = await attempt(() => suggestions.record(shown.conversationId, s.id, 'inserted'));
    if (answer) s.outcome = answer.outcome;
  }
}

// A reply went out: the inserted suggestion was sent (as is or edited), the others were passed by.
export async function replySent(text) {
  const conversationId = shown.conversationId;
  const settled = shown.items.map((s) => {
    if (s === shown.inserted && s.outcome === 'inserted') return [s, text.trim() === shown.text.trim() ? 'sent' : 'edited'];
    return ['shown', 'inserted'].includes(s.outcome) ? [s, 'ignored'] : null;
  }).filter(Boolean);
  shown.inserted = null;
  await Promise.all(settled.map(async ([s, outcome]) => {
    const answer = await attempt(() => suggestions.record(conversationId, s.id, outcome));
    if (answer) s.outcome = answer.outcome;
  }));
}

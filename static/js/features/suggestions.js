// Suggestions beside the open conversation: macros, past replies and help articles, each with its source and
// confidence, and a search of the knowledge base. A digit key (or a click) puts one in the composer (an
// article as its link, or its excerpt when it has none); nothing is ever sent from here. What the agent did
// with each is recorded: inserted, then sent as is or edited, and the rest ignored when a reply goes out.
import * as articles from '../clients/articles.js';
import * as macros from '../clients/macros.js';
import * as suggestions from '../clients/suggestions.js';
import { attempt } from '../lib/api.js';
import { $, el, fill, toast } from '../lib/dom.js';

const shown = { conversationId: null, items: [], inserted: null, text: '', issues: [] };

function describe(s) {
  const percent = `${Math.round(s.confidence * 100)}%`;
  if (s.kind === 'macro') {
    const why = s.evidence === 'learned' ? 'applied to similar posts' : 'its words match';
    return [el('strong', { text: `Macro: ${s.source.name}` }), ` · ${percent} · ${why}`];
  }
  if (s.kind === 'article') {
    return [el('strong', { text: `Article: ${s.source.title}` }), ` · ${percent} · its words match`,
      el('span', { class: 'suggestion-text', text: s.source.excerpt })];
  }
  return [el('strong', { text: `Past reply (conversation #${s.source.conversation_id})` }),
    ` · ${percent} similar post`, el('span', { class: 'suggestion-text', text: s.source.text })];
}

function render() {
  const items = shown.items.map((s, index) => el('li', {},
    el('button', { type: 'button', class: 'suggestion', dataset: { id: s.id },
                   title: `Insert into the reply (${index + 1})`, onclick: () => insertSuggestion(index + 1) },
      el('kbd', { text: String(index + 1) }), ' ', ...describe(s))));
  fill($('#suggestion-list'),
    items.length ? el('ol', {}, items) : el('p', { class: 'meta', text: 'Nothing to suggest for this post.' }));
}

// Put text in the composer as the reply: in place of nothing, or after what is already written.
function putInComposer(text) {
  document.querySelector('input[name="kind"][value="reply"]').click();
  const box = $('#reply-text');
  box.value = box.value.trim() ? `${box.value.trimEnd()}\n\n${text}` : text;
  box.focus();
}

function articleResult(article) {
  return el('li', {}, el('span', { class: 'article-title', text: article.title }),
    article.external_url && el('button', { type: 'button', text: 'Insert link',
                                           onclick: () => putInComposer(article.external_url) }),
    el('button', { type: 'button', text: 'Insert excerpt', onclick: () => putInComposer(article.excerpt) }));
}

async function searchArticles(event) {
  event.preventDefault();
  const answer = await attempt(() => articles.search($('#article-query').value));
  if (!answer) return;
  fill($('#article-results'), answer.data.length ? answer.data.map(articleResult)
    : el('li', { class: 'meta', text: 'No article has those words.' }));
}

// Ask the generator for a draft; it goes in the composer marked as generated, for the agent to check and send.
async function generateDraft() {
  const conversationId = shown.conversationId;
  const result = await attempt(() => suggestions.draft(conversationId));
  if (!result || shown.conversationId !== conversationId) return;
  if (result.abstained) { toast(`No draft: ${result.reason}`); return; }
  putInComposer(result.draft);
  $('#draft-mark').hidden = false;
}

export function initSuggestions() {
  $('#article-search').addEventListener('submit', searchArticles);
  $('#generate-draft').addEventListener('click', generateDraft);
  // The mark stays while the composer holds text: a generated draft is labelled until it is sent or cleared.
  $('#reply-text').addEventListener('input', () => { if (!$('#reply-text').value.trim()) $('#draft-mark').hidden = true; });
}

// Known issues (open incidents) of the conversation, each with its answer macro.
function renderIssues() {
  const box = $('#known-issues');
  box.hidden = !shown.issues.length;
  fill(box, ...shown.issues.map((issue, index) => el('p', {},
    el('strong', { text: `Known issue: ${issue.title}` }), issue.member ? '' : ' (its phrase matches this post)',
    issue.answer_macro && el('button', { type: 'button', title: index === 0 ? 'Use its answer (u)' : 'Use its answer',
                                         onclick: () => useKnownAnswer(index) },
      index === 0 && el('kbd', { text: 'u' }), ` Use “${issue.answer_macro.name}”`))));
}

// A thread this long or longer opens with its summary on top.
const SUMMARY_FROM_MESSAGES = 3;

function renderSummary(summary) {
  const box = $('#summary');
  box.hidden = !summary || !summary.problem || summary.messages < SUMMARY_FROM_MESSAGES;
  if (box.hidden) return;
  fill($('#summary-body'), el('p', {}, el('strong', { text: 'Problem: ' }), summary.problem),
    ...summary.tried.map((item) => el('p', {}, el('strong', { text: 'Tried: ' }), item)),
    summary.last && el('p', {}, el('strong', { text: 'Last: ' }), summary.last));
}

// A conversation was just opened: nothing of the previous one's is shown or inserted while its own load.
export function clearSuggestions(conversationId) {
  shown.conversationId = conversationId;
  shown.items = [];
  shown.issues = [];
  shown.inserted = null;
  $('#draft-mark').hidden = true;
  renderSummary(null);
  renderIssues();
  fill($('#suggestion-list'));
}

// Show the suggestions, known issues and summary for a conversation just opened, each as it comes. They are
// asked for one after the other, and no more once another conversation is shown: a request waiting at the
// server would hold up the agent's next j or n behind it.
export async function showSuggestions(conversationId) {
  if (shown.conversationId !== conversationId) clearSuggestions(conversationId);
  const still = () => shown.conversationId === conversationId;
  const answer = await attempt(() => suggestions.list(conversationId));
  if (!still()) return;
  shown.items = answer ? answer.data : [];
  render();
  const issues = await attempt(() => suggestions.knownIssues(conversationId));
  if (!still()) return;
  shown.issues = issues ? issues.data : [];
  renderIssues();
  const summary = await attempt(() => suggestions.summary(conversationId));
  if (still()) renderSummary(summary);
}

async function insertMacro(macroId) {
  const result = await attempt(() => macros.preview(macroId, shown.conversationId));
  if (!result || !result.reply) { toast('That macro has no reply text'); return false; }
  putInComposer(result.reply);
  return true;
}

// Put a known issue's answer macro (the first issue's by default) in the composer; the agent still sends it.
export async function useKnownAnswer(index = 0) {
  const issue = shown.issues[index];
  if (issue && issue.answer_macro) await insertMacro(issue.answer_macro.id);
}

// Put suggestion `number` (1-based) into the composer as the reply text; the agent still sends it.
export async function insertSuggestion(number) {
  const s = shown.items[number - 1];
  if (!s) return;
  if (s.kind === 'macro') {
    if (!await insertMacro(s.source.macro_id)) return;
  } else {
    putInComposer(s.kind === 'reply' ? s.source.text : (s.source.url || s.source.excerpt));
  }
  shown.inserted = s;
  shown.text = $('#reply-text').value;
  if (s.outcome === 'shown') {
    const answer = await attempt(() => suggestions.record(shown.conversationId, s.id, 'inserted'));
    if (answer) s.outcome = answer.outcome;
  }
}

// A reply went out: the inserted suggestion was sent (as is or edited), the others were passed by.
export async function replySent(text) {
  const conversationId = shown.conversationId;
  $('#draft-mark').hidden = true;
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

// The search box: results as the agent types (debounced; a newer query cancels the older request), an ARIA
// combobox over a listbox of results, keyboard driven (↑/↓ choose, Enter opens, Esc closes), "More results"
// pages on with the server's cursor, and the syntax help one Tab away.
import * as conversations from '../../clients/conversations.js';
import { $, ago, el, exactTime, fill } from '../../lib/dom.js';

const DEBOUNCE_MS = 200;
const PAGE_SIZE = 20;
const MIN_CHARS = 2;  // the API refuses shorter queries

const box = { timer: null, controller: null, query: '', cursor: null, results: [], active: -1, open: null, list: null };

const input = () => $('#search');
const panel = () => $('#search-panel');

// The snippet as text nodes with each matched word in <mark>: the server sends plain-text pieces, so the
// post is never parsed as HTML.
function snippet(pieces) {
  return el('span', { class: 'snippet' }, ...pieces.map((piece) => (piece.mark ? el('mark', { text: piece.text }) : piece.text)));
}

function renderOption(result, index) {
  return el('li', { id: `search-option-${result.id}`, role: 'option', class: 'search-option',
                    'aria-selected': index === box.active ? 'true' : 'false', dataset: { index },
                    onmousedown: (event) => event.preventDefault(),  // keep the focus in the box
                    onclick: () => choose(index) },
    el('span', { class: 'search-who', text: result.author.name || `@${result.author.handle}` }),
    el('span', { class: 'search-meta', title: `last post ${exactTime(result.last_message_at)}`,
                 text: ` · ${result.queue || 'no queue'} · ${result.status} · last post ${ago(result.last_message_at)}` }),
    result.subject && el('span', { class: 'search-subject', text: result.subject }),
    snippet(result.highlights || []));
}

function render() {
  fill($('#search-results'), ...box.results.map(renderOption));
  $('#search-more').hidden = !box.cursor;
  const option = box.results[box.active];
  if (option) {
    input().setAttribute('aria-activedescendant', `search-option-${option.id}`);
    document.getElementById(`search-option-${option.id}`).scrollIntoView({ block: 'nearest' });
  } else {
    input().removeAttribute('aria-activedescendant');
  }
}

function say(text) { $('#search-status').textContent = text; }

function show(open) {
  panel().hidden = !open;
  input().setAttribute('aria-expanded', open ? 'true' : 'false');
  if (!open) { box.active = -1; render(); }
}

// Fetch a page of results for the box's query: the first (replacing) or the next (appending).
async function fetchPage(more) {
  if (box.controller) box.controller.abort();  // whatever is still on its way answers a query no longer typed
  const controller = new AbortController();
  box.controller = controller;
  say('Searching…');
  try {
    const page = await conversations.search(box.query, { cursor: more ? box.cursor : null, limit: PAGE_SIZE,
                                                         signal: controller.signal });
    box.results = more ? [...box.results, ...page.data] : page.data;
    box.cursor = page.next_cursor;
    if (!more) box.active = -1;
    render();
    const count = `${box.results.length}${box.cursor ? '+' : ''}`;
    say(box.results.length ? `${count} result${box.results.length === 1 ? '' : 's'}; ↑ ↓ to choose, Enter to open`
      : 'No results');
  } catch (error) {
    if (error.name === 'AbortError') return;
    box.results = []; box.cursor = null; render();
    say(error.message);  // a filter it cannot read, e.g. status:bogus
  } finally {
    if (box.controller === controller) box.controller = null;
  }
}

function typed() {
  clearTimeout(box.timer);
  const query = input().value.trim();
  show(true);
  if (query.length < MIN_CHARS) {
    if (box.controller) box.controller.abort();
    box.query = ''; box.results = []; box.cursor = null; render();
    say('Type at least 2 characters');
    return;
  }
  box.timer = setTimeout(() => { box.query = query; fetchPage(false); }, DEBOUNCE_MS);
}

function move(step) {
  if (panel().hidden) show(true);
  if (!box.results.length) return;
  box.active = (box.active + step + box.results.length) % box.results.length;
  render();
}

function choose(index) {
  const result = box.results[index];
  if (!result) return;
  show(false);
  input().blur();  // the console's keys (reply, resolve, j/k) work on the conversation now open
  box.open(result.id);
}

function keydown(event) {
  if (event.key === 'ArrowDown') { event.preventDefault(); move(1); }
  else if (event.key === 'ArrowUp') { event.preventDefault(); move(-1); }
  else if (event.key === 'Enter') {
    event.preventDefault();
    if (box.active >= 0 && !panel().hidden) choose(box.active);
    else { clearTimeout(box.timer); show(false); box.list(input().value); }  // every result, in the list
  } else if (event.key === 'Escape' && !panel().hidden) {
    event.stopPropagation();  // the first Esc closes the results; the console's own Esc then leaves the box
    event.preventDefault();  // a search field's Esc would also clear it, and that input would reopen them
    show(false);
  }
}

// open(id): open a conversation; list(text): show a search's results in the list pane.
export function initSearch({ open, list }) {
  Object.assign(box, { open, list });
  input().addEventListener('input', typed);
  input().addEventListener('focus', () => { show(true); if (!input().value.trim()) say('Type at least 2 characters'); });
  input().addEventListener('keydown', keydown);
  $('#search-more').addEventListener('click', () => { fetchPage(true); input().focus(); });
  $('#search-box').addEventListener('focusout', (event) => {
    if (!$('#search-box').contains(event.relatedTarget)) show(false);
  });
}

// The admin page's suggestion versions: each training's gate decision and how agents used its suggestions.
import * as suggestions from '../clients/suggestions.js';
import { attempt } from '../lib/api.js';
import { $, el, toast } from '../lib/dom.js';

const percent = (rate) => (rate == null ? '–' : `${Math.round(rate * 100)}%`);

function versionRow(v) {
  const o = v.outcomes;
  return el('tr', { dataset: { id: v.id } },
    el('td', { text: `#${v.id}${v.active ? ' (active)' : ''}` }),
    el('td', { text: v.trained_at ? new Date(v.trained_at).toLocaleString() : '' }),
    el('td', { text: v.decision }), el('td', { text: v.shown }), el('td', { text: o.inserted }),
    el('td', { text: o.sent }), el('td', { text: o.edited }), el('td', { text: o.ignored }),
    el('td', { text: percent(v.insert_rate) }));
}

async function load() {
  const answer = await attempt(() => suggestions.versions());
  if (answer) $('#suggestion-versions tbody').replaceChildren(...answer.data.map(versionRow));
}

$('#suggestions-train').addEventListener('click', async () => {
  if (await attempt(() => suggestions.train(false))) toast('Training in a worker: the new version shows here when done');
  await load();
});
load();

// Quality review: draw a sample of agents' replies, score each on the scorecard, see averages per week.
import * as agents from '../clients/admin/agents.js';
import * as quality from '../clients/quality.js';
import * as queues from '../clients/queues.js';
import { $, el, toast } from '../lib/dom.js';
import { conversationPage } from '../lib/routes.js';

const SCORES = ['accuracy', 'tone', 'resolution'];

function scale(name) {
  return el('label', {}, `${name} `, el('select', { name, required: true },
    el('option', { value: '', text: '–' }), ...[1, 2, 3, 4, 5].map((n) => el('option', { value: n, text: n }))));
}

function sampleCard(reply) {
  const form = el('form', { class: 'row-form' }, ...SCORES.map(scale),
    el('input', { name: 'comment', placeholder: 'Comment for the agent', 'aria-label': 'Comment for the agent', maxlength: 5000, size: 50 }),
    el('button', { type: 'submit', class: 'primary', text: 'Save review' }));
  const card = el('div', { class: 'sample', dataset: { messageId: reply.id } },
    el('div', { class: 'muted' }, `${reply.agent.name} · `, el('a', { href: conversationPage(reply.conversation_id),
      text: `#${reply.conversation_id}` }), ` · ${reply.queue || ''} · sentiment ${reply.sentiment ?? '–'}`),
    el('div', { class: 'reply', text: reply.text }), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await quality.review({ message_id: reply.id, comment: data.get('comment'),
        ...Object.fromEntries(SCORES.map((name) => [name, Number(data.get(name))])) });
      card.remove();
      toast('Review saved');
      loadTables();
    } catch (error) { toast(error.message); }
  });
  return card;
}

async function loadTables() {
  const [averages, recent] = await Promise.all([quality.averages(), quality.reviews()]);
  $('#averages tbody').replaceChildren(...averages.data.flatMap((row) => row.weeks.map((week) => el('tr', {},
    el('td', { text: row.agent.name }), el('td', { text: week.week }), el('td', { text: week.reviews }),
    ...SCORES.map((name) => el('td', { text: week[name].toFixed(2) }))))));
  $('#recent tbody').replaceChildren(...recent.data.map((r) => el('tr', {},
    el('td', { text: new Date(r.created_at).toLocaleString() }), el('td', { text: r.agent.name }),
    el('td', { class: 'reply', text: r.reply }), ...SCORES.map((name) => el('td', { text: r[name] })),
    el('td', { text: r.comment }), el('td', { text: r.reviewer.name }))));
}

async function loadChoices() {
  const [agents, queues] = await Promise.all([agents.list(), queues.list()]);
  $('select[name=agent_id]').append(...agents.data.map((a) => el('option', { value: a.id, text: a.name })));
  $('select[name=queue]').append(...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
}

$('#sample-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const params = new URLSearchParams([...new FormData(event.target)].filter(([, v]) => v !== ''));
  try {
    const { data } = await quality.sample(params);
    $('#samples').replaceChildren(...(data.length ? data.map(sampleCard)
      : [el('p', { class: 'empty', text: 'No unreviewed replies fit that.' })]));
  } catch (error) { toast(error.message); }
});
loadChoices().catch((error) => toast(error.message));
loadTables().catch((error) => toast(error.message));

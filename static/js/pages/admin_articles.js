// The admin page's help articles: list, create and edit (Markdown checked and rendered by the server), delete.
import * as articles from '../clients/articles.js';
import { list as listQueues } from '../clients/queues.js';
import { attempt } from '../lib/api.js';
import { $, commaList, el, toast } from '../lib/dom.js';

const form = $('#article-form');

function edit(article) {
  const fields = form.elements;
  fields.id.value = article ? article.id : '';
  for (const name of ['title', 'slug', 'body', 'external_url']) fields[name].value = (article && article[name]) || '';
  fields.status.value = article ? article.status : 'draft';
  fields.queue.value = (article && article.queue) || '';
  fields.locale.value = article ? article.locale : 'en';
  fields.tags.value = article ? article.tags.join(', ') : '';
  fields.title.focus();
}

function articleRow(article) {
  return el('tr', { dataset: { id: article.id } }, el('td', { text: article.title }), el('td', { text: article.slug }),
    el('td', { text: article.status }), el('td', { text: article.tags.join(', ') }), el('td', { text: article.source }),
    el('td', {}, el('button', { type: 'button', text: 'edit', onclick: async () => edit(await attempt(() => articles.get(article.id))) }),
      ' ', el('button', { type: 'button', text: 'delete',
                          onclick: () => confirm(`Delete the article "${article.title}"?`) && remove(article) })));
}

async function load() {
  const [list, queues] = await Promise.all([attempt(() => articles.search('')), attempt(() => listQueues())]);
  if (list) $('#articles tbody').replaceChildren(...list.data.map(articleRow));
  if (queues) {
    const chosen = form.elements.queue.value;
    form.elements.queue.replaceChildren(el('option', { value: '', text: '(every queue)' }),
      ...queues.data.map((q) => el('option', { value: q.slug, text: q.name })));
    form.elements.queue.value = chosen;
  }
}

async function remove(article) {
  if (await attempt(() => articles.remove(article.id))) { toast('Article deleted'); await load(); }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const fields = form.elements;
  const body = { title: fields.title.value, body: fields.body.value, status: fields.status.value,
                 queue: fields.queue.value || null, locale: fields.locale.value || 'en',
                 tags: commaList(fields.tags.value), external_url: fields.external_url.value || null };
  if (fields.slug.value) body.slug = fields.slug.value;
  const id = fields.id.value;
  if (await attempt(() => (id ? articles.update(id, body) : articles.create(body)))) {
    toast('Article saved');
    edit(null);
    await load();
  }
});
$('#article-new').addEventListener('click', () => edit(null));
load();

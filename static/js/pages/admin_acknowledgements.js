// The admin page's acknowledgements: a channel's automatic first reply, with its in- and out-of-hours texts.
import * as channels from '../clients/admin/channels.js';
import { attempt } from '../lib/api.js';
import { $, el, fill } from '../lib/dom.js';

const form = $('#acknowledgement-form');
let bySlug = new Map();

function show(slug) {
  const settings = bySlug.get(slug)?.acknowledgement || { enabled: false, in_hours: '', out_of_hours: '' };
  form.elements.enabled.checked = settings.enabled;
  form.elements.in_hours.value = settings.in_hours;
  form.elements.out_of_hours.value = settings.out_of_hours;
}

async function load(selected) {
  const list = await attempt(() => channels.list());
  if (!list) return;
  bySlug = new Map(list.data.map((c) => [c.slug, c]));
  fill(form.elements.channel, list.data.map((c) => el('option', { value: c.slug, text: `${c.name} (${c.kind})` })));
  if (selected) form.elements.channel.value = selected;
  show(form.elements.channel.value);
}

form.elements.channel.addEventListener('change', (event) => show(event.target.value));
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const slug = form.elements.channel.value;
  const acknowledgement = { enabled: form.elements.enabled.checked, in_hours: form.elements.in_hours.value,
    out_of_hours: form.elements.out_of_hours.value };
  await attempt(() => channels.update(slug, { acknowledgement }), 'Acknowledgement saved');
  await load(slug);
});
load();

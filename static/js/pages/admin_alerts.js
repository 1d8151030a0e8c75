// The admin page's "Telling engineering": the incident webhook and tickets, the weekly report's recipients
// and schedule.
import * as alerts from '../clients/alerts.js';
import { attempt } from '../lib/api.js';
import { $, el, fill } from '../lib/dom.js';

const form = $('#alerts-form');
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function show(current) {
  const { elements } = form;
  elements.slack_webhook_url.value = '';
  elements.remove_webhook.checked = false;
  elements.remove_webhook.disabled = current.slack_webhook === null;
  $('#alerts-webhook-now').textContent = current.slack_webhook
    ? `Posting to a webhook on ${current.slack_webhook.host}; leave the URL empty to keep it.`
    : 'No webhook: incidents are not posted.';
  elements.incident_tickets.checked = current.incident_tickets;
  elements.report_enabled.checked = current.report_enabled;
  elements.report_recipients.value = current.report_recipients.join('\n');
  elements.report_weekday.value = String(current.report_weekday);
  elements.report_hour.value = String(current.report_hour);
  $('#alerts-last-report').textContent = current.report_last_week
    ? `Last sent: the report of ${current.report_last_week}, ${new Date(current.report_last_sent_at).toLocaleString()}.`
    : 'No weekly report sent yet.';
}

function changes() {
  const { elements } = form;
  const fields = {
    incident_tickets: elements.incident_tickets.checked,
    report_enabled: elements.report_enabled.checked,
    report_recipients: elements.report_recipients.value.split(/[\s,;]+/).filter(Boolean),
    report_weekday: Number(elements.report_weekday.value),
    report_hour: Number(elements.report_hour.value),
  };
  if (elements.remove_webhook.checked) fields.slack_webhook_url = null;
  else if (elements.slack_webhook_url.value.trim()) fields.slack_webhook_url = elements.slack_webhook_url.value.trim();
  return fields;
}

fill(form.elements.report_weekday, WEEKDAYS.map((day, index) => el('option', { value: index, text: day })));
fill(form.elements.report_hour, Array.from({ length: 24 }, (_, hour) => el('option',
  { value: hour, text: `${String(hour).padStart(2, '0')}:00` })));
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const saved = await attempt(() => alerts.update(changes()), 'Alert settings saved');
  if (saved) show(saved);
});
attempt(() => alerts.settings()).then((current) => current && show(current));

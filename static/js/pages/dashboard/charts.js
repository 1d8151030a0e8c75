// The dashboard's charts (SVG): incoming posts per queue over the last 24 hours, and sentiment per hour.
import { $, el } from '../../lib/dom.js';
import { drill, openDrilldown } from './drilldown.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2d5bd7', '#e65100', '#2e7d32', '#8e24aa', '#00838f', '#c62828', '#6d4c41', '#546e7a'];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'style') node.style.cssText = value; // through the CSSOM: the CSP refuses style attributes
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function renderVolume(volume) {
  const queues = Object.keys(volume.series).sort();
  const count = 288;
  const max = Math.max(1, ...queues.flatMap((q) => volume.series[q]));
  const width = 960; const height = 170; const left = 28;
  const x = (i) => left + (i / (count - 1)) * (width - left - 4);
  const y = (v) => height - 16 - (v / max) * (height - 26);
  const start = Date.parse(volume.start);
  const step = volume.bucket_minutes * 60000;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': 'Incoming posts per 5 minutes per queue' },
  svg('line', { class: 'axis', x1: left, x2: width, y1: height - 16, y2: height - 16 }),
  svg('text', { x: 0, y: 12 }, String(max)), svg('text', { x: 0, y: height - 18 }, '0'));
  for (let i = 0; i < count; i += 48) {
    chart.append(svg('text', { x: x(i), y: height - 3 }, clock(new Date(start + i * step).toISOString())));
  }
  queues.forEach((queue, index) => {
    const points = volume.series[queue].map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { points, fill: 'none', stroke: COLORS[index % COLORS.length], 'stroke-width': 1.5,
      'data-queue': queue }));
  });
  // One clickable strip per half hour: it lists that half hour's buckets per queue, each a drill-down.
  for (let i = 0; i < count; i += 6) {
    chart.append(svg('rect', { class: 'hit', x: x(i), y: 0, width: x(6) - x(0), height: height - 16,
      onclick: () => showBuckets(volume, queues, i, start, step) }));
  }
  const legend = el('div', { class: 'legend' }, ...queues.map((queue, index) => el('span', {},
    el('i', { style: `background:${COLORS[index % COLORS.length]}` }), `${queue} (${volume.series[queue].reduce((a, b) => a + b, 0)})`)),
  el('span', { id: 'volume-detail', class: 'muted', text: queues.length ? 'Click the chart for the posts behind it.' : 'No posts in the last 24 hours.' }));
  $('#volume-chart').replaceChildren(chart, legend);
}

function showBuckets(volume, queues, first, start, step) {
  const links = [];
  for (let i = first; i < first + 6; i += 1) {
    const bucket = new Date(start + i * step).toISOString();
    for (const queue of queues) {
      const n = volume.series[queue][i];
      if (n) links.push(el('span', {}, `${clock(bucket)} ${queue} `, drill(n, `${queue} at ${clock(bucket)}`,
        { metric: 'volume', queue, bucket }), ' · '));
    }
  }
  $('#volume-detail').replaceChildren(...(links.length ? links : ['Nothing came in then.']));
}

export function renderSentiment({ hours }) {
  const width = 480; const height = 170; const barWidth = width / hours.length;
  const max = Math.max(1, ...hours.map((h) => h.posts));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': 'Posts per hour coloured by mean sentiment; the red part is negative posts' });
  hours.forEach((hour, i) => {
    const full = (hour.posts / max) * (height - 20);
    const negative = (hour.negative / max) * (height - 20);
    const tone = hour.mean === null ? '#cfd8dc' : hour.mean < -0.05 ? '#ef9a9a' : hour.mean > 0.05 ? '#a5d6a7' : '#b0bec5';
    const title = svg('title', {}, `${clock(hour.hour)}: ${hour.posts} posts, mean ${hour.mean ?? '–'}, ${hour.negative} negative`);
    chart.append(svg('rect', { x: i * barWidth + 1, y: height - 16 - full, width: barWidth - 2, height: full, fill: tone }, title),
      svg('rect', { x: i * barWidth + 1, y: height - 16 - negative, width: barWidth - 2, height: negative, fill: '#c62828',
        class: 'negative', style: 'cursor:pointer',
        onclick: () => openDrilldown(`Negative posts at ${clock(hour.hour)}`, { metric: 'negative', bucket: hour.hour }) }));
    if (i % 6 === 0) chart.append(svg('text', { x: i * barWidth, y: height - 3 }, clock(hour.hour)));
  });
  const posts = hours.reduce((a, h) => a + h.posts, 0);
  const negative = hours.reduce((a, h) => a + h.negative, 0);
  $('#sentiment-chart').replaceChildren(chart, el('div', { class: 'muted',
    text: `${posts} posts, ${negative} negative (red; click for them). Bars are green when the hour was positive on average, red when negative.` }));
}

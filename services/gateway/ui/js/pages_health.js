// Health per feature view: how old the newest event written online is against the view's TTL,
// the push rate, dead letters, and the project's materialization jobs with their progress.
// From the gateway's /health route (the materializer's metrics and job and dead-letter APIs).
import {api} from './api.js';
import {projectPath} from './catalog.js';
import {ageText, alert, h, table, time} from './dom.js';

export function freshness(view) {
  if (view.newest_event_age_seconds === undefined || view.newest_event_age_seconds === null) {
    return {cls: 'fresh-unknown', text: 'no write seen'};
  }
  if (view.ttl_seconds && view.newest_event_age_seconds > view.ttl_seconds) {
    return {cls: 'fresh-stale', text: 'older than its TTL'};
  }
  return {cls: 'fresh-ok', text: 'fresh'};
}

// The chart of the page shown, drawn once its canvas is in the page (mountHealth) and
// destroyed when the page goes (unmountHealth).
let chart = null;
const chartData = new WeakMap();  // canvas -> views

export function unmountHealth() {
  if (chart) chart.destroy();
  chart = null;
}

export function mountHealth(root) {
  const canvas = root.querySelector('#freshness-chart');
  if (canvas && chartData.has(canvas)) drawChart(canvas, chartData.get(canvas));
}

// Rows per second with the digits that say something: 0.0012, 0.5, 12, 1,234.
const RATE = new Intl.NumberFormat('en', {maximumSignificantDigits: 2, notation: 'standard'});
export function rateText(rate) {
  return rate >= 100 ? Math.round(rate).toLocaleString('en') : RATE.format(rate);
}

function drawChart(canvas, views) {
  unmountHealth();
  if (!window.Chart) return;
  const known = views.filter((v) => v.ttl_seconds && v.newest_event_age_seconds !== undefined);
  chart = new window.Chart(canvas, {
    type: 'bar',
    data: {
      labels: known.map((v) => v.name),
      datasets: [{
        label: 'age of the newest event, % of TTL',
        backgroundColor: '#2e8b57',
        data: known.map((v) => Math.round(1000 * v.newest_event_age_seconds / v.ttl_seconds) / 10)
      }],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      maintainAspectRatio: false,
      scales: {x: {beginAtZero: true, suggestedMax: 100}}
    },
  });
}

function progress(job) {
  const total = job.tasks_total || 0;
  const done = (job.tasks_succeeded || 0) + (job.tasks_failed || 0);
  const pct = total ? Math.round(100 * done / total) : 0;
  const bar =
      h('div', {class: `progress-bar${job.tasks_failed ? ' bg-danger' : ''}`, dataset: {pct}},
        `${done}/${total}`);
  bar.style.width = `${pct}%`;  // through the DOM: the page's CSP allows no style attribute
  return h(
      'div', {
        class: 'progress',
        role: 'progressbar',
        'aria-valuenow': pct,
        'aria-valuemin': 0,
        'aria-valuemax': 100
      },
      bar);
}

export async function healthPage(project) {
  const data = await api(`${projectPath(project)}/health`);
  const views = data.feature_views || [];
  const viewRows = views.map((v) => {
    const f = freshness(v);
    return [
      h('a',
        {href: `#/p/${encodeURIComponent(project)}/k/feature-views/${encodeURIComponent(v.name)}`},
        v.name),
      v.ttl_seconds ? ageText(v.ttl_seconds) : 'none',
      v.newest_event_age_seconds === undefined ? '' : ageText(v.newest_event_age_seconds),
      h('span', {class: f.cls, dataset: {freshness: v.name}}, f.text),
      v.pushed_rows_per_second === undefined ?
          h('span', {dataset: {rate: v.name}}, '') :
          h('span', {dataset: {rate: v.name, raw: v.pushed_rows_per_second}},
            rateText(v.pushed_rows_per_second)),
      `${data.dead_letters_capped ? '≥' : ''}${v.dead_letters || 0}`
    ];
  });
  const jobRows =
      (data.jobs || [])
          .map(
              (j) =>
                  [h('code', {}, (j.job_id || '').slice(0, 8)), j.kind || '', j.state || '',
                   ((j.ranges || []).map((r) => r.feature_view)).join(', '), progress(j),
                   String(j.rows_written || 0), time(j.created_time), j.created_by || '',
                   j.error || j.last_task_error || '']);
  const canvas = h('canvas', {id: 'freshness-chart', 'aria-label': 'freshness chart'});
  const out = [
    h('h1', {class: 'h3'}, 'Health'),
    (data.errors || []).map((e) => alert('warning', e)),
    h('p', {class: 'small text-secondary'}, `As of ${time(data.sampled_at)}; refreshed every 5 s.`),
    table(
        [
          'feature view', 'TTL', 'newest event online', 'freshness', 'pushed rows/s', 'dead letters'
        ],
        viewRows, {id: 'views'}),
    h('div', {class: 'chart-box mb-3'}, canvas),
    h('h2', {class: 'h5'}, 'Materialization jobs'),
    jobRows.length ?
        table(
            ['job', 'kind', 'state', 'views', 'tasks', 'rows written', 'created', 'by', 'error'],
            jobRows, {id: 'jobs'}) :
        h('p', {}, 'No jobs.'),
  ];
  chartData.set(canvas, views);
  return out;
}

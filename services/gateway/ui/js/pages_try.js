// "Try it": online features for entity keys typed in, through POST /get-online-features, the
// route clients use, with each value's status and event time.
import {api} from './api.js';
import {loadCatalog} from './catalog.js';
import {alert, h, replace, table, time} from './dom.js';

const NUMERIC = new Set(['INT32', 'INT64', 'FLOAT', 'DOUBLE', 'UNIX_TIMESTAMP']);

// "1001, 1002" as a column of the entity's type; throws naming `field` and the entry that is
// not of it.
export function parseColumn(field, text, type) {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length);
  if (type === 'BOOL') {
    const bad = items.find((s) => s !== 'true' && s !== 'false');
    if (bad !== undefined) throw new Error(`${field}: '${bad}' is not true or false`);
    return items.map((s) => s === 'true');
  }
  if (!NUMERIC.has(type)) return items;
  // Integers as digits only (no 1.5, 0x10 or 1e3 for an INT64 key); decimals as JSON has them.
  const integer = type === 'INT32' || type === 'INT64' || type === 'UNIX_TIMESTAMP';
  const shape = integer ? /^-?\d+$/ : /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
  const bad = items.find((s) => !shape.test(s));
  if (bad !== undefined) {
    throw new Error(`${field}: '${bad}' is not ${integer ? 'an integer' : 'a number'}`);
  }
  // Integers past 2^53 would lose digits on their way through a JavaScript number.
  const big = items.find((s) => /^-?\d+$/.test(s) && !Number.isSafeInteger(Number(s)));
  if (big !== undefined) {
    throw new Error(`${field}: '${
        big}' is beyond 2^53, which this page cannot send exactly (use POST /get-online-features)`);
  }
  return items.map(Number);
}

// Entity keys carry no event time (Feast sends the epoch for them).
function eventTime(text) {
  return !text || text.startsWith('1970-01-01T00:00:00') ? '' : time(text);
}

function display(value) {
  if (value === null || value === undefined) return h('span', {class: 'text-secondary'}, 'null');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// What a feature service or a list of features reads: its views, and their join keys and
// request fields.
function inputsFor(catalog, viewNames) {
  const keys = new Map();
  const requests = new Map();
  const fvs = new Map(catalog.objects['feature-views'].map((v) => [v.name, v]));
  const odfvs = new Map(catalog.objects['on-demand-feature-views'].map((v) => [v.name, v]));
  const entities = new Map(catalog.objects.entities.map((e) => [e.name, e]));
  const sources = new Map(catalog.objects['data-sources'].map((s) => [s.name, s]));
  const visit = (name) => {
    if (fvs.has(name)) {
      for (const e of fvs.get(name).entities || []) {
        const entity = entities.get(e);
        const key = (entity && entity.join_key) || e;
        keys.set(key, (entity && entity.value_type) || 'STRING');
      }
    } else if (odfvs.has(name)) {
      for (const s of odfvs.get(name).sources || []) {
        if (s.feature_view) visit(s.feature_view.feature_view);
        const rs = s.request_source && sources.get(s.request_source);
        if (rs && rs.request)
          for (const f of rs.request.schema || []) requests.set(f.name, f.dtype);
      }
    }
  };
  viewNames.forEach(visit);
  return {keys, requests};
}

export async function tryPage(project) {
  const catalog = await loadCatalog(project);
  const services = catalog.objects['feature-services'];
  const features = [
    ...catalog.objects['feature-views'], ...catalog.objects['on-demand-feature-views']
  ].flatMap((v) => (v.schema || []).map((f) => `${v.name}:${f.name}`));
  const result = h('div', {id: 'try-result'});
  const inputs = h('div', {id: 'try-inputs'});
  const what =
      h('select',
        {class: 'form-select', name: 'what', id: 'try-what', 'aria-label': 'features to read'},
        services.map((s) => h('option', {value: `service:${s.name}`}, `feature service ${s.name}`)),
        features.map((f) => h('option', {value: `feature:${f}`}, f)));
  const refreshInputs = () => {
    const [type, name] = what.value.split(/:(.*)/s);
    const service = services.find((s) => s.name === name);
    const views = type === 'service' ? (service.features || []).map((p) => p.feature_view) :
                                       [name.split(':')[0]];
    const {keys, requests} = inputsFor(catalog, views);
    const field = (id, label, dataset) => h('div', {class: 'mb-2'},
      h('label', {class: 'form-label', for: id}, label),
      h('input', {class: 'form-control', id, dataset}));
      replace(
          inputs,
          [...keys].map(
              ([key, t]) => field(`key-${key}`, `${key} (${t}), comma-separated`, {key, type: t})),
          [...requests].map(
              ([name_, t]) => field(
                  `req-${name_}`, `request value ${name_} (${t}), one per key`,
                  {request: name_, type: t})));
  };
  what.addEventListener('change', refreshInputs);
  if (what.options.length) refreshInputs();
  const run = async (e) => {
      e.preventDefault();
      const body = {project, entities: {}};
      const request = {};
      try {
        for (const input of inputs.querySelectorAll('[data-key]')) {
          const {key, type: t} = input.dataset;
          body.entities[key] = parseColumn(key, input.value, t);
        }
        for (const input of inputs.querySelectorAll('[data-request]')) {
          const {request: name_, type: t} = input.dataset;
          if (input.value.trim()) request[name_] = parseColumn(name_, input.value, t);
        }
      } catch (err) {
        replace(result, alert('danger', err.message));
        return;
      }
      if (Object.keys(request).length) body.request_context = request;
      if (!what.value) {
        replace(result, alert('warning', 'Nothing to read: no feature you may see.'));
        return;
      }
      const [type, name] = what.value.split(/:(.*)/s);
      if (type === 'service')
        body.feature_service = name;
      else
        body.features = [name];
      replace(result, 'Reading…');
      try {
        const data = await api('/get-online-features', {method: 'POST', body});
        const names = data.metadata.feature_names;
        const rows = [];
        const count = names.length ? data.results[0].values.length : 0;
        for (let i = 0; i < count; i++) {
          rows.push(...names.map((n, j) => {
            const r = data.results[j];
            const status = h('span', {class: `status-${r.statuses[i]}`}, r.statuses[i]);
            return [
              String(i), h('code', {}, n), display(r.values[i]), status,
              eventTime(r.event_timestamps[i])
            ];
          }));
        }
        const sent = JSON.stringify(body, null, 2);
        const received = JSON.stringify(data, null, 2);
        replace(
            result,
            table(['row', 'feature', 'value', 'status', 'event time'], rows, {id: 'try-table'}),
            h('details', {}, h('summary', {}, 'JSON sent and received'),
              h('pre', {class: 'json'}, `POST /get-online-features\n${sent}\n\n${received}`)));
      } catch (err) {
        replace(result, alert('danger', `${err.code || 'error'}: ${err.message}`));
      }
  };
  return [h('h1', {class: 'h3'}, 'Try it'),
    h('p', {}, 'Reads online features the way a model server does, with your token.'),
    h('form', {id: 'try-form', onsubmit: run},
      h('div', {class: 'mb-2'}, what), inputs,
      h('button', {class: 'btn btn-primary', type: 'submit'}, 'Get online features')),
    h('hr'), result];
  }

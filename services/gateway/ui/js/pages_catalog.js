// The catalog's pages: projects, one project (counts and history), one kind's list with a tag
// filter, and one object with its fields, what it depends on and what depends on it.
import {api, listAll} from './api.js';
import {kindOf, KINDS, loadCatalog, objectHref, projectPath, sourceType} from './catalog.js';
import {duration, h, table, tagBadges, time} from './dom.js';
import {buildGraph, nodeId, reachable} from './lineage_graph.js';
import {legend, renderLineage} from './lineage_view.js';

const projectHref = (p) => `#/p/${encodeURIComponent(p)}`;

export async function projectsPage() {
  const projects = await listAll('/api/v1/projects', 'projects');
  if (!projects.length)
    return [h('h1', {class: 'h3'}, 'Projects'), h('p', {}, 'No project you may see.')];
  const rows = await Promise.all(projects.map(async (p) => {
    const catalog = await loadCatalog(p.name);
    const counts = KINDS.filter((k) => k.path !== 'permissions')
                       .map((k) => `${catalog.objects[k.path].length} ${k.label.toLowerCase()}`)
                       .join(', ');
    return [
      h('a', {href: projectHref(p.name)}, p.name), p.description || '', p.owner || '',
      String(p.version || 0), counts, tagBadges(p.tags)
    ];
  }));
  return [
    h('h1', {class: 'h3'}, 'Projects'),
    table(['project', 'description', 'owner', 'version', 'objects', 'tags'], rows, {id: 'projects'})
  ];
}

function changeSummary(change) {
  const kind = (change.kind || '').toLowerCase().replace(/_/g, ' ');
  const fields =
      (change.fields || [])
          .map(
              (f) =>
                  h('li', {}, h('code', {}, f.path), ': ', f.old_value || '∅', ' → ',
                    f.new_value || '∅',
                    f.breaking ? h('span', {class: 'badge text-bg-danger ms-1'}, 'breaking') : ''));
  const reasons = (change.breaking_reasons || []).map((r) => h('li', {class: 'text-danger'}, r));
  return h(
      'li', {}, h('span', {class: 'badge text-bg-secondary kind-badge me-1'}, change.change || ''),
      `${kind} `, h('strong', {}, change.name || ''),
      change.breaking ? h('span', {class: 'badge text-bg-danger ms-1'}, 'breaking') : '',
      fields.length || reasons.length ? h('ul', {class: 'small'}, reasons, fields) : '');
}

function historyRow(e) {
  const changes = (e.diff && e.diff.changes) || [];
  return h(
      'tr', {}, h('td', {}, String(e.version)), h('td', {}, time(e.committed_time)),
      h('td', {}, e.caller || ''), h('td', {}, e.comment || ''),
      h('td', {},
        h('details', {}, h('summary', {}, `${changes.length} change(s)`),
          h('ul', {class: 'list-unstyled'}, changes.map(changeSummary)))));
}

// The history a page at a time, newest first, with a button for the older ones.
function historyTable(project, first) {
  const body = h('tbody', {}, (first.entries || []).map(historyRow));
  const more =
      h('button', {class: 'btn btn-sm btn-outline-secondary', type: 'button'}, 'Older changes');
  let token = first.next_page_token || '';
  more.hidden = !token;
  const failed = h('span', {class: 'text-danger small ms-2'});
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api(
          `${projectPath(project)}/history?page_size=50&page_token=${encodeURIComponent(token)}`);
      body.append(...(page.entries || []).map(historyRow));
      token = page.next_page_token || '';
      more.hidden = !token;
      failed.textContent = '';
    } catch (err) {
      failed.textContent = `${err.code || 'error'}: ${err.message}`;
    }
    more.disabled = false;
  });
  return [
    h('table', {class: 'table table-sm align-middle', id: 'history'},
      h('thead', {},
        h('tr', {}, ['version', 'committed', 'by', 'comment', 'diff'].map((t) => h('th', {}, t)))),
      body),
    more, failed
  ];
}

export async function projectPage(project) {
  const [catalog, history] = await Promise.all([
    loadCatalog(project),
    api(`${projectPath(project)}/history?page_size=50`),
  ]);
  const info = catalog.project;
  const cards = KINDS.map(
      (k) => h(
          'div', {class: 'col'},
          h('a',
            {class: 'card text-decoration-none h-100', href: `${projectHref(project)}/k/${k.path}`},
            h('div', {class: 'card-body'},
              h('div', {class: 'display-6', dataset: {count: k.path}},
                String(catalog.objects[k.path].length)),
              h('div', {class: 'text-secondary'}, k.label)))));
  const entries = (history && history.entries) || [];
  return [
    h('h1', {class: 'h3'}, info.name, ' ',
      h('small', {class: 'text-secondary'}, `version ${info.version || 0}`)),
    h('p', {}, info.description || ''),
    info.owner ? h('p', {}, 'Owner: ', info.owner) : '',
    h('div', {}, tagBadges(info.tags)),
    h('div', {class: 'row row-cols-2 row-cols-md-6 g-2 my-3'}, cards),
    h('h2', {class: 'h5'}, 'History'),
    // Entries of hidden changes are dropped from a page: older ones may still be visible.
    entries.length || history.next_page_token ? historyTable(project, history) :
                                                h('p', {}, 'No history you may see.'),
  ];
}

// "team:x" filters; an object matches when it has every one.
function matchesTags(object, filters) {
  return filters.every(([k, v]) => object.tags && object.tags[k] === v);
}

export async function kindPage(project, kindPath, params) {
  const kind = kindOf(kindPath);
  if (!kind) return [h('p', {}, `No kind ${kindPath}.`)];
  const catalog = await loadCatalog(project);
  const filters = params.getAll('tag').map((t) => t.split(/:(.*)/s).slice(0, 2));
  const objects = catalog.objects[kindPath].filter((o) => matchesTags(o, filters));
  const allTags = new Set();
  for (const o of catalog.objects[kindPath])
    for (const [k, v] of Object.entries(o.tags || {})) allTags.add(`${k}:${v}`);
  const tagLinks = [...allTags].sort().map(
      (t) =>
          h('a', {
            class: 'badge text-bg-light border tag text-decoration-none',
            href: `${projectHref(project)}/k/${kindPath}?tag=${encodeURIComponent(t)}`
          },
            t));
  const rows = objects.map(
      (o) =>
          [h('a', {href: objectHref(project, kindPath, o.name)}, o.name), o.description || '',
           o.owner || '', tagBadges(o.tags)]);
  return [
    h('h1', {class: 'h3'}, kind.label),
    filters.length ?
        h('p', {}, 'Tagged ', filters.map(([k, v]) => h('code', {class: 'me-1'}, `${k}:${v}`)),
          h('a', {href: `${projectHref(project)}/k/${kindPath}`}, 'clear')) :
        '',
    tagLinks.length ? h('p', {class: 'small'}, 'Filter by tag: ', tagLinks) : '',
    rows.length ?
        table(['name', 'description', 'owner', 'tags'], rows, {id: 'objects'}) :
        h('p', {}, `No ${kind.one} you may see${filters.length ? ' with these tags' : ''}.`),
  ];
}

function schemaTable(schema) {
  return table(
      ['feature', 'type', 'description', 'tags'],
      (schema || [])
          .map(
              (f) =>
                  [h('code', {}, f.name), f.dtype || '', f.description || '', tagBadges(f.tags)]));
}

// The fields that make up one object, kind by kind: [label, value] pairs and extra blocks.
function describe(project, kindPath, o, catalog) {
  // The object names what it references (that is its definition); what the caller may not
  // DESCRIBE is not a link to nowhere but says so.
  const link = (kind, name) => (
      catalog.objects[kind].some((x) => x.name === name) ?
          h('a', {href: objectHref(project, kind, name)}, name) :
          h('span', {}, name, h('span', {class: 'text-secondary small'}, ' (not visible to you)')));
  // A projection names a feature view or an on-demand view.
  const viewKind = (name) =>
      (catalog.objects['feature-views'].some((v) => v.name === name) ? 'feature-views' :
                                                                       'on-demand-feature-views');
  switch (kindPath) {
    case 'entities':
      return {
        props:
            [['join key', h('code', {}, o.join_key || o.name)], ['value type', o.value_type || '']]
      };
    case 'data-sources': {
      const props = [['type', sourceType(o)]];
      if (o.postgres)
        props.push(['table', o.postgres.table || ''], ['query', o.postgres.query || '']);
      if (o.push) props.push(['appends to', link('data-sources', o.push.batch_source)]);
      if (o.timestamp_field) props.push(['event time', h('code', {}, o.timestamp_field)]);
      if (o.created_timestamp_column)
        props.push(['created time', h('code', {}, o.created_timestamp_column)]);
      return {
        props,
        blocks: o.request ?
            [h('h2', {class: 'h6'}, 'Request schema'), schemaTable(o.request.schema)] :
            []
      };
    }
    case 'feature-views':
      return {
        props: [
          ['entities', (o.entities || []).map((e) => [link('entities', e), ' '])],
          ['TTL', o.ttl ? duration(o.ttl) : 'none'],
          ['batch source', o.batch_source ? link('data-sources', o.batch_source) : ''],
          ['push source', o.stream_source ? link('data-sources', o.stream_source) : ''],
          ['online', o.online === false ? 'no' : 'yes'],
          ['offline', o.offline === false ? 'no' : 'yes']
        ],
        blocks: [h('h2', {class: 'h6'}, 'Features'), schemaTable(o.schema)]
      };
    case 'on-demand-feature-views': {
      const sources =
          (o.sources || [])
              .map(
                  (s) => h(
                      'li', {},
                      s.feature_view ?
                          [
                            'view ',
                            link(
                                viewKind(s.feature_view.feature_view), s.feature_view.feature_view),
                            s.feature_view.features && s.feature_view.features.length ?
                                ` (${s.feature_view.features.join(', ')})` :
                                ''
                          ] :
                          ['request source ', link('data-sources', s.request_source)]));
      const expr = Object.entries((o.transformation && o.transformation.expressions) || {});
      return {
        props: [['mode', o.mode || 'ON_READ'], ['sources', h('ul', {class: 'mb-0'}, sources)]],
        blocks: [
          h('h2', {class: 'h6'}, 'Features'), schemaTable(o.schema),
          h('h2', {class: 'h6'}, 'Expressions'),
          table(
              ['output', 'expression'],
              expr.map(([k, v]) => [h('code', {}, k), h('span', {class: 'expr'}, v)]),
              {id: 'expressions'})
        ]
      };
    }
    case 'feature-services':
      return {
        props: [],
        blocks: [
          h('h2', {class: 'h6'}, 'Features'),
          table(
              ['view', 'features', 'alias'],
              (o.features || [])
                  .map(
                      (p) =>
                          [link(viewKind(p.feature_view), p.feature_view),
                           (p.features || []).join(', ') || 'all', p.alias || '']))
        ]
      };
    case 'permissions':
      return {
        props: [
          ['types', (o.types || []).join(', ') || 'all'],
          ['name patterns', (o.name_patterns || []).join(', ') || 'any'],
          ['required tags', tagBadges(o.required_tags)], ['actions', (o.actions || []).join(', ')],
          ['roles', ((o.policy && o.policy.roles) || []).join(', ')],
          ['groups', ((o.policy && o.policy.groups) || []).join(', ')]
        ]
      };
    default:
      return {props: []};
  }
}

function dependencyList(project, graph, ids) {
  const items = [...ids].map((id) => graph.nodes.get(id)).sort((a, b) => a.id.localeCompare(b.id));
  if (!items.length) return h('p', {class: 'text-secondary'}, 'Nothing.');
  return h(
      'ul', {},
      items.map(
          (n) =>
              h('li', {dataset: {node: n.id}},
                h('span', {class: 'badge text-bg-secondary kind-badge me-1'},
                  n.kind.replace(/-/g, ' ')),
                h('a', {href: objectHref(project, n.kind, n.name)}, n.name))));
}

export async function objectPage(project, kindPath, name) {
  const kind = kindOf(kindPath);
  const catalog = await loadCatalog(project);
  const object = kind && catalog.objects[kindPath].find((o) => o.name === name);
  if (!object) {
    return [
      h('h1', {class: 'h3'}, name),
      h('p', {}, `No ${kind ? kind.one : 'object'} '${name}' you may see.`)
    ];
  }
  const {props, blocks = []} = describe(project, kindPath, object, catalog);
  const graph = buildGraph(catalog);
  const id = nodeId(kindPath, name);
  const out = [
    h('p', {class: 'mb-1'}, h('a', {href: `${projectHref(project)}/k/${kindPath}`}, kind.label)),
    h('h1', {class: 'h3', id: 'object-name'}, name),
    h('p', {}, object.description || ''),
    table(
        ['', ''],
        [
          ['owner', object.owner || ''], ['tags', tagBadges(object.tags)], ...props,
          [
            'created',
            object.meta ?
                `${time(object.meta.created_time)} (version ${object.meta.created_version || 0})` :
                ''
          ],
          [
            'updated',
            object.meta ?
                `${time(object.meta.updated_time)} (version ${object.meta.updated_version || 0})` :
                ''
          ]
        ],
        {id: 'properties'}),
    ...blocks,
  ];
  if (graph.nodes.has(id)) {
    const up = reachable(graph, id, 'up');
    const down = reachable(graph, id, 'down');
    out.push(
        h('div', {class: 'row'},
          h('div', {class: 'col-md-6', id: 'depends-on'}, h('h2', {class: 'h5'}, 'Depends on'),
            dependencyList(project, graph, up)),
          h('div', {class: 'col-md-6', id: 'used-by'},
            h('h2', {class: 'h5'}, 'Used by (what a change here can break)'),
            dependencyList(project, graph, down))));
    out.push(
        h('h2', {class: 'h5'}, 'Lineage'), legend(),
        renderLineage(project, graph, {ids: [id, ...up, ...down], focus: id}));
  }
  return out;
}

export async function lineagePage(project) {
  const catalog = await loadCatalog(project);
  const graph = buildGraph(catalog);
  return [
    h('h1', {class: 'h3'}, 'Lineage'),
    h('p', {},
      'Data sources feed feature views, which feed on-demand views and feature services. ' +
          'Select an object to see what depends on it.'),
    legend(), renderLineage(project, graph)
  ];
}

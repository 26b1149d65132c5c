// The lineage of a catalog as a graph: data source -> feature view -> on-demand view ->
// feature service, with push sources after the batch source they append to, and entities
// before the views keyed by them. Pure functions of the catalog, so the graph drawn is exactly
// what the definitions say.

export function nodeId(kind, name) {
  return `${kind}:${name}`;
}

export function buildGraph(catalog) {
  const nodes = new Map();
  const edges = [];
  const add = (kind, object) => nodes.set(nodeId(kind, object.name), {
    id: nodeId(kind, object.name),
    kind,
    name: object.name,
    object,
  });
  const objects = catalog.objects;
  objects.entities.forEach((o) => add('entities', o));
  objects['data-sources'].forEach((o) => add('data-sources', o));
  objects['feature-views'].forEach((o) => add('feature-views', o));
  objects['on-demand-feature-views'].forEach((o) => add('on-demand-feature-views', o));
  objects['feature-services'].forEach((o) => add('feature-services', o));
  const link = (from, to) => {
    // An object the caller may not see is not drawn, nor the edge to it.
    if (nodes.has(from) && nodes.has(to) && !edges.some((e) => e.from === from && e.to === to)) {
      edges.push({from, to});
    }
  };
  // A projection names a feature view or an on-demand view.
  const view = (name) =>
      (nodes.has(nodeId('feature-views', name)) ? nodeId('feature-views', name) :
                                                  nodeId('on-demand-feature-views', name));
  for (const source of objects['data-sources']) {
    if (source.push && source.push.batch_source) {
      link(nodeId('data-sources', source.push.batch_source), nodeId('data-sources', source.name));
    }
  }
  for (const fv of objects['feature-views']) {
    const to = nodeId('feature-views', fv.name);
    if (fv.batch_source) link(nodeId('data-sources', fv.batch_source), to);
    if (fv.stream_source) link(nodeId('data-sources', fv.stream_source), to);
    for (const e of fv.entities || []) link(nodeId('entities', e), to);
  }
  for (const odfv of objects['on-demand-feature-views']) {
    const to = nodeId('on-demand-feature-views', odfv.name);
    for (const s of odfv.sources || []) {
      if (s.feature_view) link(view(s.feature_view.feature_view), to);
      if (s.request_source) link(nodeId('data-sources', s.request_source), to);
    }
  }
  for (const fs of objects['feature-services']) {
    const to = nodeId('feature-services', fs.name);
    for (const p of fs.features || []) link(view(p.feature_view), to);
  }
  return {nodes, edges};
}

// Ids reachable from `id` following edges forward ('down': what depends on it) or backward
// ('up': what it depends on), without `id` itself.
export function reachable(graph, id, direction) {
  const seen = new Set();
  const queue = [id];
  while (queue.length) {
    const at = queue.shift();
    for (const e of graph.edges) {
      const [from, to] = direction === 'down' ? [e.from, e.to] : [e.to, e.from];
      if (from === at && !seen.has(to) && to !== id) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

// Columns by longest path from a root (feature services always last), rows in name order.
export function layout(graph, ids) {
  const keep = new Set(ids);
  const edges = graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const depth = new Map([...keep].map((id) => [id, 0]));
  // Longest path over a DAG: relax |V| times at most (the registry refuses cycles).
  for (let round = 0; round < keep.size; round++) {
    let changed = false;
    for (const e of edges) {
      if (depth.get(e.to) < depth.get(e.from) + 1) {
        depth.set(e.to, depth.get(e.from) + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }
  let last = 0;
  for (const [id, d] of depth)
    if (graph.nodes.get(id).kind !== 'feature-services') last = Math.max(last, d);
  for (const id of keep) {
    if (graph.nodes.get(id).kind === 'feature-services') depth.set(id, last + 1);
  }
  const columns = [];
  for (const id of [...keep].sort()) {
    const d = depth.get(id);
    (columns[d] = columns[d] || []).push(id);
  }
  const place = new Map();
  columns.forEach((column, x) => (column || []).forEach((id, y) => place.set(id, {x, y})));
  return {
    place,
    edges,
    columns: columns.length,
    rows: Math.max(0, ...columns.map((c) => (c || []).length))
  };
}

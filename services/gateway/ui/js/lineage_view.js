// Draws a lineage graph as SVG: one column per step, an arrow per dependency. Nodes link to
// their pages; with a focus, the focus and everything up- and downstream of it stand out.
import {objectHref} from './catalog.js';
import {h, svg} from './dom.js';
import {layout, reachable} from './lineage_graph.js';

const W = 180;  // node width
const NH = 34;  // node height
const GX = 48;  // gap between columns
const GY = 16;  // gap between rows
const PAD = 16;

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function renderLineage(project, graph, {ids = [...graph.nodes.keys()], focus = null} = {}) {
  const {place, edges, columns, rows} = layout(graph, ids);
  const width = PAD * 2 + Math.max(1, columns) * (W + GX) - GX;
  const height = PAD * 2 + Math.max(1, rows) * (NH + GY) - GY;
  const related = focus ?
      new Set([focus, ...reachable(graph, focus, 'up'), ...reachable(graph, focus, 'down')]) :
      null;
  const at = (id) => {
    const p = place.get(id);
    return {x: PAD + p.x * (W + GX), y: PAD + p.y * (NH + GY)};
  };
  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': focus ? `lineage of ${graph.nodes.get(focus).name}` : 'lineage',
  });
  root.append(
      svg('defs', {},
          svg('marker', {
            id: 'arrow',
            viewBox: '0 0 10 10',
            refX: 10,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
          },
              svg('path', {d: 'M0,0 L10,5 L0,10 z', class: 'marker'}))));
  for (const e of edges) {
    const a = at(e.from);
    const b = at(e.to);
    const x1 = a.x + W;
    const y1 = a.y + NH / 2;
    const x2 = b.x;
    const y2 = b.y + NH / 2;
    const mid = (x1 + x2) / 2;
    const hot = related && related.has(e.from) && related.has(e.to);
    root.append(svg('path', {
      class: hot ? 'edge hot' : 'edge',
      'marker-end': 'url(#arrow)',
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      dataset: {from: e.from, to: e.to},
    }));
  }
  for (const id of place.keys()) {
    const node = graph.nodes.get(id);
    const {x, y} = at(id);
    let cls = `node kind-${node.kind}`;
    if (focus === id)
      cls += ' focus';
    else if (related && !related.has(id))
      cls += ' dim';
    root.append(
        svg('a', {href: objectHref(project, node.kind, node.name), class: cls, dataset: {node: id}},
            svg('title', {}, `${node.kind.replace(/-/g, ' ')}: ${node.name}`),
            svg('rect', {x, y, width: W, height: NH}),
            svg('text', {x: x + 10, y: y + NH / 2 + 4}, clip(node.name, 24))));
  }
  return h('div', {class: 'lineage'}, root);
}

export function legend() {
  const item = (kind, label) =>
      h('span', {class: 'me-3'},
        svg('svg', {width: 14, height: 14, class: `lineage-legend kind-${kind}`},
            svg('rect', {x: 1, y: 1, width: 12, height: 12, rx: 3})),
        ` ${label}`);
  return h(
      'div', {class: 'small text-secondary mb-2'}, item('entities', 'entity'),
      item('data-sources', 'data source'), item('feature-views', 'feature view'),
      item('on-demand-feature-views', 'on-demand view'),
      item('feature-services', 'feature service'));
}

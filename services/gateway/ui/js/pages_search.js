// Search across names, descriptions, owners, tags and feature names, with a tag filter: the
// way teams find a feature before they build it again.
import {allObjects, loadCatalog, objectHref} from './catalog.js';
import {h, navigate, tagBadges} from './dom.js';

// Why `object` matches `words` (every word must match somewhere), or null.
export function matchReasons(object, words) {
  const fields =
      [['name', object.name], ['description', object.description], ['owner', object.owner]];
  for (const [k, v] of Object.entries(object.tags || {})) fields.push(['tag', `${k}:${v}`]);
  for (const f of object.schema || []) {
    fields.push(['feature', f.name], ['feature description', f.description]);
  }
  const reasons = new Set();
  for (const word of words) {
    const hits = fields.filter(([, text]) => text && text.toLowerCase().includes(word));
    if (!hits.length) return null;
    hits.forEach(([what]) => reasons.add(what));
  }
  return [...reasons];
}

export async function searchPage(project, params) {
  const catalog = await loadCatalog(project);
  const query = params.get('q') || '';
  const tag = params.get('tag') || '';
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const everything = allObjects(catalog);
  const tags = new Set();
  for (const {object} of everything)
    for (const [k, v] of Object.entries(object.tags || {})) tags.add(`${k}:${v}`);
  const results =
      everything
          .filter(
              ({object}) =>
                  !tag || Object.entries(object.tags || {}).some(([k, v]) => `${k}:${v}` === tag))
          .map(
              ({kind, object}) =>
                  ({kind, object, why: words.length ? matchReasons(object, words) : ['tag']}))
          .filter((r) => r.why && (words.length || tag));
  const base = `#/p/${encodeURIComponent(project)}/search`;
  const form =
      h('form', {
        class: 'row g-2 mb-3',
        id: 'search-form',
        onsubmit: (e) => {
          e.preventDefault();
          const q = e.target.elements.q.value.trim();
          const t = e.target.elements.tag.value;
          navigate(`${base}?q=${encodeURIComponent(q)}${t ? `&tag=${encodeURIComponent(t)}` : ''}`);
        }
      },
        h('div', {class: 'col-md-6'}, h('input', {
            class: 'form-control',
            name: 'q',
            value: query,
            placeholder: 'name, description, owner, feature or tag',
            'aria-label': 'search'
          })),
        h('div', {class: 'col-md-4'},
          h('select', {class: 'form-select', name: 'tag', 'aria-label': 'tag'},
            h('option', {value: ''}, 'any tag'),
            [...tags].sort().map((t) => h('option', {value: t, selected: t === tag}, t)))),
        h('div', {class: 'col-md-2'},
          h('button', {class: 'btn btn-primary w-100', type: 'submit'}, 'Search')));
  const list = results.map(
      ({kind, object, why}) =>
          h('li', {class: 'list-group-item', dataset: {result: `${kind.path}:${object.name}`}},
            h('span', {class: 'badge text-bg-secondary kind-badge me-2'}, kind.one),
            h('a', {href: objectHref(project, kind.path, object.name)}, object.name), ' ',
            h('span', {class: 'text-secondary small'}, object.description || ''), ' ',
            tagBadges(object.tags),
            h('div', {class: 'small text-secondary'}, `matched: ${why.join(', ')}`)));
  return [
    h('h1', {class: 'h3'}, 'Search'), form,
    (words.length || tag) ? h('p', {}, `${results.length} result(s)`) :
                            h('p', {}, 'Type words or pick a tag.'),
    h('ul', {class: 'list-group', id: 'results'}, list)
  ];
}

// A project's catalog as the caller may see it: every kind's list route, filtered by the
// gateway to what the caller may DESCRIBE. Kept for 5 seconds so that moving between pages
// does not refetch it (and forgotten when the token changes).
import {api, listAll} from './api.js';

export const KINDS = [
  {path: 'entities', field: 'entities', label: 'Entities', one: 'entity'},
  {path: 'data-sources', field: 'data_sources', label: 'Data sources', one: 'data source'},
  {path: 'feature-views', field: 'feature_views', label: 'Feature views', one: 'feature view'},
  {
    path: 'on-demand-feature-views',
    field: 'on_demand_feature_views',
    label: 'On-demand views',
    one: 'on-demand view'
  },
  {
    path: 'feature-services',
    field: 'feature_services',
    label: 'Feature services',
    one: 'feature service'
  },
  {path: 'permissions', field: 'permissions', label: 'Permissions', one: 'permission'},
];

export function kindOf(path) {
  return KINDS.find((k) => k.path === path);
}

const cache = new Map();
const KEEP_MS = 5000;

export function projectPath(project) {
  return `/api/v1/projects/${encodeURIComponent(project)}`;
}

export async function loadCatalog(project, {fresh = false} = {}) {
  const hit = cache.get(project);
  if (!fresh && hit && Date.now() - hit.at < KEEP_MS) return hit.promise;
  const promise = (async () => {
    const base = projectPath(project);
    const [info, ...lists] = await Promise.all([
      api(base),
      ...KINDS.map((k) => listAll(`${base}/${k.path}`, k.field)),
    ]);
    const objects = {};
    KINDS.forEach((k, i) => {
      objects[k.path] = lists[i].sort((a, b) => a.name.localeCompare(b.name));
    });
    return {project: info, objects};
  })();
  const entry = {at: Date.now(), promise};
  cache.set(project, entry);
  promise.catch(() => {
    if (cache.get(project) === entry) cache.delete(project);
  });
  return promise;
}

export function forget() {
  cache.clear();
}

// Every object of a catalog with its kind: [{kind, object}].
export function allObjects(catalog) {
  return KINDS.flatMap((k) => catalog.objects[k.path].map((object) => ({kind: k, object})));
}

export function objectHref(project, kind, name) {
  return `#/p/${encodeURIComponent(project)}/k/${kind}/${encodeURIComponent(name)}`;
}

// What a data source reads from.
export function sourceType(source) {
  if (source.postgres) return 'postgres';
  if (source.push) return 'push';
  if (source.request) return 'request';
  return '';
}

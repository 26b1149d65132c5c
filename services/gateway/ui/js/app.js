// The UI's router: one page per hash route, each an async function returning elements.
//   #/                            projects
//   #/p/{project}                 counts and history
//   #/p/{project}/k/{kind}[?tag=k:v]   one kind, filtered by tag
//   #/p/{project}/k/{kind}/{name} one object, its dependencies and lineage
//   #/p/{project}/search?q=..&tag=..   #/p/{project}/lineage   #/p/{project}/health
//   #/p/{project}/try             #/login
import {ApiError, config, session} from './api.js';
import {finishOidc, loginPage} from './auth.js';
import {forget} from './catalog.js';
import {alert, h, replace} from './dom.js';
import {kindPage, lineagePage, objectPage, projectPage, projectsPage} from './pages_catalog.js';
import {healthPage} from './pages_health.js';
import {searchPage} from './pages_search.js';
import {tryPage} from './pages_try.js';

const view = document.getElementById('view');
let refresh = null;
let generation = 0;

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split(/\?(.*)/s);
  return {parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query)};
}

function projectNav(project) {
  const nav = document.getElementById('project-nav');
  if (!project) return replace(nav);
  const base = `#/p/${encodeURIComponent(project)}`;
  const link = (href, text) => h('li', {class: 'nav-item'}, h('a', {class: 'nav-link', href}, text));
  replace(nav, link(base, project), link(`${base}/k/feature-views`, 'Features'),
          link(`${base}/search`, 'Search'), link(`${base}/lineage`, 'Lineage'),
          link(`${base}/health`, 'Health'), link(`${base}/try`, 'Try it'));
}

function whoAmI() {
  const claims = session.claims();
  const who = document.getElementById('who');
  const roles = claims && (claims.roles || []);
  who.textContent = claims ? `${claims.preferred_username || claims.sub || ''}${roles.length ? ` (${roles.join(', ')})` : ''}` : '';
  document.getElementById('login-link').textContent = session.token() ? 'Account' : 'Sign in';
}

async function pageFor({parts, params}) {
  if (parts[0] === 'login') return loginPage();
  if (parts.length === 0) return projectsPage();
  if (parts[0] !== 'p' || parts.length < 2) return [h('p', {}, 'No such page.')];
  const project = parts[1];
  projectNav(project);
  if (parts.length === 2) return projectPage(project);
  switch (parts[2]) {
    case 'k': return parts.length === 4 ? kindPage(project, parts[3], params) : objectPage(project, parts[3], parts[4]);
    case 'search': return searchPage(project, params);
    case 'lineage': return lineagePage(project);
    case 'health': return healthPage(project);
    case 'try': return tryPage(project);
    default: return [h('p', {}, 'No such page.')];
  }
}

async function render() {
  const mine = ++generation;
  if (refresh) clearInterval(refresh);
  refresh = null;
  whoAmI();
  const route = parseHash();
  projectNav(null);
  const cfg = await config();
  // Without a token there is nothing to ask the gateway (it would only answer 401).
  if (route.parts[0] !== 'login' && cfg.auth !== 'none' && !session.token()) {
    replace(view, ...(await loginPage('Sign in to see the catalog.')));
    return;
  }
  try {
    const content = await pageFor(route);
    if (mine !== generation) return;  // the user moved on meanwhile
    replace(view, ...content);
    // Which route the page shows now (tests wait for it after moving).
    view.dataset.hash = location.hash || '#/';
    if (route.parts[2] === 'health') {
      refresh = setInterval(async () => {
        if (mine !== generation) return;
        try {
          const fresh = await healthPage(route.parts[1]);
          if (mine === generation) replace(view, ...fresh);
        } catch (err) { /* the next tick tries again */ }
      }, 5000);
    }
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) {
      session.clear();
      whoAmI();
      replace(view, ...(await loginPage(`The gateway refused the token: ${err.message}`)));
      return;
    }
    replace(view, alert('danger', err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)));
  }
}

window.addEventListener('hashchange', () => {
  if (parseHash().parts[0] === 'login') forget();
  render();
});

(async () => {
  try {
    if (await finishOidc()) forget();
  } catch (err) {
    replace(view, alert('danger', err.message));
    return;
  }
  render();
})();

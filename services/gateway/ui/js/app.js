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
import {healthPage, mountHealth, unmountHealth} from './pages_health.js';
import {searchPage} from './pages_search.js';
import {tryPage} from './pages_try.js';

const view = document.getElementById('view');
const REFRESH_MS = 5000;
let refresh = null;
let generation = 0;

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch (e) {
    return part;  // a stray '%': the text as typed
  }
}

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split(/\?(.*)/s);
  return {parts: path.split('/').filter(Boolean).map(decode), params: new URLSearchParams(query)};
}

function projectNav(project) {
  const nav = document.getElementById('project-nav');
  if (!project) return replace(nav);
  const base = `#/p/${encodeURIComponent(project)}`;
  const link = (href, text) =>
      h('li', {class: 'nav-item'}, h('a', {class: 'nav-link', href}, text));
  replace(
      nav, link(base, project), link(`${base}/k/feature-views`, 'Features'),
      link(`${base}/search`, 'Search'), link(`${base}/lineage`, 'Lineage'),
      link(`${base}/health`, 'Health'), link(`${base}/try`, 'Try it'));
}

function whoAmI() {
  const claims = session.claims();
  const who = document.getElementById('who');
  const roles = claims && Array.isArray(claims.roles) ? claims.roles : [];
  const name = claims ? String(claims.preferred_username || claims.sub || '') : '';
  who.textContent = claims ? `${name}${roles.length ? ` (${roles.join(', ')})` : ''}` : '';
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
    case 'k':
      return parts.length === 4 ? kindPage(project, parts[3], params) :
                                  objectPage(project, parts[3], parts[4]);
    case 'search':
      return searchPage(project, params);
    case 'lineage':
      return lineagePage(project);
    case 'health':
      return healthPage(project);
    case 'try':
      return tryPage(project);
    default:
      return [h('p', {}, 'No such page.')];
  }
}

// Shows `content` as the page of `hash` (tests wait for data-hash after moving).
function show(content, hash) {
  unmountHealth();
  replace(view, ...content);
  view.dataset.hash = hash;
  mountHealth(view);
}

// The health page asks again 5 s after its last answer, while the tab is visible, and only
// while it is the page shown: never two requests at once, never an old answer over a new one.
function refreshHealth(mine, project, hash) {
  refresh = setTimeout(async () => {
    if (mine !== generation) return;
    if (!document.hidden) {
      try {
        const fresh = await healthPage(project);
        if (mine !== generation) return;
        show(fresh, hash);
      } catch (err) {
        // A token that expired meanwhile: the page asks for a new one. Anything else: the next
        // round asks again.
        if (mine === generation && err instanceof ApiError && err.status === 401) {
          session.clear();
          render();
          return;
        }
      }
    }
    if (mine === generation) refreshHealth(mine, project, hash);
  }, REFRESH_MS);
}

async function render() {
  const mine = ++generation;
  if (refresh) clearTimeout(refresh);
  refresh = null;
  whoAmI();
  const route = parseHash();
  const hash = location.hash || '#/';
  projectNav(null);
  const cfg = await config();
  // Without a token there is nothing to ask the gateway (it would only answer 401).
  if (route.parts[0] !== 'login' && cfg.auth !== 'none' && !session.token()) {
    const login = await loginPage('Sign in to see the catalog.');
    if (mine === generation) show(login, hash);
    return;
  }
  try {
    const content = await pageFor(route);
    if (mine !== generation) return;  // the user moved on meanwhile
    show(content, hash);
    if (route.parts[2] === 'health') refreshHealth(mine, route.parts[1], hash);
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) {
      session.clear();
      whoAmI();
      const login = await loginPage(`The gateway refused the token: ${err.message}`);
      if (mine === generation) show(login, hash);
      return;
    }
    show(
        [alert('danger', err instanceof ApiError ? `${err.code}: ${err.message}` : String(err))],
        hash);
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

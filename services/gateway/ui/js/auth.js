// Signing in: a bearer token pasted in (development: `granary token`), or OpenID Connect's
// authorization-code flow with PKCE against the configured issuer. The token lives in this
// tab's sessionStorage and goes to the gateway only.
import {config, session} from './api.js';
import {forget} from './catalog.js';
import {alert, h, navigate} from './dom.js';

const PKCE_KEY = 'granary.pkce';

function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function redirectUri() {
  return `${location.origin}/ui/`;
}

async function startOidc(oidc) {
  const issuer = oidc.issuer.replace(/\/$/, '');
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${issuer}: HTTP ${response.status}`);
  const discovery = await response.json();
  const verifier = random(32);
  const challenge =
      base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16);
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({
    verifier,
    state,
    token_endpoint: discovery.token_endpoint,
    client_id: oidc.client_id,
  }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.client_id,
    redirect_uri: redirectUri(),
    scope: oidc.scope || 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${discovery.authorization_endpoint}?${params}`);
}

// On the way back from the issuer (?code=...&state=...): the code for a token. True when the
// page came back from a sign-in, whether it worked (the error is thrown).
export async function finishOidc() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', '/ui/#/');
  if (params.has('error'))
    throw new Error(
        `sign-in refused: ${params.get('error')} ${params.get('error_description') || ''}`);
  if (!saved || saved.state !== params.get('state'))
    throw new Error('sign-in: the state does not match this tab');
  const response = await fetch(saved.token_endpoint, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: saved.client_id,
      code_verifier: saved.verifier,
    }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok || !(data.access_token || data.id_token)) {
    throw new Error(`sign-in: the token endpoint answered ${response.status} ${data.error || ''}`);
  }
  session.set(data.access_token || data.id_token);
  return true;
}

export async function loginPage(message) {
  const cfg = await config();
  const box = h('div', {id: 'login-error'});
  const paste = h('form', {id: 'token-form', onsubmit: (e) => {
    e.preventDefault();
    const token = e.target.elements.token.value.trim();
    if (!token) return;
    session.set(token);
    forget();  // what the last token could see is not this one's
    // On to the page that asked for a token (the projects from the sign-in page itself).
    navigate(location.hash.startsWith('#/login') || !location.hash ? '#/' : location.hash);
  }},
  h('label', {class: 'form-label', for: 'token'}, 'Bearer token'),
  h('textarea', {class: 'form-control mb-2', id: 'token', name: 'token', rows: 4,
    placeholder: 'granary token --user you --roles reader'}),
  h('button', {class: 'btn btn-primary', type: 'submit'}, 'Use this token'));
    const oidc = cfg.oidc ?
        h('div', {class: 'mb-4'},
          h('button', {
            class: 'btn btn-success',
            id: 'oidc-login',
            type: 'button',
            onclick: () => {
              startOidc(cfg.oidc).catch((err) => box.replaceChildren(alert('danger', err.message)));
            }
          },
            `Sign in with ${cfg.oidc.issuer}`)) :
        '';
    return [
      h('h1', {class: 'h3'}, 'Sign in'), message ? alert('warning', message) : '', box, oidc,
      cfg.auth === 'none' ?
          h('p', {}, 'This gateway authenticates nobody: every caller has the same identity.') :
          '',
      session.token() ? h('p', {},
                          h('button', {
                            class: 'btn btn-outline-secondary',
                            type: 'button',
                            onclick: () => {
                              session.clear();
                              forget();
                              location.hash = '#/login';
                            }
                          },
                            'Sign out')) :
                        '',
      paste
    ];
}

// Every call the UI makes goes through here: the gateway's HTTP routes, with the caller's
// bearer token, so the gateway's permissions decide what the page may show.

const TOKEN_KEY = 'granary.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  // The token's claims, for showing who is signed in (the gateway verifies it, not the page).
  claims() {
    const parts = this.token().split('.');
    if (parts.length !== 3) return null;
    try {
      const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
      return JSON.parse(decodeURIComponent(escape(json)));
    } catch (e) {
      return null;
    }
  },
};

export async function api(path, {method = 'GET', body} = {}) {
  const headers = {Accept: 'application/json'};
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(
        response.status, (data && data.code) || String(response.status),
        (data && data.message) || text || response.statusText);
  }
  return data;
}

// Every page of a list route: {field: [...], next_page_token}.
export async function listAll(path, field) {
  const items = [];
  let token = '';
  for (let page = 0; page < 100; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const url =
        `${path}${sep}page_size=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
    const data = await api(url) || {};
    items.push(...(data[field] || []));
    token = data.next_page_token || '';
    if (!token) break;
  }
  return items;
}

let uiConfig = null;
// What the gateway tells the page about signing in (no secrets): /ui/config.json. A failed
// fetch is asked again next time.
export async function config() {
  if (uiConfig !== null) return uiConfig;
  const response = await fetch('/ui/config.json');
  if (!response.ok) return {auth: 'jwt'};
  uiConfig = await response.json();
  return uiConfig;
}

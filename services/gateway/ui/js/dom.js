// Building the page from data without ever parsing data as HTML: every text goes in as a text
// node, so a description or a tag holding markup shows as text.

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

function setAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

// h('a', {href: '#/'}, 'Home', h('span', {}, '!'))
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// {team: "x"} as badges "team:x", as search and the tag filter take them.
export function tagBadges(tags) {
  return Object.entries(tags || {})
      .map(([k, v]) => h('span', {class: 'badge text-bg-light border tag'}, `${k}:${v}`));
}

export function table(headers, rows, attrs = {}) {
  return h(
      'table', {class: 'table table-sm align-middle', ...attrs},
      h('thead', {}, h('tr', {}, headers.map((name) => h('th', {}, name)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))));
}

export function alert(kind, ...children) {
  return h('div', {class: `alert alert-${kind}`, role: 'alert'}, ...children);
}

// "86400s" (proto JSON's Duration) as "1d", "90s" as "1m 30s".
export function duration(text) {
  if (!text) return '';
  let seconds = Math.round(parseFloat(text));
  if (!Number.isFinite(seconds)) return text;
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  return parts.length ? parts.join(' ') : '0s';
}

export function ageText(seconds) {
  if (seconds === null || seconds === undefined) return '';
  return duration(`${Math.max(0, seconds)}s`);
}

export function time(text) {
  if (!text) return '';
  const t = new Date(text);
  return Number.isNaN(t.getTime()) ? text :
                                     t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// Shows the page of `hash`, even when it is the one shown already (a hash that does not
// change fires no hashchange of its own).
export function navigate(hash) {
  if (location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

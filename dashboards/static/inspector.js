// Memory inspector in the viewer drawer: profile, pinned facts, memories with their score parts,
// episodes and graph neighbours, with edit / pin / forget per memory and "pin a fact".
// Chat text is untrusted: it is only ever set with textContent.
(function () {
  'use strict';

  const hashParams = new URLSearchParams(location.hash.slice(1));
  const token = hashParams.get('token') || new URLSearchParams(location.search).get('token') || null;
  const root = document.getElementById('inspector');
  if (!root) return;
  let current = null;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const num = (v, d) => (v === null || v === undefined || Number.isNaN(Number(v))) ? '–' : Number(v).toFixed(d);
  const when = (ts) => (ts ? new Date(ts * 1000).toLocaleString() : '–');

  async function api(path, body) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const options = { headers };
    if (body !== undefined) {
      options.method = 'POST';
      headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const resp = await fetch(path, options);
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.error || `HTTP ${resp.status}`);
    return data;
  }

  function status(text) {
    const s = root.querySelector('.inspector-status');
    if (s) s.textContent = text;
  }

  function section(title, cls) {
    const sec = el('div', `inspector-section ${cls}`);
    sec.appendChild(el('h3', null, title));
    root.appendChild(sec);
    return sec;
  }

  function renderProfile(p) {
    const sec = section('Profile', 'inspector-profile');
    const dl = el('dl', 'kv');
    const rows = [['relationship', p.relationship], ['messages', p.message_count], ['days seen', p.days_seen],
      ['first seen', when(p.first_seen)], ['last seen', when(p.last_seen)], ['sentiment', num(p.sentiment_avg, 2)],
      ['engagement', num(p.engagement, 2)], ['topics', (p.favourite_topics || []).join(', ') || '–']];
    rows.forEach(([k, v]) => { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); });
    sec.appendChild(dl);
  }

  function renderFacts(facts) {
    const sec = section('Facts', 'inspector-facts');
    const ul = el('ul', 'list');
    const keys = Object.keys(facts || {});
    if (!keys.length) ul.appendChild(el('li', 'muted', 'no facts'));
    keys.forEach((k) => {
      const li = el('li', 'fact');
      li.dataset.key = k;
      li.appendChild(el('span', 'fact-key', k));
      li.appendChild(el('span', null, ': '));
      li.appendChild(el('span', 'fact-value', facts[k]));
      ul.appendChild(li);
    });
    sec.appendChild(ul);
    const form = el('form', 'fact-form');
    const key = el('input', 'fact-key-input');
    key.placeholder = 'key (e.g. pet_cat)';
    const value = el('input', 'fact-value-input');
    value.placeholder = 'value';
    const btn = el('button', null, 'pin fact');
    btn.type = 'submit';
    form.append(key, value, btn);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/inspector/${encodeURIComponent(current)}/facts`, { key: key.value.trim(), value: value.value.trim() });
        await load(current);
        status('fact pinned');
      } catch (err) { status(`pin fact failed: ${err.message}`); }
    });
    sec.appendChild(form);
  }

  function memoryItem(m) {
    const li = el('li', 'memory');
    li.dataset.id = m.id;
    if (m.pinned) li.classList.add('pinned');
    const text = el('span', 'memory-text', m.text);
    li.appendChild(text);
    const meta = [m.tier, m.kind && m.kind !== 'message' ? m.kind : null, m.count > 1 ? `said ${m.count}×` : null,
      m.fact_key ? `fact ${m.fact_key}` : null].filter(Boolean).join(' · ');
    li.appendChild(el('span', 'muted memory-meta', ` ${meta}`));
    if (m.score !== undefined) li.appendChild(el('span', 'memory-score', ` score ${num(m.score, 3)}`));
    const parts = el('span', 'memory-parts muted');
    Object.entries(m.parts || {}).forEach(([k, v]) => {
      const b = el('span', 'part', `${k} ${num(v, 2)}`);
      b.dataset.part = k;
      parts.appendChild(b);
    });
    li.appendChild(parts);
    const actions = el('span', 'memory-actions');
    const edit = el('button', 'edit', 'edit');
    const pin = el('button', 'pin', m.pinned ? 'unpin' : 'pin');
    const forget = el('button', 'forget danger', 'forget');
    [edit, pin, forget].forEach((b) => { b.type = 'button'; actions.appendChild(b); });
    li.appendChild(actions);
    edit.addEventListener('click', () => {
      const input = el('input', 'memory-edit');
      input.value = m.text;
      const save = el('button', 'save', 'save');
      save.type = 'button';
      text.replaceWith(input);
      edit.replaceWith(save);
      save.addEventListener('click', async () => {
        try {
          await api(`/api/inspector/memories/${m.id}/edit`, { text: input.value });
          await load(current);
          status('memory edited');
        } catch (err) { status(`edit failed: ${err.message}`); }
      });
    });
    pin.addEventListener('click', async () => {
      try {
        await api(`/api/inspector/memories/${m.id}/pin`, { pinned: !m.pinned });
        await load(current);
        status(m.pinned ? 'memory unpinned' : 'memory pinned');
      } catch (err) { status(`pin failed: ${err.message}`); }
    });
    forget.addEventListener('click', async () => {
      try {
        await api(`/api/inspector/memories/${m.id}/forget`, {});
        await load(current);
        status('memory forgotten');
      } catch (err) { status(`forget failed: ${err.message}`); }
    });
    return li;
  }

  function renderMemories(items, q) {
    const sec = section(q ? `Memories for “${q}”` : 'Memories', 'inspector-memories');
    const form = el('form', 'inspector-search');
    const input = el('input', 'inspector-q');
    input.type = 'search';
    input.placeholder = 'rank this viewer\'s memories for a question';
    input.value = q || '';
    const btn = el('button', null, 'rank');
    btn.type = 'submit';
    form.append(input, btn);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); load(current, input.value.trim()); });
    sec.appendChild(form);
    const ul = el('ul', 'list');
    if (!items.length) ul.appendChild(el('li', 'muted', 'no memories'));
    items.forEach((m) => ul.appendChild(memoryItem(m)));
    sec.appendChild(ul);
  }

  function renderEpisodes(eps) {
    const sec = section('Episodes', 'inspector-episodes');
    const ul = el('ul', 'list');
    if (!eps.length) ul.appendChild(el('li', 'muted', 'no episodes'));
    eps.forEach((e) => {
      const li = el('li', 'episode');
      li.appendChild(el('span', null, e.summary));
      li.appendChild(el('span', 'muted', ` (${e.reason})`));
      ul.appendChild(li);
    });
    sec.appendChild(ul);
  }

  function renderGraph(g) {
    const sec = section('Graph neighbours', 'inspector-graph');
    const ul = el('ul', 'list');
    const ns = (g && g.neighbours) || [];
    if (!ns.length) ul.appendChild(el('li', 'muted', 'none'));
    ns.slice(0, 20).forEach((n) => {
      const label = typeof n === 'object' ? `${n.label || n.id || n.node || '?'}${n.edge ? ` (${n.type ? `${n.type} ` : ''}${n.edge})` : ''}${n.weight !== undefined ? ` · ${num(n.weight, 2)}` : ''}` : n;
      ul.appendChild(el('li', 'neighbour', label));
    });
    sec.appendChild(ul);
  }

  async function load(key, q) {
    current = key;
    root.replaceChildren(el('p', 'muted inspector-status', 'loading inspector…'));
    try {
      const data = await api(`/api/inspector/${encodeURIComponent(key)}${q ? `?q=${encodeURIComponent(q)}` : ''}`);
      if (current !== key) return;
      root.replaceChildren(el('p', 'muted inspector-status', ''));
      renderProfile(data.profile || {});
      renderFacts(data.facts || {});
      renderMemories(data.memories || [], data.query);
      renderEpisodes(data.episodes || []);
      renderGraph(data.graph || {});
    } catch (err) {
      status(`inspector: ${err.message}`);
    }
  }

  document.addEventListener('companion:viewer-open', (ev) => load(ev.detail.key));
})();

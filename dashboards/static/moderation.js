// Review queue panel: held messages with category, score, threshold, level and reason, and
// approve / deny buttons. Chat text is untrusted: it is only ever set with textContent.
(function () {
  'use strict';

  const hashParams = new URLSearchParams(location.hash.slice(1));
  const queryParams = new URLSearchParams(location.search);
  const token = hashParams.get('token') || queryParams.get('token') || null;
  const POLL_MS = 1000;
  const list = document.getElementById('review');
  const count = document.getElementById('review-count');
  const status = document.getElementById('review-status');
  if (!list) return;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };

  async function api(path, options) {
    const headers = Object.assign({}, (options && options.headers) || {});
    if (token) headers.Authorization = `Bearer ${token}`;
    const resp = await fetch(path, Object.assign({}, options || {}, { headers }));
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
    return body;
  }

  function row(item) {
    const d = item.decision || {};
    const li = el('li', 'held');
    li.dataset.id = item.id;
    const head = el('div', 'held-head');
    head.append(el('span', 'user', item.user), el('span', 'muted', ` #${item.channel} · ${item.platform}`));
    const text = el('div', 'text', item.text);
    const why = el('div', 'why');
    why.append(
      el('span', 'category', d.category || d.rule || '–'),
      el('span', 'score', d.score === null || d.score === undefined ? '–' : Number(d.score).toFixed(2)),
      el('span', 'threshold', d.threshold === null || d.threshold === undefined ? '' : `≥ ${Number(d.threshold).toFixed(2)}`),
      el('span', 'level', d.level ? `level ${d.level}` : ''),
    );
    const reason = el('div', 'reason muted', d.reason || '');
    const buttons = el('div', 'buttons');
    const approve = el('button', 'approve', 'approve');
    const deny = el('button', 'deny danger', 'deny');
    approve.type = deny.type = 'button';
    approve.addEventListener('click', () => decide(item.id, 'approve', li));
    deny.addEventListener('click', () => decide(item.id, 'deny', li));
    buttons.append(approve, deny);
    li.append(head, text, why, reason, buttons);
    return li;
  }

  async function decide(id, decision, li) {
    li.classList.add('pending');
    try {
      const out = await api(`/api/moderation/${encodeURIComponent(id)}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ decision }),
      });
      const what = out.action ? `${out.action} ${out.executed ? 'executed' : 'not executed'}` : 'left in chat';
      status.textContent = `${decision}: ${what}${out.why ? ` (${out.why})` : ''}`;
      status.dataset.last = `${decision}:${out.executed ? 'executed' : 'not-executed'}`;
      li.remove();
    } catch (err) {
      li.classList.remove('pending');
      status.textContent = `${decision} failed: ${err.message}`;
    }
    refresh();
  }

  async function refresh() {
    let q;
    try {
      q = await api('/api/moderation/queue');
    } catch (err) {
      count.textContent = '(unavailable)';
      return;
    }
    const want = new Set(q.items.map((i) => i.id));
    for (const li of Array.from(list.children)) {
      if (!want.has(li.dataset.id)) li.remove();
    }
    const have = new Set(Array.from(list.children).map((li) => li.dataset.id));
    for (const item of q.items) {
      if (!have.has(item.id)) list.append(row(item));
    }
    count.textContent = !q.enabled ? '(moderation off)'
      : `${q.pending} pending${q.moderate ? '' : ' · --moderate off'}`;
    list.dataset.pending = String(q.pending);
  }

  refresh();
  setInterval(refresh, POLL_MS);
})();

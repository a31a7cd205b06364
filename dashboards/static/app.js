// companion live dashboard. Chat text is untrusted: it is only ever set with textContent.
(function () {
  'use strict';

  const hashParams = new URLSearchParams(location.hash.slice(1));
  const queryParams = new URLSearchParams(location.search);
  const token = hashParams.get('token') || queryParams.get('token') || null;
  const MAX_FEED = 200;
  const EMOTIONS = ['joy', 'surprise', 'neutral', 'sadness', 'fear', 'anger', 'disgust'];
  const EMOTION_COLOURS = ['#3fb950', '#d2a8ff', '#8a90a0', '#58a6ff', '#a371f7', '#f85149', '#d29922'];

  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const fmtTime = (ts) => new Date(ts * 1000).toLocaleTimeString();
  const fmt = (v, digits) => (v === null || v === undefined || Number.isNaN(v)) ? '–' : Number(v).toFixed(digits);
  const viewerKey = (r) => `${r.platform || 'replay'}:${r.user_id || String(r.user || 'anonymous').toLowerCase()}`;

  const state = { analytics: null, channel: null, seen: new Set(), opens: 0, alerts: [], recs: [] };

  // ---- HTTP -----------------------------------------------------------------------------
  async function api(path, options) {
    const headers = Object.assign({}, (options && options.headers) || {});
    if (token) headers.Authorization = `Bearer ${token}`;
    const resp = await fetch(path, Object.assign({}, options || {}, { headers }));
    if (resp.status === 204) return null;
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
    return body;
  }

  // ---- WebSocket with reconnect and backoff ---------------------------------------------
  let backoff = 500;
  function connect() {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${proto}://${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      backoff = 500;
      state.opens += 1;
      const c = $('conn');
      c.textContent = 'live';
      c.className = 'conn up';
      c.dataset.opens = String(state.opens);
    };
    ws.onmessage = (ev) => {
      try {
        handle(JSON.parse(ev.data));
      } catch (err) {
        console.warn('bad dashboard message', err);
      }
    };
    ws.onclose = () => {
      const c = $('conn');
      c.textContent = 'reconnecting…';
      c.className = 'conn down';
      const wait = backoff * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, 10000);
      setTimeout(connect, wait);
    };
    ws.onerror = () => ws.close();
  }

  function handle(msg) {
    (msg.records || []).forEach(addRecord);
    (msg.alerts || []).forEach(addAlert);
    (msg.recommendations || []).forEach(addRecommendation);
    if (msg.mood) renderMood(msg.mood);
    if (msg.state) renderEngineState(msg.state);
    if (msg.analytics) {
      if (msg.full || !state.analytics) {
        state.analytics = msg.analytics;
      } else {
        const a = state.analytics;
        a.ts = msg.analytics.ts;
        a.top_chatters = msg.analytics.top_chatters;
        for (const [name, ch] of Object.entries(msg.analytics.channels || {})) {
          a.channels[name] = Object.assign(a.channels[name] || {}, ch);
        }
      }
      renderAnalytics(Boolean(msg.full));
    }
  }

  // ---- chat feed ------------------------------------------------------------------------
  function addRecord(r) {
    if (!r || state.seen.has(r.id)) return;
    state.seen.add(r.id);
    const feed = $('feed');
    const label = (r.sentiment && r.sentiment.label) || 'neutral';
    const li = el('li', `s-${label}`);
    li.dataset.id = r.id;
    li.title = `sentiment ${fmt(r.sentiment && r.sentiment.score, 2)}${r.emotion ? `, ${r.emotion}` : ''}`;
    li.appendChild(el('span', 'time', fmtTime(r.ts)));
    const user = el('button', 'user', r.user);
    user.type = 'button';
    user.addEventListener('click', () => openViewer(viewerKey(r), r.user));
    li.appendChild(user);
    li.appendChild(el('span', 'text', r.text));
    if (r.toxicity && r.toxicity.flagged) {
      li.classList.add('toxic');
      li.appendChild(el('span', 'flag', `toxic${r.toxicity.label ? `: ${r.toxicity.label}` : ''}`));
    }
    if (r.kind && r.kind !== 'message') li.appendChild(el('span', 'flag', r.kind));
    const atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 30;
    feed.appendChild(li);
    while (feed.children.length > MAX_FEED) {
      state.seen.delete(feed.firstChild.dataset.id);
      feed.removeChild(feed.firstChild);
    }
    if (atBottom) feed.scrollTop = feed.scrollHeight;
  }

  // ---- alerts, moments, recommendations, mood --------------------------------------------
  function addAlert(a) {
    if (!a || state.alerts.some((x) => x.id && x.id === a.id)) return;
    state.alerts.push(a);
    const li = el('li', `sev-${a.severity || 'info'}`);
    li.appendChild(el('strong', null, a.label || a.kind));
    li.appendChild(el('span', 'muted', ` ${fmtTime(a.ts)} · ${a.channel} · `));
    li.appendChild(el('span', null, a.reason));
    const list = $('alerts');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }

  function renderMoments(moments) {
    const list = $('moments');
    list.replaceChildren();
    if (!moments || !moments.length) {
      list.appendChild(el('li', 'muted', 'none yet'));
      return;
    }
    moments.slice(-10).reverse().forEach((m) => {
      list.appendChild(el('li', null, `${m.label} at ${fmtTime(m.ts)} (clip ${fmtTime(m.start)}–${fmtTime(m.end)}): ${m.reason}`));
    });
  }

  function addRecommendation(r) {
    const list = $('recs');
    const li = el('li');
    li.appendChild(el('strong', null, `${r.tone || 'calm'} `));
    li.appendChild(el('span', 'muted', `${fmtTime(r.created_at || Date.now() / 1000)} ${(r.tone_reasons || []).join(', ')}`));
    (r.picks || []).slice(0, 3).forEach((p) => {
      const d = el('div');
      d.appendChild(el('span', 'user', p.user));
      d.appendChild(el('span', 'text', p.text));
      li.appendChild(d);
    });
    (r.moderation || []).forEach((m) => li.appendChild(el('div', 'flag', `${m.action} ${m.user}: ${m.reason}`)));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 10) list.removeChild(list.lastChild);
  }

  function flatten(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj || {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else out.push([key, v]);
    }
    return out;
  }

  // One gauge per neurochemical (with its baseline as the meter's "optimum") and per PAD axis;
  // then the expression, sampling parameters and conditioning tokens as text.
  function gauge(box, label, v, signed, optimum) {
    const row = el('div', 'g');
    row.appendChild(el('span', 'muted', label));
    const m = document.createElement('meter');
    m.min = signed ? -1 : 0;
    m.max = 1;
    m.value = typeof v === 'number' ? v : 0;
    if (typeof optimum === 'number') m.optimum = optimum;
    row.appendChild(m);
    row.appendChild(el('span', null, typeof v === 'number' ? v.toFixed(2) : '–'));
    box.appendChild(row);
  }

  function textRow(box, label, v) {
    const row = el('div', 'g');
    row.appendChild(el('span', 'muted', label));
    row.appendChild(el('span', null, v == null ? '–' : String(v)));
    row.appendChild(el('span'));
    box.appendChild(row);
  }

  function renderMood(mood) {
    const box = $('mood');
    box.replaceChildren();
    const chem = mood.neurochemicals || {};
    const base = mood.baseline || {};
    for (const k of ['dopamine', 'serotonin', 'cortisol', 'oxytocin']) gauge(box, k, chem[k], false, base[k]);
    const pad = mood.pad || {};
    for (const k of ['pleasure', 'arousal', 'dominance']) gauge(box, k, pad[k], true);
    textRow(box, 'expression', mood.expression);
    const s = mood.sampling || {};
    textRow(box, 'sampling', Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' '));
    textRow(box, 'tokens', mood.conditioning);
  }

  function renderEngineState(s) {
    const dl = $('engine-state');
    dl.replaceChildren();
    flatten(s, '', []).filter(([k, v]) => !k.startsWith('analytics') && (typeof v !== 'object' || v === null))
      .slice(0, 14).forEach(([k, v]) => {
        dl.appendChild(el('dt', null, k));
        dl.appendChild(el('dd', null, typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v));
      });
  }

  // ---- analytics: counters, chatters, charts --------------------------------------------
  function pickChannel(a) {
    const names = Object.keys(a.channels || {});
    const sel = $('channel');
    if (sel.options.length !== names.length) {
      sel.replaceChildren(...names.map((n) => { const o = el('option', null, n); o.value = n; return o; }));
    }
    if (!state.channel || !a.channels[state.channel]) {
      state.channel = names.sort((x, y) => (a.channels[y].total_messages || 0) - (a.channels[x].total_messages || 0))[0] || null;
    }
    if (state.channel) sel.value = state.channel;
    return state.channel ? a.channels[state.channel] : null;
  }

  function renderAnalytics(full) {
    const a = state.analytics;
    const ch = pickChannel(a);
    if (!ch || !ch.windows) return;
    const w10 = ch.windows['10s'], w1 = ch.windows['1m'], w5 = ch.windows['5m'];
    $('c-rate').textContent = fmt(w1.msgs_per_min, 0);
    $('c-rate10').textContent = fmt(w10.msgs_per_min, 0);
    $('c-chatters').textContent = w5.unique_chatters;
    $('c-new').textContent = w5.new_chatters;
    $('c-sentiment').textContent = fmt(w1.sentiment.mean, 2);
    $('c-toxicity').textContent = w1.toxicity_rate === null ? '–' : `${Math.round(w1.toxicity_rate * 100)}%`;
    $('c-total').textContent = ch.total_messages;
    const chatters = $('chatters');
    chatters.replaceChildren();
    (ch.top_chatters || a.top_chatters || []).forEach((v) => {
      const li = el('li');
      const b = el('button', 'user', v.user);
      b.type = 'button';
      b.addEventListener('click', () => openViewer(v.viewer, v.user));
      li.appendChild(b);
      li.appendChild(el('span', 'muted', `${fmt(v.score, 1)} · ${v.messages} msgs${v.events ? ` · ${v.events} events` : ''}`));
      chatters.appendChild(li);
    });
    const tags = $('topwords');
    tags.replaceChildren(...[...(w5.top_emotes || []), ...(w5.top_words || [])].map(([t, n]) => el('span', null, `${t} ${n}`)));
    if (full || !charts.rate) {
      renderMoments(ch.moments);
      renderCharts(ch, a);
    }
  }

  const charts = {};
  // Time axis in epoch seconds, ranged on the data itself. With a single point (the first closed
  // minute) uPlot 1.6 widens the range by "one day" computed for millisecond x values
  // (86400 / 1e-3 s = 1000 days), so the emotion chart was labelled in years.
  const X_TIME = {
    time: true,
    range: (u) => {
      const xs = u.data[0] || [];
      if (!xs.length) return [Date.now() / 1000 - 300, Date.now() / 1000];
      const lo = xs[0], hi = xs[xs.length - 1];
      return lo === hi ? [lo - 300, hi + 60] : [lo, hi];
    },
  };
  function chartSize(id) {
    const box = $(id);
    return { width: Math.max(300, box.clientWidth), height: 200 };
  }
  function makeChart(id, series, extra) {
    const opts = Object.assign({
      ...chartSize(id),
      scales: { x: X_TIME },
      axes: [{ stroke: '#8a90a0', grid: { stroke: '#232838' } }, { stroke: '#8a90a0', grid: { stroke: '#232838' } }],
      legend: { live: false },
      series: [{}].concat(series),
    }, extra || {});
    const data = [[]].concat(series.map(() => []));
    const box = $(id);
    // The x range actually drawn (epoch seconds), for tests and for anyone inspecting the page.
    opts.hooks = { setScale: [(u, key) => {
      if (key === 'x') { box.dataset.xMin = String(u.scales.x.min); box.dataset.xMax = String(u.scales.x.max); }
    }] };
    return new uPlot(opts, data, box);
  }

  // Union of several (t, values) pairs onto one sorted x axis, as uPlot wants.
  function align(parts) {
    const xs = [...new Set(parts.flatMap((p) => p.t))].sort((x, y) => x - y);
    const index = new Map(xs.map((x, i) => [x, i]));
    const cols = parts.map((p) => {
      const col = new Array(xs.length).fill(null);
      p.t.forEach((t, i) => { col[index.get(t)] = p.v[i]; });
      return col;
    });
    return [xs].concat(cols);
  }

  function forecastText(fc, unit) {
    if (!fc) return '';
    if (fc.status !== 'ok') return fc.reason || fc.status;
    const ev = fc.evaluation;
    let s = `Prophet ${fc.horizon_min}-min forecast, 80% band`;
    if (ev && ev.status === 'ok') {
      s += ` · backtest MAE ${Object.entries(ev.mae).map(([m, v]) => `${m} ${v.toFixed(unit)}`).join(', ')} · best: ${ev.winner}`;
    } else if (ev) {
      s += ` · ${ev.reason}`;
    }
    return s;
  }

  function renderCharts(ch) {
    const recent = ch.recent || { t: [], rate: [], sentiment: [] };
    const series = ch.series || { t: [], rate: [], sentiment: [], emotions: [] };
    const fRate = (ch.forecast && ch.forecast.rate) || null;
    const fSent = (ch.forecast && ch.forecast.sentiment) || null;
    const pts = (fc) => (fc && fc.status === 'ok' ? fc.points : []);
    const alertTs = (ch.alerts || []).map((x) => Math.floor(x.ts / 10) * 10);
    const rateAt = new Map(recent.t.map((t, i) => [t, recent.rate[i]]));
    const markers = alertTs.map((t) => rateAt.has(t) ? rateAt.get(t) : Math.max(0, ...recent.rate));
    if (!charts.rate) {
      charts.rate = makeChart('chart-rate', [
        { label: 'msgs/min (10 s bins)', stroke: '#58a6ff', width: 1.5, spanGaps: true },
        { label: 'msgs/min (minute)', stroke: '#e6e6e6', width: 2, spanGaps: true },
        { label: 'forecast', stroke: '#d29922', dash: [6, 4], width: 2 },
        { label: 'forecast low', stroke: 'rgba(210,153,34,0.3)' },
        { label: 'forecast high', stroke: 'rgba(210,153,34,0.3)' },
        { label: 'anomaly', stroke: '#f85149', paths: () => null, points: { show: true, size: 10, fill: '#f85149' } },
      ], { bands: [{ series: [5, 4], fill: 'rgba(210,153,34,0.18)' }] });
    }
    const rateData = align([
      { t: recent.t, v: recent.rate }, { t: series.t, v: series.rate },
      { t: pts(fRate).map((p) => p[0]), v: pts(fRate).map((p) => p[1]) },
      { t: pts(fRate).map((p) => p[0]), v: pts(fRate).map((p) => p[2]) },
      { t: pts(fRate).map((p) => p[0]), v: pts(fRate).map((p) => p[3]) },
      { t: alertTs, v: markers },
    ]);
    charts.rate.setData(rateData);
    $('chart-rate').dataset.points = String(rateData[0].length);
    $('forecast-info').textContent = forecastText(fRate, 1);
    if (!charts.sentiment) {
      charts.sentiment = makeChart('chart-sentiment', [
        { label: 'sentiment (10 s)', stroke: '#3fb950', width: 1.5, spanGaps: true },
        { label: 'sentiment (minute)', stroke: '#e6e6e6', width: 2, spanGaps: true },
        { label: 'forecast', stroke: '#d29922', dash: [6, 4], width: 2 },
        { label: 'low', stroke: 'rgba(210,153,34,0.3)' },
        { label: 'high', stroke: 'rgba(210,153,34,0.3)' },
      ], { bands: [{ series: [5, 4], fill: 'rgba(210,153,34,0.18)' }],
           scales: { x: X_TIME, y: { range: [-1, 1] } } });
    }
    charts.sentiment.setData(align([
      { t: recent.t, v: recent.sentiment }, { t: series.t, v: series.sentiment },
      { t: pts(fSent).map((p) => p[0]), v: pts(fSent).map((p) => p[1]) },
      { t: pts(fSent).map((p) => p[0]), v: pts(fSent).map((p) => p[2]) },
      { t: pts(fSent).map((p) => p[0]), v: pts(fSent).map((p) => p[3]) },
    ]));
    $('sentiment-info').textContent = forecastText(fSent, 3);
    if (!charts.emotion) {
      charts.emotion = makeChart('chart-emotion', EMOTIONS.map((e, i) => ({ label: e, stroke: EMOTION_COLOURS[i], width: 1.5 })),
        { scales: { x: X_TIME, y: { range: [0, 1] } } });
    }
    charts.emotion.setData([series.t].concat(EMOTIONS.map((e) => (series.emotions || []).map((mix) => mix[e] || 0))));
  }

  window.addEventListener('resize', () => {
    for (const [name, chart] of Object.entries(charts)) chart.setSize(chartSize(`chart-${name}`));
  });
  $('channel').addEventListener('change', (ev) => {
    state.channel = ev.target.value;
    if (state.analytics) renderAnalytics(true);
  });

  // ---- viewer drawer ---------------------------------------------------------------------
  let drawerViewer = null;
  async function openViewer(key, name) {
    drawerViewer = key;
    document.dispatchEvent(new CustomEvent('companion:viewer-open', { detail: { key, name } }));
    $('drawer').hidden = false;
    $('drawer-title').textContent = name || key;
    $('drawer-status').textContent = 'loading…';
    ['drawer-profile', 'drawer-memories', 'drawer-neighbours'].forEach((id) => $(id).replaceChildren());
    try {
      const view = await api(`/api/viewers/${encodeURIComponent(key)}`);
      if (drawerViewer !== key) return;
      const dl = $('drawer-profile');
      flatten(view, '', []).filter(([k]) => !/^(memories|neighbours|neighbors|graph)/.test(k)).slice(0, 30).forEach(([k, v]) => {
        dl.appendChild(el('dt', null, k));
        dl.appendChild(el('dd', null, Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(', ') : v));
      });
      showMemories(view.memories || []);
      const neighbours = view.neighbours || view.neighbors || (view.graph && (view.graph.neighbours || view.graph.neighbors)) || [];
      const nl = $('drawer-neighbours');
      if (!neighbours.length) nl.appendChild(el('li', 'muted', 'none'));
      neighbours.forEach((n) => {
        nl.appendChild(el('li', null, typeof n === 'object' ? `${n.label || n.name || n.id || n.node || '?'}${(n.relation || n.edge) ? ` (${n.relation || n.edge})` : ''}${n.weight !== undefined ? ` · ${Number(n.weight).toFixed(2)}` : ''}` : n));
      });
      $('drawer-status').textContent = '';
    } catch (err) {
      $('drawer-status').textContent = `could not load viewer: ${err.message}`;
    }
  }

  function showMemories(items) {
    const ul = $('drawer-memories');
    ul.replaceChildren();
    if (!items.length) ul.appendChild(el('li', 'muted', 'no memories'));
    items.forEach((m) => {
      const li = el('li');
      li.appendChild(el('span', null, m.text || m.content || JSON.stringify(m)));
      const score = m.score !== undefined ? m.score : null;
      if (score !== null) li.appendChild(el('span', 'muted', ` · score ${Number(score).toFixed(3)}`));
      if (m.parts) li.appendChild(el('span', 'muted', ` (${Object.entries(m.parts).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ')})`));
      if (m.tier) li.appendChild(el('span', 'muted', ` · ${m.tier}`));
      ul.appendChild(li);
    });
  }

  $('memory-search').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!drawerViewer) return;
    const q = $('memory-q').value.trim();
    if (!q) return;
    try {
      const res = await api(`/api/memories/search?q=${encodeURIComponent(q)}&viewer=${encodeURIComponent(drawerViewer)}&k=10`);
      showMemories(res.results || []);
      $('drawer-status').textContent = '';
    } catch (err) {
      $('drawer-status').textContent = `search failed: ${err.message}`;
    }
  });

  $('drawer-forget').addEventListener('click', async () => {
    if (!drawerViewer) return;
    if (!window.confirm(`Forget ${$('drawer-title').textContent} everywhere (memories, profile, analytics)? This cannot be undone.`)) return;
    try {
      await api(`/api/viewers/${encodeURIComponent(drawerViewer)}`, { method: 'DELETE' });
      $('drawer-status').textContent = 'forgotten';
      ['drawer-profile', 'drawer-memories', 'drawer-neighbours'].forEach((id) => $(id).replaceChildren());
    } catch (err) {
      $('drawer-status').textContent = `forget failed: ${err.message}`;
    }
  });
  $('drawer-close').addEventListener('click', () => { $('drawer').hidden = true; drawerViewer = null; });

  renderMoments([]);
  connect();
})();

// The OBS overlay: expression, mood gauges, the current pick and the reply as it streams, live
// over /ws/overlay. Chat text is set with textContent only (it is untrusted).
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const ICONS = { neutral: '🙂', joy: '😄', sadness: '😢', anger: '😠', fear: '😨', surprise: '😮', disgust: '🤢', smirk: '😏' };
  const GAUGES = ['dopamine', 'serotonin', 'cortisol', 'oxytocin'];
  const token = new URLSearchParams(location.search).get('token');
  let opens = 0;
  let replyFor = null;

  function gauges() {
    const box = $('gauges');
    for (const name of GAUGES) {
      const row = document.createElement('div');
      row.className = `gauge ${name}`;
      row.dataset.name = name;
      const label = document.createElement('span');
      label.textContent = name;
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = document.createElement('div');
      fill.className = 'fill';
      bar.appendChild(fill);
      const value = document.createElement('span');
      value.className = 'value';
      row.append(label, bar, value);
      box.appendChild(row);
    }
  }

  function showMood(mood) {
    if (!mood) return;
    const label = mood.expression || 'neutral';
    $('expression').textContent = label;
    $('expression-icon').textContent = ICONS[label] || ICONS.neutral;
    document.body.dataset.expression = label;
    const levels = mood.neurochemicals || {};
    for (const name of GAUGES) {
      const v = Number(levels[name]);
      if (!Number.isFinite(v)) continue;
      const row = document.querySelector(`.gauge[data-name="${name}"]`);
      row.querySelector('.fill').style.width = `${Math.round(Math.max(0, Math.min(1, v)) * 100)}%`;
      row.querySelector('.value').textContent = v.toFixed(2);
      row.dataset.value = String(v);
    }
  }

  function showRecommendation(rec) {
    if (!rec || !rec.picks || !rec.picks.length) return;
    const pick = rec.picks[0];
    $('pick').hidden = false;
    $('pick-user').textContent = pick.user;
    $('pick-tone').textContent = rec.tone || '';
    $('pick-text').textContent = pick.text;
    $('pick').dataset.messageId = pick.message_id;
  }

  function showReply(ev) {
    const box = $('reply');
    if (ev.type === 'delta') {
      if (replyFor !== ev.recommendation_id) { replyFor = ev.recommendation_id; box.textContent = ''; }
      box.hidden = false;
      box.textContent += ev.text;
    } else if (ev.type === 'outcome' && ev.recommendation_id === replyFor) {
      box.dataset.status = ev.status;
      if (ev.status === 'sent' || ev.status === 'draft') box.textContent = ev.text;
      else box.hidden = true;  // blocked or failed replies never stay on screen
    }
  }

  function connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/overlay${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url);
    ws.onopen = () => { opens += 1; $('overlay').dataset.connected = '1'; $('overlay').dataset.opens = String(opens); };
    ws.onmessage = (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch (e) { return; }
      if (ev.type === 'hello') { showMood(ev.mood); showRecommendation(ev.recommendation); }
      else if (ev.type === 'mood') showMood(ev.data);
      else if (ev.type === 'recommendation') showRecommendation(ev.data);
      else showReply(ev);
    };
    ws.onclose = () => { $('overlay').dataset.connected = '0'; setTimeout(connect, 1000); };
  }

  gauges();
  connect();
})();

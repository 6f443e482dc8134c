(function(){
const config = JSON.parse(document.getElementById('config').textContent);
let offset = config.now - Date.now()/1000;
let settings = config.settings;
let sortKey = 'name', sortDir = 1;
const tbody = document.querySelector('#grid tbody');
function ago(s){ s = Math.max(0, Math.round(s));
  if (s < 60) return s + ' s'; if (s < 3600) return Math.floor(s/60) + ' min ' + (s%60) + ' s';
  return Math.floor(s/3600) + ' h ' + Math.floor(s%3600/60) + ' min'; }
function stuck(tr, now){
  if (tr.classList.contains('revoked') || tr.dataset.step === '99') return false;
  return now - parseFloat(tr.dataset.since) >= settings.stuck_minutes*60
      || parseInt(tr.dataset.repeat) >= settings.same_failure; }
function tick(){
  const now = Date.now()/1000 + offset;
  for (const tr of tbody.rows){
    tr.querySelector('.since').textContent = tr.dataset.step === '99' ? '' : ago(now - parseFloat(tr.dataset.since));
    tr.querySelector('.seen').textContent = ago(now - parseFloat(tr.dataset.seen)) + ' ago';
    tr.classList.toggle('stuck', stuck(tr, now)); } }
function value(tr){
  const now = Date.now()/1000 + offset;
  switch (sortKey){
    case 'name': return tr.dataset.name;
    case 'step': return parseInt(tr.dataset.step);
    case 'since': return -(now - parseFloat(tr.dataset.since));
    case 'seen': return parseFloat(tr.dataset.seen);
    case 'stuck': return (stuck(tr, now) ? 0 : 1) * 1e9 + parseFloat(tr.dataset.since); } }
function sort(){
  const rows = Array.from(tbody.rows);
  rows.sort((a, b) => { const x = value(a), y = value(b); return (x < y ? -1 : x > y ? 1 : 0) * sortDir; });
  for (const tr of rows) tbody.appendChild(tr); }
document.querySelectorAll('th[data-sort]').forEach(th => th.addEventListener('click', () => {
  sortDir = sortKey === th.dataset.sort ? -sortDir : 1; sortKey = th.dataset.sort; tick(); sort(); }));
function apply(update){
  offset = update.now - Date.now()/1000;
  for (const [id, html] of Object.entries(update.rows || {})){
    const holder = document.createElement('tbody'); holder.innerHTML = html;
    const fresh = holder.firstElementChild, old = document.getElementById('p-' + id);
    if (old) old.replaceWith(fresh); else tbody.appendChild(fresh); }
  for (const [id, seen] of Object.entries(update.seen || {})){
    const tr = document.getElementById('p-' + id); if (tr) tr.dataset.seen = seen; }
  if (update.panels){
    const p = update.panels; settings = p.settings;
    document.getElementById('room').innerHTML = p.room;
    document.getElementById('board').innerHTML = p.board;
    document.getElementById('message').innerHTML = p.message;
    document.getElementById('count').textContent = p.count;
    document.getElementById('events').textContent = p.events; }
  tick(); sort();
  document.body.dataset.version = update.version; }
function connect(){
  const source = new EventSource(config.stream);
  const live = document.getElementById('live');
  source.onopen = () => { live.textContent = 'live'; live.className = 'on'; };
  source.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'off'; };
  source.onmessage = (m) => apply(JSON.parse(m.data)); }
async function act(path, body){
  const response = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json',
    'X-Labkit-Key': config.key}, body: JSON.stringify(body)});
  if (!response.ok) alert((await response.json()).error); return response; }
const broadcast = document.getElementById('broadcast');
if (broadcast) broadcast.addEventListener('submit', (e) => { e.preventDefault();
  act('/api/admin/broadcast', {text: broadcast.text.value, step: broadcast.step.value})
    .then(r => { if (r.ok) broadcast.text.value = ''; }); });
const form = document.getElementById('settings');
if (form) form.addEventListener('submit', (e) => { e.preventDefault();
  act('/api/admin/settings', {stuck_minutes: parseFloat(form.stuck_minutes.value),
    same_failure: parseInt(form.same_failure.value), leaderboard: form.leaderboard.value,
    code_request: form.code_request.value}); });
tbody.addEventListener('click', async (e) => {
  const button = e.target.closest('button.act'); if (!button) return;
  const id = parseInt(button.dataset.id);
  if (button.dataset.act === 'revoke' && confirm('Revoke this participant\'s token?'))
    act('/api/admin/revoke', {participant: id});
  if (button.dataset.act === 'code'){
    const r = await fetch('/room/code/' + id + '?key=' + encodeURIComponent(config.key));
    const dialog = document.getElementById('code');
    dialog.querySelector('pre').textContent = await r.text(); dialog.showModal(); } });
setInterval(tick, 1000); connect();
})();

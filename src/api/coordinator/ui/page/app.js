// The Torua dashboard: one page, Preact + htm served by the coordinator
// itself (vendor/). Live data: the replica's `/ui/api/overview` (at most once
// a second, and soon after each event) and the `events.subscribe` SSE stream.
// The page only ever talks to the replica that served it; when that one stops
// answering it says so at once and links to the other replicas' dashboards.
import { h, render } from './vendor/preact.mjs';
import { useEffect, useRef, useState } from './vendor/hooks.mjs';
import htm from './vendor/htm.mjs';

const html = htm.bind(h);

/** No refresh loop runs faster than this. */
const REFRESH_MS = 1000;
/** An overview that takes longer counts as "the replica does not answer". */
const FETCH_TIMEOUT_MS = 2500;
const MAX_EVENTS = 300;

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

/**
 * The API token, when the cluster has auth: asked for when the replica
 * answers 401, kept for this tab only, sent as `Authorization: Bearer`.
 * The event stream (EventSource sends no headers) carries it in a
 * same-site cookie, which the replica accepts for reads only.
 */
const TOKEN_KEY = 'torua-token';
let token = sessionStorage.getItem(TOKEN_KEY);

function rememberToken(value) {
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  document.cookie = `torua_token=${encodeURIComponent(value)}; path=/; SameSite=Strict`;
}

/** One call to the replica; the answer's status and its body (JSON when it is JSON). */
async function call(method, path, body, timeoutMs = FETCH_TIMEOUT_MS) {
  const res = await fetch(path, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    headers: {
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

const getJson = (path) => call('GET', path);
/** Admin calls wait for the cluster (a transfer, a removal): longer than a read. */
const postJson = (path, body, timeoutMs = 60000) => call('POST', path, body ?? {}, timeoutMs);

const errorText = (answer) => (answer.body && answer.body.error ? `${answer.body.error.message} (${answer.body.error.code}, HTTP ${answer.status})` : `HTTP ${answer.status}`);

/**
 * The page's whole state, kept outside Preact so that timers and the event
 * stream can update it; `useStore` re-renders on each change.
 */
function createStore() {
  const state = {
    overview: null,
    lastOk: 0,
    /** Why the replica that served the page does not answer, or null. */
    down: null,
    downSince: 0,
    streamLive: false,
    events: [],
    lastSeq: null,
    /** The most shard copies seen on a draining/evacuating node since the page opened: its progress is measured against it. */
    opStart: {},
    /** The replica answered 401: the page asks for a token. */
    needToken: null,
  };
  const listeners = new Set();
  return {
    state,
    set(patch) {
      Object.assign(state, patch);
      for (const l of listeners) l();
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

const store = createStore();

function markDown(why) {
  if (store.state.down === null) store.set({ down: why, downSince: Date.now() });
  else store.set({ down: why });
}

let lastRefreshAt = 0;
let refreshTimer = null;
let refreshing = false;

async function refresh() {
  refreshTimer = null;
  if (refreshing) return;
  refreshing = true;
  lastRefreshAt = Date.now();
  try {
    const answer = await getJson('api/overview');
    if (answer.status === 401 || answer.status === 403) {
      store.set({ needToken: errorText(answer) });
      return;
    }
    if (answer.status !== 200) throw new Error(errorText(answer));
    const ov = answer.body;
    const opStart = { ...store.state.opStart };
    for (const n of ov.nodes) {
      if (n.status === 'draining' || n.status === 'evacuating') opStart[n.id] = Math.max(opStart[n.id] ?? 0, n.shard_count);
      else delete opStart[n.id];
    }
    store.set({ overview: ov, lastOk: Date.now(), down: null, opStart, needToken: null });
    if (!store.state.streamLive) openStream();
  } catch (e) {
    markDown(e && e.name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS} ms` : String(e && e.message ? e.message : e));
  } finally {
    refreshing = false;
    scheduleRefresh(REFRESH_MS);
  }
}

/** At most one refresh a second, whatever asks for it. */
function scheduleRefresh(delayMs) {
  const at = Math.max(Date.now() + delayMs, lastRefreshAt + REFRESH_MS);
  if (refreshTimer !== null) {
    if (refreshTimer.at <= at) return;
    clearTimeout(refreshTimer.id);
  }
  refreshTimer = { at, id: setTimeout(refresh, at - Date.now()) };
}

let source = null;

function openStream() {
  if (source !== null) return;
  const since = store.state.lastSeq;
  const input = since === null ? {} : { since };
  source = new EventSource(`../trpc/events.subscribe?input=${encodeURIComponent(JSON.stringify(input))}`);
  source.onopen = () => store.set({ streamLive: true });
  source.onmessage = (m) => {
    let e;
    try {
      e = JSON.parse(m.data);
    } catch {
      return;
    }
    if (typeof e !== 'object' || e === null || typeof e.seq !== 'number') return;
    addEvents([e]);
    scheduleRefresh(0);
  };
  source.onerror = () => {
    // The replica went away (or restarted): say so now, and let the refresh loop reopen the stream once it answers again.
    source.close();
    source = null;
    store.set({ streamLive: false });
    markDown('the event stream was cut');
    scheduleRefresh(0);
  };
}

function addEvents(list) {
  const known = new Set(store.state.events.map((e) => e.seq));
  const fresh = list.filter((e) => !known.has(e.seq));
  if (fresh.length === 0) return;
  const events = [...fresh.reverse(), ...store.state.events].sort((a, b) => b.seq - a.seq).slice(0, MAX_EVENTS);
  store.set({ events, lastSeq: Math.max(store.state.lastSeq ?? 0, ...fresh.map((e) => e.seq)) });
}

async function loadRecentEvents() {
  try {
    const answer = await getJson('../events?stale=true');
    if (answer.status === 200) {
      addEvents(answer.body.events.slice(-MAX_EVENTS));
      if (store.state.lastSeq === null) store.set({ lastSeq: answer.body.last_seq });
    }
  } catch {
    /* the overview loop reports an unreachable replica */
  }
  openStream();
}

function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((t) => t + 1)), []);
  return store.state;
}

// ---------------------------------------------------------------------------
// Derived views
// ---------------------------------------------------------------------------

const nodeStatus = (n) => (n.health && n.health.status ? n.health.status : n.status);
const zoneOf = (n) => (n.labels && (n.labels.zone ?? n.labels['topology.zone'])) ?? '—';
const ago = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms ago` : `${(ms / 1000).toFixed(1)} s ago`);
const short = (hash) => (hash ? hash.slice(0, 10) : '—');

function primaryCount(shards, id) {
  return shards.filter((s) => s.primary === id).length;
}

/** Replica hashes agree when every replica at the same applied index has the same state hash. */
function hashAgreement(members) {
  const byIndex = new Map();
  for (const m of members) {
    if (m.applied_index === null || m.state_hash === null) continue;
    const seen = byIndex.get(m.applied_index) ?? new Set();
    seen.add(m.state_hash);
    byIndex.set(m.applied_index, seen);
  }
  const out = {};
  for (const m of members) {
    if (m.applied_index === null || m.state_hash === null) out[m.id] = 'unknown';
    else out[m.id] = byIndex.get(m.applied_index).size === 1 ? 'agrees' : 'differs';
  }
  return out;
}

function cellOf(shard, nodeId) {
  if (shard.primary === nodeId) return { kind: 'primary', text: 'P', label: `primary${shard.in_sync.includes(nodeId) ? '' : ', not in sync'}` };
  if (!shard.replicas.includes(nodeId)) return null;
  if (shard.recovery && shard.recovery.node === nodeId) {
    const pct = shard.recovery.total_keys ? Math.floor((100 * shard.recovery.copied_keys) / Math.max(1, shard.recovery.total_keys)) : null;
    return { kind: 'recovering', text: pct === null ? 'R…' : `R ${pct}%`, label: `recovering: ${shard.recovery.copied_keys} of ${shard.recovery.total_keys ?? '?'} keys copied` };
  }
  if (shard.in_sync.includes(nodeId)) return { kind: 'replica', text: 'R', label: 'replica, in sync' };
  return { kind: 'out-of-sync', text: 'R!', label: 'replica, out of sync' };
}

function operations(ov, opStart) {
  const ops = [];
  for (const n of ov.nodes) {
    if (n.status === 'draining' || n.status === 'evacuating') {
      const start = Math.max(opStart[n.id] ?? n.shard_count, 1);
      const done = start - n.shard_count;
      ops.push({ id: `op-${n.status}-${n.id}`, what: `${n.status === 'draining' ? 'Drain' : 'Evacuation'} of ${n.id}`, detail: `${n.shard_count} shard copies left`, value: done, max: start });
    }
    const evac = n.evacuation;
    if (evac && typeof evac.moved === 'number' && typeof evac.total === 'number') {
      ops.push({ id: `op-evac-${n.id}`, what: `Evacuation of ${n.id}`, detail: `${evac.moved} of ${evac.total} copies moved`, value: evac.moved, max: Math.max(1, evac.total) });
    }
  }
  for (const s of ov.shards) {
    if (s.recovery) {
      const total = s.recovery.total_keys;
      ops.push({
        id: `op-recovery-${s.id}-${s.recovery.node}`,
        what: `Copy of shard ${s.id} to ${s.recovery.node}`,
        detail: `${s.recovery.copied_keys} of ${total ?? '?'} keys`,
        value: total === null ? null : s.recovery.copied_keys,
        max: Math.max(1, total ?? 1),
      });
    }
  }
  const copies = ov.shards.reduce((sum, s) => sum + (s.primary ? 1 : 0) + s.replicas.length, 0);
  const behind = ov.shards.reduce((sum, s) => sum + s.replicas.filter((r) => !s.in_sync.includes(r)).length, 0);
  if (behind > 0) ops.push({ id: 'op-rebalance', what: 'Shard moves and recoveries', detail: `${behind} of ${copies} copies not in sync yet`, value: copies - behind, max: Math.max(1, copies) });
  const versions = new Set(ov.nodes.filter((n) => n.status !== 'left').map((n) => n.version).filter((v) => v));
  if (versions.size > 1) {
    const newest = [...versions].sort().at(-1);
    const on = ov.nodes.filter((n) => n.version === newest).length;
    ops.push({ id: 'op-upgrade', what: `Upgrade to ${newest}`, detail: `${on} of ${ov.nodes.length} nodes run it`, value: on, max: ov.nodes.length });
  }
  return ops;
}

// ---------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------

function Badge({ value, label }) {
  return html`<span class=${`badge s-${value}`}>${label ?? value}</span>`;
}

function Header({ ov, state }) {
  const info = ov?.info;
  return html`<header class="top">
    <h1>Torua <span class="muted">${info?.cluster_id ?? ''}</span></h1>
    <span>Cluster: <span data-testid="cluster-state"><${Badge} value=${info?.cluster_state ?? 'unknown'} /></span></span>
    <span>Leader: <strong data-testid="leader">${info?.leader ?? 'none'}</strong>${info?.leader_address ? html` <span class="muted">(${info.leader_address})</span>` : ''}</span>
    <span>Term ${info?.term ?? '—'}</span>
    <span>Served by <strong data-testid="served-by">${ov?.served_by ?? '…'}</strong>${ov && ov.view_of !== ov.served_by ? html` <span class="muted">(the leader's view)</span>` : ''}</span>
    <span class="live" data-testid="live">${state.down ? 'disconnected' : state.streamLive ? 'live' : 'connecting…'}</span>
  </header>`;
}

function DownBanner({ state, ov }) {
  if (!state.down) return null;
  const here = location.host;
  const others = (ov?.members ?? []).filter((m) => `${m.host}:${m.api_port}` !== here);
  return html`<div class="banner" role="alert" data-testid="down-banner">
    <strong>The replica ${ov?.served_by ?? here} (${here}) is not answering</strong> (${state.down}; since ${new Date(state.downSince).toLocaleTimeString()}).
    ${others.length > 0
      ? html` Open the dashboard on another replica:${' '}
          ${others.map((m) => html`<a data-testid="other-replica" href=${`${location.protocol}//${m.host}:${m.api_port}/ui/`}>${m.id} (${m.host}:${m.api_port})</a>${' '}`)}`
      : ''}
  </div>`;
}

function Reasons({ info }) {
  const reasons = info?.cluster_state_reasons ?? [];
  if (reasons.length === 0) return html`<p data-testid="reasons">All nodes healthy, every shard fully replicated.</p>`;
  return html`<ul class="reasons" data-testid="reasons">${reasons.map((r) => html`<li>${r}</li>`)}</ul>`;
}

function Replicas({ ov, onAction }) {
  const members = ov.members;
  const leader = members.find((m) => m.role === 'leader');
  const agreement = hashAgreement(members);
  return html`<section aria-labelledby="replicas-h">
    <h2 id="replicas-h">Coordinator replicas</h2>
    <table data-testid="replicas">
      <thead><tr><th scope="col">Replica</th><th scope="col">Address</th><th scope="col">Role</th><th scope="col" class="num">Term</th><th scope="col" class="num">Commit</th><th scope="col" class="num">Applied</th><th scope="col" class="num">Lag</th><th scope="col">Last contact</th><th scope="col">State hash</th><th scope="col">Actions</th></tr></thead>
      <tbody>${members.map((m) => {
        const lag = leader && leader.commit_index !== null && m.match_index !== null ? Math.max(0, leader.commit_index - m.match_index) : null;
        return html`<tr data-testid=${`replica-${m.id}`}>
          <th scope="row">${m.id}</th>
          <td>${m.host}:${m.api_port}</td>
          <td data-field="role"><${Badge} value=${m.role} /></td>
          <td class="num">${m.term ?? '—'}</td>
          <td class="num">${m.commit_index ?? '—'}</td>
          <td class="num">${m.applied_index ?? '—'}</td>
          <td class="num">${lag ?? '—'}</td>
          <td>${m.role === 'leader' ? '—' : (m.last_contact ?? '—')}</td>
          <td><code>${short(m.state_hash)}</code> <${Badge} value=${agreement[m.id]} /></td>
          <td>${m.role !== 'leader' ? html`<button aria-label=${`Make leader: ${m.id}`} onClick=${() => onAction({ kind: 'transfer', target: m.id })}>Make leader</button>` : ''}</td>
        </tr>`;
      })}</tbody>
    </table>
  </section>`;
}

function Nodes({ ov, onAction }) {
  return html`<section aria-labelledby="nodes-h">
    <h2 id="nodes-h">Data nodes</h2>
    <table data-testid="nodes">
      <thead><tr><th scope="col">Node</th><th scope="col">Address</th><th scope="col">Status</th><th scope="col">Path</th><th scope="col">Lease</th><th scope="col" class="num">Shards</th><th scope="col" class="num">Primaries</th><th scope="col" class="num">Capacity</th><th scope="col">Load</th><th scope="col">Version</th><th scope="col">Config</th><th scope="col">Zone</th><th scope="col">Last probe</th><th scope="col">Actions</th></tr></thead>
      <tbody>${ov.nodes.map((n) => {
        const status = nodeStatus(n);
        const load = n.capacity > 0 ? Math.round((100 * n.shard_count) / n.capacity) : 0;
        const l = ov.node_leases?.[n.id];
        const lease = l === undefined ? '—' : 'error' in l ? `no answer (${l.error})` : l.valid ? `${l.remaining_ms} ms from ${l.leader ?? '?'}` : 'expired';
        const reason = n.health?.reason || n.status_reason;
        return html`<tr data-testid=${`node-${n.id}`}>
          <th scope="row">${n.id}</th>
          <td>${n.address}</td>
          <td><span data-field="status" title=${reason}><${Badge} value=${status} /></span></td>
          <td data-field="path">${n.health ? html`<${Badge} value=${n.health.path === 'degraded' ? 'degraded' : 'healthy'} label=${n.health.path} />` : '—'}</td>
          <td data-field="lease">${lease}</td>
          <td class="num">${n.shard_count}</td>
          <td class="num">${primaryCount(ov.shards, n.id)}</td>
          <td class="num">${n.capacity}</td>
          <td><progress max="100" value=${load} aria-label=${`Load of ${n.id}: ${load}% of capacity`}></progress> ${load}%</td>
          <td>${n.version || '—'}</td>
          <td>${n.config_version ?? ov.config?.nodes?.[n.id] ?? '—'}</td>
          <td>${zoneOf(n)}</td>
          <td>${n.health ? ago(n.health.last_successful_probe_ms_ago) : '—'}</td>
          <td>
            ${n.status === 'maintenance'
              ? html`<button aria-label=${`End maintenance of ${n.id}`} onClick=${() => onAction({ kind: 'maintenance-off', target: n.id })}>End maintenance</button>`
              : html`<button aria-label=${`Put ${n.id} in maintenance`} onClick=${() => onAction({ kind: 'maintenance-on', target: n.id })}>Maintenance</button>`}
            <button aria-label=${`Evacuate ${n.id}`} onClick=${() => onAction({ kind: 'evacuate', target: n.id })}>Evacuate</button>
            <button aria-label=${`Drain ${n.id}`} onClick=${() => onAction({ kind: 'drain', target: n.id })}>Drain</button>
            <button class="danger" aria-label=${`Remove ${n.id}`} onClick=${() => onAction({ kind: 'remove', target: n.id })}>Remove</button>
          </td>
        </tr>`;
      })}</tbody>
    </table>
  </section>`;
}

function ShardMap({ ov }) {
  const nodes = ov.nodes.filter((n) => n.status !== 'left');
  return html`<section aria-labelledby="shards-h">
    <h2 id="shards-h">Shard map</h2>
    <p class="muted">P primary · R replica in sync · R n% recovering · R! out of sync</p>
    <table class="grid" data-testid="shard-map">
      <thead><tr><th scope="col">Shard</th><th scope="col">Epoch</th>${nodes.map((n) => html`<th scope="col">${n.id}</th>`)}</tr></thead>
      <tbody>${ov.shards.map((s) => html`<tr data-testid=${`shard-${s.id}`}>
        <th scope="row">${s.id} <span class="muted">${s.state}</span></th>
        <td>${s.epoch}</td>
        ${nodes.map((n) => {
          const c = cellOf(s, n.id);
          return html`<td data-node=${n.id}>${c ? html`<span class=${`cell s-${c.kind}`} title=${c.label} aria-label=${`shard ${s.id} on ${n.id}: ${c.label}`}>${c.text}</span>` : ''}</td>`;
        })}
      </tr>`)}</tbody>
    </table>
  </section>`;
}

function Operations({ ov, opStart, onAction }) {
  const ops = operations(ov, opStart);
  return html`<section aria-labelledby="ops-h">
    <h2 id="ops-h">Operations in progress</h2>
    <div class="controls"><button aria-label="Rebalance the shard copies" onClick=${() => onAction({ kind: 'rebalance' })}>Rebalance</button></div>
    ${ops.length === 0
      ? html`<p data-testid="operations">None.</p>`
      : html`<ul class="ops" data-testid="operations">${ops.map((o) => html`<li data-testid=${o.id}>
          <strong>${o.what}</strong>: ${o.detail}${' '}
          ${o.value === null ? html`<progress aria-label=${o.what}></progress>` : html`<progress max=${o.max} value=${o.value} aria-label=${`${o.what}: ${o.detail}`}></progress> ${Math.floor((100 * o.value) / o.max)}%`}
        </li>`)}</ul>`}
  </section>`;
}

function Events({ events }) {
  const [text, setText] = useState('');
  const [kind, setKind] = useState('');
  const kinds = [...new Set(events.map((e) => e.kind))].sort();
  const needle = text.trim().toLowerCase();
  const shown = events.filter(
    (e) => (kind === '' || e.kind === kind) && (needle === '' || `${e.message} ${e.reason} ${e.node ?? ''} ${e.member ?? ''} ${e.shard ?? ''}`.toLowerCase().includes(needle)),
  );
  return html`<section aria-labelledby="events-h">
    <h2 id="events-h">Latest events</h2>
    <div class="controls">
      <label>Filter <input type="search" data-testid="event-filter" value=${text} onInput=${(e) => setText(e.currentTarget.value)} /></label>
      <label>Kind <select data-testid="event-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
        <option value="">all</option>${kinds.map((k) => html`<option value=${k}>${k}</option>`)}
      </select></label>
      <span class="muted">${shown.length} of ${events.length}</span>
    </div>
    <table class="events" data-testid="events">
      <thead><tr><th scope="col" class="num">Seq</th><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">What</th><th scope="col">Why</th></tr></thead>
      <tbody>${shown.slice(0, 100).map((e) => html`<tr>
        <td class="num">${e.seq}</td><td class="time">${new Date(e.time_ms).toLocaleTimeString()}</td><td>${e.kind}</td><td>${e.message}</td><td>${e.reason}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

// ---------------------------------------------------------------------------
// Actions: a confirmation with the planner's dry run, then the call
// ---------------------------------------------------------------------------

function actionSpec(a) {
  const reason = 'from the dashboard';
  switch (a.kind) {
    case 'drain':
      return { title: `Drain ${a.target}`, text: `Move every shard copy away from ${a.target}, then mark it left.`, plan: { drain: [a.target] }, path: `../nodes/${encodeURIComponent(a.target)}/drain`, body: { reason } };
    case 'remove':
      return { title: `Remove ${a.target}`, text: `Take ${a.target} out now: its primaries are handed to in-sync replicas, its copies dropped and re-created elsewhere.`, plan: { fail: [a.target] }, path: `../nodes/${encodeURIComponent(a.target)}/remove`, body: { reason } };
    case 'evacuate':
      return { title: `Evacuate ${a.target}`, text: `Move every shard copy away from ${a.target}, keeping it a member.`, plan: { drain: [a.target] }, path: `../nodes/${encodeURIComponent(a.target)}/evacuate`, body: { reason } };
    case 'maintenance-on':
      return { title: `Maintenance on ${a.target}`, text: `Put ${a.target} in maintenance: it may go away without its copies being replaced.`, plan: { maintenance: [a.target] }, path: '../nodes/maintenance', body: { nodes: [a.target], enabled: true, reason } };
    case 'maintenance-off':
      return { title: `End maintenance of ${a.target}`, text: `Take ${a.target} out of maintenance.`, plan: null, path: '../nodes/maintenance', body: { nodes: [a.target], enabled: false, reason } };
    case 'rebalance':
      return { title: 'Rebalance', text: 'Spread the shard copies evenly over the healthy nodes again.', plan: {}, path: '../cluster/rebalance', body: { reason } };
    case 'transfer':
      return { title: `Make ${a.target} the leader`, text: `Hand the coordinator leadership to ${a.target}.`, plan: null, path: '../cluster/leader/transfer', body: { to: a.target } };
    default:
      return null;
  }
}

/** The planner's dry run (POST /cluster/plan) as lines an operator reads before confirming. */
function planText(plan) {
  if (!plan || !Array.isArray(plan.moves)) return JSON.stringify(plan, null, 2);
  const moves = plan.moves.length === 0 ? ['No move.'] : plan.moves.map((m, i) => `${i + 1}. ${m.shard === null ? '' : `shard ${m.shard}: `}${m.command}${m.node ? ` ${m.node}` : ''} (${m.reason})`);
  const counts = Object.entries(plan.result?.nodes ?? {}).map(([id, c]) => `${id}: ${c.copies} copies, ${c.primaries} primaries`);
  const under = plan.result?.under_replicated ?? [];
  return [
    ...moves,
    '',
    'After:',
    ...counts,
    under.length === 0 ? 'No shard left under-replicated.' : `Left under-replicated: shards ${under.join(', ')}.`,
    ...(plan.notes ?? []).map((n) => `Note: ${n}`),
  ].join('\n');
}

function ActionDialog({ action, onClose }) {
  const ref = useRef(null);
  const [plan, setPlan] = useState('');
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const spec = action ? actionSpec(action) : null;
  useEffect(() => {
    if (!spec) return;
    setResult(null);
    if (ref.current && !ref.current.open) ref.current.showModal();
    if (spec.plan === null) {
      setPlan('This action moves no shard.');
      return;
    }
    setPlan('Asking the planner for a dry run…');
    postJson('../cluster/plan', spec.plan, 10000).then(
      (a) => setPlan(a.status === 200 ? planText(a.body) : `No dry-run plan from this cluster: ${errorText(a)}`),
      (e) => setPlan(`No dry-run plan: ${e.message}`),
    );
  }, [action]);
  if (!spec) return null;
  const close = () => {
    ref.current?.close();
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    try {
      const a = await postJson(spec.path, spec.body);
      setResult(a.status === 200 ? { ok: true, text: 'Done.' } : { ok: false, text: errorText(a) });
      scheduleRefresh(0);
    } catch (e) {
      setResult({ ok: false, text: e.message });
    } finally {
      setBusy(false);
    }
  };
  return html`<dialog ref=${ref} aria-labelledby="dialog-h" data-testid="action-dialog" onClose=${onClose}>
    <h2 id="dialog-h">${spec.title}?</h2>
    <p>${spec.text}</p>
    <h3>Dry run</h3>
    <pre data-testid="plan" tabindex="0" aria-label="The planner's dry run">${plan}</pre>
    ${result ? html`<p role="status" class=${result.ok ? '' : 'note'} data-testid="action-result">${result.text}</p>` : ''}
    <div class="controls">
      <button disabled=${busy || (result && result.ok)} onClick=${confirm}>Confirm</button>
      <button onClick=${close}>${result ? 'Close' : 'Cancel'}</button>
    </div>
  </dialog>`;
}

function TokenForm({ why }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    if (value.trim() === '') return;
    rememberToken(value.trim());
    store.set({ needToken: null });
    refresh();
    loadRecentEvents();
  };
  return html`<section aria-labelledby="token-h" data-testid="token-form">
    <h2 id="token-h">This cluster needs an API token</h2>
    <p class="note">${why}</p>
    <form onSubmit=${submit}>
      <label for="token-input">Token (a reader's is enough to look; <code>torua token create</code> makes one)</label>
      <input id="token-input" type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button type="submit">Use this token</button>
    </form>
  </section>`;
}

function App() {
  const state = useStore();
  const [action, setAction] = useState(null);
  useEffect(() => {
    refresh();
    loadRecentEvents();
  }, []);
  const ov = state.overview;
  return html`<div>
    <${Header} ov=${ov} state=${state} />
    <main>
      <${DownBanner} state=${state} ov=${ov} />
      ${state.needToken !== null ? html`<${TokenForm} why=${state.needToken} />` : ''}
      ${ov === null
        ? html`<p>Waiting for the first answer of this replica…</p>`
        : html`
          <section aria-labelledby="state-h">
            <h2 id="state-h">Cluster state: <span data-testid="cluster-colour">${ov.info.cluster_state}</span></h2>
            <${Reasons} info=${ov.info} />
            ${ov.view_note ? html`<p class="note" data-testid="view-note">${ov.view_note}</p>` : ''}
            <p class="muted">${ov.info.healthy_nodes} of ${ov.info.total_nodes} nodes healthy · ${ov.info.assigned_shards} of ${ov.info.total_shards} shards assigned · table ${ov.info.staleness_ms ?? 0} ms old · updated ${new Date(state.lastOk).toLocaleTimeString()}</p>
          </section>
          <${Replicas} ov=${ov} onAction=${setAction} />
          <${Nodes} ov=${ov} onAction=${setAction} />
          <${Operations} ov=${ov} opStart=${state.opStart} onAction=${setAction} />
          <${ShardMap} ov=${ov} />`}
      <${Events} events=${state.events} />
    </main>
    <${ActionDialog} action=${action} onClose=${() => setAction(null)} />
  </div>`;
}

const root = document.getElementById('app');
// The placeholder is static text for a browser without modules; the app replaces it.
root.textContent = '';
render(html`<${App} />`, root);

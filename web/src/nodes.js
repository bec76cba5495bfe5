// Nodes (admin): each node's health and drain state with drain/undrain, and its GPUs as a
// map of slices: which job holds how much of which GPU, in which isolation mode.
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import htm from 'htm';
import { JobWindow, get, post } from './api.js';
import { fmtAgo, fmtGpus, usePoll } from './util.js';
import { useTenants } from './jobs.js';

const html = htm.bind(h);

// What the map needs: nodes, live allocations, and the name and tenant of the jobs holding
// them, learnt from the newest running and scheduled jobs and kept (they never change); a
// job not learnt shows its id.
function poolLoader() {
  const running = new JobWindow({ state: 'running' }, 1000);
  const scheduled = new JobWindow({ state: 'scheduled' }, 1000);
  const jobs = new Map();
  return async (signal) => {
    const [nodes, allocs, r, s] = await Promise.all([
      get('/v1/nodes', { signal }),
      get('/v1/allocations', { signal }),
      running.load(signal),
      scheduled.load(signal),
    ]);
    for (const j of [...r, ...s]) jobs.set(j.id, { id: j.id, name: j.name, tenant_id: j.tenant_id });
    const live = new Set(allocs.allocations.map((a) => a.job_id));
    for (const id of jobs.keys()) if (!live.has(id)) jobs.delete(id);
    return { nodes: nodes.nodes, allocations: allocs.allocations, jobs };
  };
}

// A stable, readable colour per job.
function colour(id) {
  let x = 0;
  for (const c of id) x = (x * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${x % 360} 55% 42%)`;
}

function GpuMap({ node, slices, jobs, tenants }) {
  return html`<ul class="gpus" aria-label="GPUs of ${node.name}">
    ${node.gpus.map((g) => {
      const mine = slices.filter((s) => s.gpu_index === g.index);
      const free = Math.max(0, 1000 - mine.reduce((n, s) => n + s.milli, 0));
      const label = `GPU ${g.index} ${g.model}`;
      return html`<li class="gpu ${g.healthy ? '' : 'unhealthy'}">
        <div class="gpu-label">
          <strong>${label}</strong>
          <span class="sub">${Math.round(g.memory_mib / 1024)} GiB${g.mig_enabled ? ', MIG' : ''}</span>
          ${!g.healthy && html`<span class="badge state-failed">unhealthy: ${g.health_reason}</span>`}
        </div>
        <ul class="slices" aria-label="Slices of ${label}">
          ${mine.map((s) => {
            const job = jobs.get(s.job_id);
            const name = job ? job.name || job.id : s.job_id;
            const who = job ? tenants.byId.get(job.tenant_id) || job.tenant_id : '';
            const text = `${name}: ${fmtGpus(s.milli)} GPU, ${s.isolation}`;
            return html`<li class="slice" style=${{ width: `${s.milli / 10}%`, background: colour(s.job_id) }}
              title="${text}${who ? ` (tenant ${who})` : ''}, replica ${s.replica}">
              <a href="#/jobs/${encodeURIComponent(s.job_id)}">${text}</a>
            </li>`;
          })}
          ${free > 0 &&
          html`<li class="slice free" style=${{ width: `${free / 10}%` }}>${fmtGpus(free)} free</li>`}
        </ul>
      </li>`;
    })}
  </ul>`;
}

function NodeCard({ node, slices, jobs, tenants, onChanged }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const draining = node.state === 'draining';
  const act = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/v1/nodes/${encodeURIComponent(node.id)}/${draining ? 'undrain' : 'drain'}`);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const unhealthy = node.gpus.filter((g) => !g.healthy).length;
  return html`<article class="node" aria-labelledby="node-${node.id}">
    <div class="node-head">
      <h2 id="node-${node.id}">${node.name}</h2>
      <span class="badge node-${node.state}">${node.state}</span>
      ${node.simulated && html`<span class="badge">simulated</span>`}
      <span class="sub">${node.id} · heartbeat ${fmtAgo(node.last_heartbeat)} ·
        ${unhealthy ? `${unhealthy} unhealthy GPU${unhealthy > 1 ? 's' : ''}` : 'GPUs healthy'}</span>
      <button type="button" class="secondary" disabled=${busy} onClick=${act}
        aria-label="${draining ? 'Undrain' : 'Drain'} node ${node.name}">${draining ? 'Undrain' : 'Drain'}</button>
    </div>
    ${node.overcommitted && html`<p class="error">Over-committed: ${node.overcommitted}</p>`}
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    <${GpuMap} node=${node} slices=${slices} jobs=${jobs} tenants=${tenants} />
  </article>`;
}

export function NodesPage({ me }) {
  const tenants = useTenants(me);
  const [filter, setFilter] = useState('');
  const load = useMemo(poolLoader, []);
  const [pool, error, reload] = usePoll(load, me.admin ? 5000 : 0, [me.admin]);
  const byNode = useMemo(() => {
    const m = new Map();
    for (const a of pool ? pool.allocations : []) {
      const list = m.get(a.node_id) || [];
      for (const s of a.slices) list.push({ ...s, job_id: a.job_id, replica: a.replica });
      m.set(a.node_id, list);
    }
    return m;
  }, [pool]);
  if (!me.admin) {
    return html`<section><h1>Nodes</h1>
      <p>Nodes and their GPUs are shown to the admin only.</p></section>`;
  }
  if (error && !pool) return html`<section><h1>Nodes</h1><p class="error" role="alert">${error.message}</p></section>`;
  if (!pool) return html`<p role="status">Loading nodes…</p>`;
  const needle = filter.trim().toLowerCase();
  const nodes = pool.nodes.filter((n) => !needle || n.name.toLowerCase().includes(needle) || n.id.includes(needle));
  const totals = { ready: 0, draining: 0, lost: 0 };
  for (const n of pool.nodes) totals[n.state] = (totals[n.state] || 0) + 1;
  return html`<section aria-labelledby="nodes-title">
    <h1 id="nodes-title">Nodes</h1>
    <p role="status">${pool.nodes.length} nodes: ${totals.ready} ready, ${totals.draining} draining, ${totals.lost} lost</p>
    <form class="filters" role="search" aria-label="Filter nodes" onSubmit=${(e) => e.preventDefault()}>
      <label>Node <input type="search" value=${filter} placeholder="name or id"
        onInput=${(e) => setFilter(e.target.value)} /></label>
    </form>
    ${nodes.map(
      (n) => html`<${NodeCard} key=${n.id} node=${n} slices=${byNode.get(n.id) || []}
        jobs=${pool.jobs} tenants=${tenants} onChanged=${reload} />`
    )}
  </section>`;
}

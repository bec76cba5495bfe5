// Jobs: the list with filters (state, tenant, name) and one job's detail: its
// transitions with their reasons, its allocations, its live log, and cancel.
import { h } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import { JobWindow, followLog, get, post } from './api.js';
import { FINISHED, fmtShape, fmtTime, usePoll } from './util.js';

const html = htm.bind(h);
const STATES = ['pending', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled'];
const SHOWN = 500; // rows drawn at once; the filters narrow the rest
const MAX_JOBS = 5000; // the newest jobs read (and filtered by name) in the page

export function StateBadge({ state }) {
  return html`<span class="badge state-${state}">${state}</span>`;
}

// Tenant id -> name, for the admin (other tenants see only their own jobs).
export function useTenants(me) {
  const [tenants] = usePoll(
    async (signal) => (me.admin ? (await get('/v1/tenants', { signal })).tenants : []),
    60000,
    [me.admin]
  );
  return useMemo(() => {
    const byId = new Map();
    for (const t of tenants || []) byId.set(t.id, t.name);
    return { list: tenants || [], byId };
  }, [tenants]);
}

// The admin's tenant filter (nothing for other tenants, who see only their own).
export function TenantSelect({ me, tenants, tenant, setTenant }) {
  if (!me.admin) return null;
  return html`<label>Tenant
    <select value=${tenant} onChange=${(e) => setTenant(e.target.value)}>
      <option value="">every tenant</option>
      ${tenants.list.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
    </select>
  </label>`;
}

export function JobsPage({ me }) {
  const [state, setState] = useState('');
  const [tenant, setTenant] = useState('');
  const [name, setName] = useState('');
  const tenants = useTenants(me);
  const jobWindow = useMemo(
    () => new JobWindow({ state, tenant: me.admin ? tenant : '' }, MAX_JOBS),
    [state, tenant]
  );
  const [jobs, error] = usePoll((signal) => jobWindow.load(signal), 5000, [jobWindow]);
  const shown = useMemo(() => {
    const needle = name.trim().toLowerCase();
    const all = (jobs || []).filter(
      (j) => !needle || j.name.toLowerCase().includes(needle) || j.id.includes(needle)
    );
    all.reverse(); // newest first
    return all;
  }, [jobs, name]);
  return html`<section aria-labelledby="jobs-title">
    <h1 id="jobs-title">Jobs</h1>
    <form class="filters" role="search" aria-label="Filter jobs" onSubmit=${(e) => e.preventDefault()}>
      <label>State
        <select value=${state} onChange=${(e) => setState(e.target.value)}>
          <option value="">any</option>
          ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <${TenantSelect} me=${me} tenants=${tenants} tenant=${tenant} setTenant=${setTenant} />
      <label>Name
        <input type="search" value=${name} placeholder="name or id"
          onInput=${(e) => setName(e.target.value)} />
      </label>
    </form>
    ${error && html`<p class="error" role="alert">Could not list jobs: ${error.message}</p>`}
    ${!jobs && !error && html`<p role="status">Loading jobs…</p>`}
    ${jobs &&
    html`<p class="count" role="status">
      ${shown.length} job${shown.length === 1 ? '' : 's'}${jobs.length >= MAX_JOBS ? ` among the newest ${MAX_JOBS}` : ''}${shown.length > SHOWN ? `, the newest ${SHOWN} shown` : ''}
    </p>`}
    ${jobs &&
    html`<table class="jobs">
      <caption class="visually-hidden">Jobs, newest first</caption>
      <thead><tr>
        <th scope="col">Job</th>
        ${me.admin && html`<th scope="col">Tenant</th>`}
        <th scope="col">State</th>
        <th scope="col">GPUs per replica</th>
        <th scope="col">Replicas</th>
        <th scope="col">Submitted</th>
        <th scope="col">Reason</th>
      </tr></thead>
      <tbody>
        ${shown.slice(0, SHOWN).map(
          (j) => html`<tr key=${j.id}>
            <td><a href="#/jobs/${encodeURIComponent(j.id)}">${j.name || j.id}</a>
              ${j.name && html`<div class="sub">${j.id}</div>`}</td>
            ${me.admin && html`<td>${tenants.byId.get(j.tenant_id) || j.tenant_id}</td>`}
            <td><${StateBadge} state=${j.state} /></td>
            <td>${fmtShape(j.shape)}</td>
            <td>${j.replicas}</td>
            <td>${fmtTime(j.created_at)}</td>
            <td class="reason">${j.reason}</td>
          </tr>`
        )}
      </tbody>
    </table>`}
  </section>`;
}

function Slices({ slices }) {
  return slices
    .map((s) => `GPU ${s.gpu_index}: ${s.milli / 1000} (${s.isolation})`)
    .join(', ');
}

function LogView({ job }) {
  const [replica, setReplica] = useState(0);
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState(null);
  const pre = useRef(null);
  const running = !FINISHED.has(job.state);
  useEffect(() => {
    const controller = new AbortController();
    setText('');
    setError(null);
    setStatus('following');
    let buffer = '';
    followLog(
      job.id,
      replica,
      (piece) => {
        buffer += piece;
        if (buffer.length > 1 << 20) buffer = buffer.slice(buffer.length - (1 << 20));
        setText(buffer);
      },
      controller.signal,
      (s) => setStatus(s.done ? 'complete' : s.streaming ? 'following (live)' : 'following')
    ).catch((e) => {
      if (e.name !== 'AbortError') setError(e);
    });
    return () => controller.abort();
  }, [job.id, replica]);
  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);
  return html`<section aria-labelledby="logs-title" class="logs">
    <h2 id="logs-title">Logs</h2>
    <div class="toolbar">
      ${job.replicas > 1 &&
      html`<label>Replica
        <select value=${replica} onChange=${(e) => setReplica(Number(e.target.value))}>
          ${Array.from({ length: job.replicas }, (_, i) => html`<option value=${i}>${i}</option>`)}
        </select>
      </label>`}
      <span class="log-status" role="status">Log ${status}${running ? '' : ''}</span>
    </div>
    ${error && html`<p class="error" role="alert">Could not read the log: ${error.message}</p>`}
    <pre ref=${pre} class="log" tabindex="0" aria-label="Log of replica ${replica}">${text ||
    '(no output yet)'}</pre>
  </section>`;
}

export function JobDetail({ id, me }) {
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState(null);
  const tenants = useTenants(me);
  const [job, error, reload] = usePoll(
    (signal) => get(`/v1/jobs/${encodeURIComponent(id)}`, { signal }),
    (j) => (FINISHED.has(j.state) ? 0 : 2000), // a finished job changes no more
    [id]
  );
  const cancel = async () => {
    setActionError(null);
    try {
      await post(`/v1/jobs/${encodeURIComponent(id)}/cancel`);
      setConfirming(false);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  if (error && !job) {
    return html`<section>
      <h1>Job ${id}</h1>
      <p class="error" role="alert">${error.status === 404 ? 'No such job (or not yours).' : error.message}</p>
      <p><a href="#/jobs">Back to jobs</a></p>
    </section>`;
  }
  if (!job) return html`<p role="status">Loading job…</p>`;
  const finished = FINISHED.has(job.state);
  return html`<section aria-labelledby="job-title">
    <p><a href="#/jobs">← All jobs</a></p>
    <h1 id="job-title">${job.name || job.id} <${StateBadge} state=${job.state} /></h1>
    <dl class="facts">
      <dt>Id</dt><dd>${job.id}</dd>
      ${me.admin && html`<dt>Tenant</dt><dd>${tenants.byId.get(job.tenant_id) || job.tenant_id}</dd>`}
      <dt>Command</dt><dd><code>${job.command.join(' ')}</code></dd>
      <dt>GPUs per replica</dt><dd>${fmtShape(job.shape)}</dd>
      <dt>Replicas</dt><dd>${job.replicas}</dd>
      <dt>Submitted</dt><dd>${fmtTime(job.created_at)}</dd>
      <dt>Reason</dt><dd>${job.reason || '—'}</dd>
    </dl>
    ${!finished &&
    html`<div class="actions">
      ${confirming
        ? html`<span>Cancel ${job.name || job.id}?</span>
            <button type="button" class="danger" onClick=${cancel}>Yes, cancel the job</button>
            <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>`
        : html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Cancel job</button>`}
    </div>`}
    ${actionError && html`<p class="error" role="alert">${actionError.message}</p>`}
    <h2>Transitions</h2>
    <table>
      <thead><tr><th scope="col">At</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Reason</th></tr></thead>
      <tbody>
        ${job.events.map(
          (e, i) => html`<tr key=${i}>
            <td>${fmtTime(e.at)}</td><td>${e.from}</td><td><${StateBadge} state=${e.to} /></td>
            <td class="reason">${e.reason}</td>
          </tr>`
        )}
      </tbody>
    </table>
    <h2>Allocations</h2>
    ${job.allocations.length === 0
      ? html`<p>None yet.</p>`
      : html`<table>
          <thead><tr>
            <th scope="col">Allocation</th><th scope="col">Replica</th><th scope="col">Node</th>
            <th scope="col">GPU model</th><th scope="col">Slices</th><th scope="col">State</th>
            <th scope="col">Ended</th><th scope="col">Message</th>
          </tr></thead>
          <tbody>
            ${job.allocations.map(
              (a) => html`<tr key=${a.allocation_id}>
                <td>${a.allocation_id}</td><td>${a.replica}</td><td>${a.node_id}</td>
                <td>${a.gpu_model}</td><td><${Slices} slices=${a.slices} /></td>
                <td>${a.state}</td><td>${a.ended}</td><td class="reason">${a.message}</td>
              </tr>`
            )}
          </tbody>
        </table>`}
    <${LogView} job=${job} />
  </section>`;
}

// Costs: metered usage and cost over a period, by job, model or day, and per tenant for the
// admin: GET /v1/usage with the same figures as `fastgpu usage`.
import { h } from 'preact';
import { useState } from 'preact/hooks';
import htm from 'htm';
import { get } from './api.js';
import { usePoll } from './util.js';
import { TenantSelect, useTenants } from './jobs.js';

const html = htm.bind(h);

function day(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function Report({ report, by }) {
  return html`<table>
    <caption>Usage by ${by}, ${report.tenant === '*' ? 'every tenant' : `tenant ${report.tenant}`}</caption>
    <thead><tr>
      <th scope="col">${by}</th><th scope="col" class="num">Billed seconds</th>
      <th scope="col" class="num">GPU hours</th><th scope="col" class="num">Cost</th>
    </tr></thead>
    <tbody>
      ${report.rows.map(
        (r) => html`<tr key=${r.key}>
          <td>${by === 'job' ? html`<a href="#/jobs/${encodeURIComponent(r.key)}">${r.key}</a>` : r.key}</td>
          <td class="num">${r.billed_seconds}</td><td class="num">${r.gpu_hours}</td>
          <td class="num">${r.cost}</td>
        </tr>`
      )}
    </tbody>
    <tfoot><tr><th scope="row" colspan="3">Total</th><td class="num">${report.total}</td></tr></tfoot>
  </table>`;
}

export function CostsPage({ me }) {
  const now = new Date();
  const [from, setFrom] = useState(day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))));
  const [to, setTo] = useState(day(new Date(now.getTime() + 86400e3)));
  const [by, setBy] = useState('job');
  const [tenant, setTenant] = useState('');
  const tenants = useTenants(me);
  const [data, error] = usePoll(
    async (signal) => {
      const query = { from, to, by, tenant: me.admin ? tenant : '' };
      const report = await get('/v1/usage', { query, signal });
      let perTenant = null;
      if (me.admin && !tenant && tenants.list.length) {
        perTenant = await Promise.all(
          tenants.list.map((t) =>
            get('/v1/usage', { query: { from, to, by: 'model', tenant: t.name }, signal }).then((r) => ({
              name: t.name,
              total: r.total,
              cents: r.total_cents,
              hours: r.rows.reduce((n, x) => n + x.gpu_hours, 0),
            }))
          )
        );
      }
      return { report, perTenant };
    },
    30000,
    [from, to, by, tenant, tenants.list.length]
  );
  return html`<section aria-labelledby="costs-title">
    <h1 id="costs-title">Costs</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>From <input type="date" value=${from} onChange=${(e) => setFrom(e.target.value)} /></label>
      <label>To <input type="date" value=${to} onChange=${(e) => setTo(e.target.value)} /></label>
      <label>Group by
        <select value=${by} onChange=${(e) => setBy(e.target.value)}>
          <option value="job">job</option><option value="model">GPU model</option><option value="day">day</option>
        </select>
      </label>
      <${TenantSelect} me=${me} tenants=${tenants} tenant=${tenant} setTenant=${setTenant} />
    </form>
    <p class="help">
      The period runs from the start of "From" to the start of "To" (UTC), as${' '}
      <code>fastgpu usage --from --to</code> reads them.
    </p>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${!data && !error && html`<p role="status">Loading usage…</p>`}
    ${data && data.perTenant &&
    html`<table>
      <caption>Per tenant</caption>
      <thead><tr><th scope="col">Tenant</th><th scope="col" class="num">GPU hours</th><th scope="col" class="num">Cost</th></tr></thead>
      <tbody>${data.perTenant.map(
        (t) => html`<tr key=${t.name}><td>${t.name}</td><td class="num">${t.hours.toFixed(6)}</td><td class="num">${t.total}</td></tr>`
      )}</tbody>
    </table>`}
    ${data && html`<${Report} report=${data.report} by=${by} />`}
  </section>`;
}

// The dashboard: sign-in with an API token, then the pages (jobs, nodes, pool, costs).
// The page holds no secret of its own: every figure comes from the /v1 API, called with
// the user's token, so the API's authorization decides what each user sees.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { forgetToken, get, savedToken, saveToken } from './api.js';
import { useRoute } from './util.js';
import { JobDetail, JobsPage } from './jobs.js';
import { NodesPage } from './nodes.js';
import { PoolPage } from './pool.js';
import { CostsPage } from './costs.js';

const html = htm.bind(h);

// Who the token belongs to: its tenant's name and whether it is the admin's.
// GET /v1/usage answers the caller's own tenant, or "*" (every tenant) for the admin.
async function whoAmI(token) {
  const usage = await get('/v1/usage', { token });
  const admin = usage.tenant === '*';
  return { tenant: admin ? 'admin' : usage.tenant, admin };
}

function SignIn({ onSignedIn, error: given }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(given || '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const me = await whoAmI(token.trim());
      saveToken(token.trim());
      onSignedIn(me);
    } catch (err) {
      setError(err.status === 401 ? 'That token is not valid.' : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>FastGPU</h1>
    <form onSubmit=${submit} aria-describedby="signin-help">
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="off" required
        value=${token} onInput=${(e) => setToken(e.target.value)} autofocus />
      <button type="submit" disabled=${busy}>Sign in</button>
      <p id="signin-help" class="help">
        A tenant's token (<code>fastgpu token create</code>) or the admin's
        (<code>admin.token</code> in the data dir). It is kept in this tab only.
      </p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  </main>`;
}

const PAGES = [
  ['jobs', 'Jobs'],
  ['nodes', 'Nodes'],
  ['pool', 'Pool'],
  ['costs', 'Costs'],
];

function Shell({ me, onSignOut }) {
  const route = useRoute();
  const page = route[0];
  let body;
  if (page === 'jobs' && route[1]) body = html`<${JobDetail} id=${route[1]} me=${me} />`;
  else if (page === 'nodes') body = html`<${NodesPage} me=${me} />`;
  else if (page === 'pool') body = html`<${PoolPage} me=${me} />`;
  else if (page === 'costs') body = html`<${CostsPage} me=${me} />`;
  else body = html`<${JobsPage} me=${me} />`;
  useEffect(() => {
    const title = PAGES.find(([p]) => p === page);
    document.title = `${title ? title[1] : 'Jobs'} - FastGPU`;
  }, [page]);
  return html`<div class="shell">
    <a class="skip" href="#main">Skip to content</a>
    <header>
      <span class="brand">FastGPU</span>
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            ([p, label]) => html`<li>
              <a href="#/${p}" aria-current=${page === p ? 'page' : undefined}>${label}</a>
            </li>`
          )}
        </ul>
      </nav>
      <span class="who">Signed in as <strong>${me.tenant}</strong>${me.admin ? ' (admin)' : ''}</span>
      <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${body}</main>
  </div>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(!!savedToken());
  const [error, setError] = useState('');
  useEffect(() => {
    if (!savedToken()) return;
    whoAmI(savedToken())
      .then(setMe)
      .catch((e) => {
        forgetToken();
        setError(e.status === 401 ? 'Your token is no longer valid; sign in again.' : e.message);
      })
      .finally(() => setChecking(false));
  }, []);
  if (checking) return html`<p class="loading" role="status">Loading…</p>`;
  if (!me) return html`<${SignIn} onSignedIn=${setMe} error=${error} />`;
  return html`<${Shell} me=${me} onSignOut=${() => (forgetToken(), setMe(null))} />`;
}

render(html`<${App} />`, document.getElementById('app'));

// The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core (which downloads no browser), against a live `fastgpu up` with simulated
// GPUs started here on 127.0.0.1 port 0 in a temporary data dir.
//
//   node dashboard.test.mjs --fastgpu build/fastgpu --artifacts build/browser-artifacts
//
// Signs in, watches a job submitted through the API reach `succeeded`, reads its log as
// it is written, sees its slice on the node's GPU map, sees another tenant denied the job,
// and checks labels and keyboard navigation; screenshots go to --artifacts. Exits 0 when
// every check passed, 1 when one failed, 77 (skipped) without Chromium, without
// node_modules (npm ci here) or on a Node.js older than playwright-core needs (20).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiCall } from './api.mjs';

const SKIP = 77;
const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const fastgpu = arg('--fastgpu', join(here, '../../build/fastgpu'));
const artifacts = arg('--artifacts', join(here, '../../build/browser-artifacts'));

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(SKIP);
}
if (!existsSync(join(here, 'node_modules/playwright-core'))) {
  console.log(`SKIP: no node_modules in ${here} (npm ci there)`);
  process.exit(SKIP);
}
if (Number(process.versions.node.split('.')[0]) < 20) {
  console.log(`SKIP: playwright-core needs Node.js 20 or later; this is ${process.version}`);
  process.exit(SKIP);
}
const { chromium } = await import('playwright-core');

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
let failures = 0;
let passes = 0;
function check(ok, what) {
  if (ok) {
    passes++;
    log(`ok: ${what}`);
  } else {
    failures++;
    log(`FAIL: ${what}`);
  }
}

const data = mkdtempSync(join(tmpdir(), 'fastgpu-browser-'));
const profile = mkdtempSync(join(tmpdir(), 'fastgpu-chromium-'));
mkdirSync(artifacts, { recursive: true });
let server = null;
let browser = null;

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    const gone = await Promise.race([
      new Promise((r) => server.once('exit', () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 10000)),
    ]);
    if (!gone) server.kill('SIGKILL');
  }
  rmSync(data, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}

// The whole test is bounded: a hang fails it (and still cleans up).
const deadline = setTimeout(async () => {
  log('FAIL: the test took longer than 110 s');
  await cleanup();
  process.exit(1);
}, 110000);

async function startServer() {
  server = spawn(
    fastgpu,
    [
      'up', '--data-dir', data, '--listen', '127.0.0.1:0', '--simulate-gpus', '2xH100-80GB',
      '--pool-history-interval', '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  let out = '';
  server.stdout.on('data', (b) => (out += b));
  server.stderr.on('data', (b) => (out += b));
  for (let i = 0; i < 600; i++) {
    const m = out.match(/^listening on (http:\/\/\S+)/m);
    if (m) {
      const url = m[1].replace(/\/$/, '');
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) return url;
      } catch (e) {
        // not yet
      }
    }
    if (server.exitCode !== null) throw new Error(`fastgpu up exited: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fastgpu up did not answer /healthz in 60 s: ${out}`);
}

const api = apiCall;

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

async function signIn(page, url, token) {
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: 10000 });
}

try {
  const url = await startServer();
  log(`fastgpu up at ${url}`);
  const admin = readFileSync(join(data, 'admin.token'), 'utf8').trim();
  await api(url, admin, 'POST', '/v1/tenants', { name: 'team-a' });
  await api(url, admin, 'POST', '/v1/tenants', { name: 'team-b' });
  const tokenA = (await api(url, admin, 'POST', '/v1/tenants/team-a/tokens', {})).token;
  const tokenB = (await api(url, admin, 'POST', '/v1/tenants/team-b/tokens', {})).token;
  // Prints, runs long enough to be seen on the GPU map, prints again, succeeds.
  const job = await api(url, tokenA, 'POST', '/v1/jobs', {
    name: 'dash-demo',
    command: ['sh', '-c', 'echo hello from the dashboard; sleep 6; echo second line; sleep 1'],
    shape: { gpu_count: 1, gpu_milli: 500, isolation: 'mps' },
  });
  log(`submitted ${job.id}`);

  // A fresh profile: playwright passes it as --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
  });
  const context = browser;
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // The sign-in page: labelled, reachable by keyboard.
  await page.goto(url);
  await page.getByLabel('API token').waitFor();
  await shot(page, '01-sign-in');

  // Admin: every job, the node map.
  await signIn(page, url, admin);
  const token = await page.evaluate(() => sessionStorage.getItem('fastgpu.token'));
  check(token === admin, 'the token is kept in sessionStorage');
  check(
    (await page.evaluate(() => localStorage.length)) === 0,
    'nothing is written to localStorage'
  );
  await page.getByRole('link', { name: 'dash-demo' }).waitFor({ timeout: 10000 });
  await shot(page, '02-jobs-admin');

  // Keyboard: Tab from the top reaches the navigation, sign out and the filters.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const reached = [];
  for (let i = 0; i < 14; i++) {
    await page.keyboard.press('Tab');
    reached.push(
      await page.evaluate(() => {
        const el = document.activeElement;
        const label = el.labels && el.labels[0] ? el.labels[0].textContent.trim() : '';
        return `${el.tagName.toLowerCase()}:${(label || el.textContent || '').trim().slice(0, 30)}`;
      })
    );
  }
  log(`Tab order: ${reached.join(' | ')}`);
  for (const want of ['a:Jobs', 'a:Nodes', 'a:Pool', 'a:Costs', 'button:Sign out']) {
    check(reached.includes(want), `Tab reaches ${want}`);
  }
  check(reached.some((r) => r.startsWith('select:State')), 'Tab reaches the state filter');
  check(reached.some((r) => r.startsWith('input:Name')), 'Tab reaches the name filter');
  const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(focusVisible !== 'none', `the focused control shows a focus ring (${focusVisible})`);

  // Every control has a name; every table has headers.
  const unlabelled = async () =>
    page.evaluate(() => {
      const bad = [];
      for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
        const name =
          (el.labels && el.labels.length && el.labels[0].textContent.trim()) ||
          el.getAttribute('aria-label') ||
          el.getAttribute('aria-labelledby') ||
          (el.tagName !== 'INPUT' && el.tagName !== 'SELECT' && el.textContent.trim());
        if (!name) bad.push(el.outerHTML.slice(0, 80));
      }
      for (const t of document.querySelectorAll('table')) {
        if (!t.querySelector('th')) bad.push(`table without headers: ${t.outerHTML.slice(0, 60)}`);
      }
      return bad;
    });
  let bad = await unlabelled();
  check(bad.length === 0, `jobs page: every control labelled, tables with headers ${bad.join(' ')}`);

  // The job's detail: its log, followed while it runs.
  await page.getByRole('link', { name: 'dash-demo' }).click();
  await page.getByRole('heading', { name: /dash-demo/ }).waitFor();
  const logBox = page.locator('pre.log');
  await logBox.filter({ hasText: 'hello from the dashboard' }).waitFor({ timeout: 20000 });
  const stateNow = (await page.locator('#job-title .badge').textContent()).trim();
  check(
    ['scheduled', 'running'].includes(stateNow),
    `the log shows the first line while the job is ${stateNow}`
  );
  await shot(page, '03-job-running-log');

  // Its slice on the node's GPU map.
  await page.getByRole('link', { name: 'Nodes' }).click();
  const slice = page.locator('.slice a', { hasText: 'dash-demo: 0.5 GPU, mps' });
  await slice.waitFor({ timeout: 10000 });
  check(true, 'the job holds 0.5 GPU (mps) on the GPU map');
  check(
    (await page.getByRole('button', { name: /^Drain node / }).count()) === 1,
    'an admin sees a drain button'
  );
  bad = await unlabelled();
  check(bad.length === 0, `nodes page: every control labelled ${bad.join(' ')}`);
  await shot(page, '04-nodes-gpu-map');

  // Back to the job: it reaches succeeded, with every transition and the whole log.
  await slice.click();
  await page.locator('#job-title .badge', { hasText: 'succeeded' }).waitFor({ timeout: 30000 });
  await logBox.filter({ hasText: 'second line' }).waitFor({ timeout: 10000 });
  const transitions = await page.locator('table').first().locator('tbody tr').count();
  check(transitions >= 3, `the job's transitions are listed (${transitions})`);
  await page.locator('.log-status', { hasText: 'complete' }).waitFor({ timeout: 10000 });
  check(true, 'the job reached succeeded on the page and its log is complete');
  await shot(page, '05-job-succeeded');

  // The pool's charts and the costs.
  await page.getByRole('link', { name: 'Pool' }).click();
  await page.locator('.chart canvas').first().waitFor({ timeout: 15000 });
  check((await page.locator('.chart canvas').count()) === 4, 'the pool page draws 4 charts');
  await shot(page, '06-pool');
  await page.getByRole('link', { name: 'Costs' }).click();
  await page.getByRole('table').filter({ hasText: 'Total' }).waitFor({ timeout: 10000 });
  await page.getByRole('cell', { name: 'team-a' }).waitFor({ timeout: 10000 });
  check(true, 'the costs page shows the report and the per-tenant table');
  bad = await unlabelled();
  check(bad.length === 0, `costs page: every control labelled ${bad.join(' ')}`);
  await shot(page, '07-costs');

  // Cancel, with its confirmation, and drain and undrain from the buttons.
  const long = await api(url, tokenA, 'POST', '/v1/jobs', {
    name: 'long-one',
    command: ['sleep', '300'],
    shape: { gpu_count: 1, gpu_milli: 250 },
  });
  await page.goto(`${url}/#/jobs/${long.id}`);
  await page.getByRole('button', { name: 'Cancel job' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the job' }).click();
  await page.locator('#job-title .badge', { hasText: 'cancelled' }).waitFor({ timeout: 15000 });
  const cancelled = await api(url, tokenA, 'GET', `/v1/jobs/${long.id}`);
  check(cancelled.state === 'cancelled', 'Cancel job (confirmed) cancels it in the API');
  await page.getByRole('link', { name: 'Nodes' }).click();
  await page.getByRole('button', { name: /^Drain node / }).click();
  await page.locator('.node .badge.node-draining').waitFor({ timeout: 10000 });
  const drained = (await api(url, admin, 'GET', '/v1/nodes')).nodes[0].state;
  check(drained === 'draining', `Drain drains the node (${drained})`);
  await page.getByRole('button', { name: /^Undrain node / }).click();
  await page.locator('.node .badge.node-ready').waitFor({ timeout: 10000 });
  check((await api(url, admin, 'GET', '/v1/nodes')).nodes[0].state === 'ready', 'Undrain undrains it');

  check(consoleErrors.length === 0, `no errors in the browser's console ${consoleErrors.join(' | ')}`);

  // Another tenant: denied the job (the API's 404 shows in the console), sees no nodes.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, url, tokenB);
  await page.goto(`${url}/#/jobs/${job.id}`);
  await page.getByRole('alert').filter({ hasText: 'No such job' }).waitFor({ timeout: 10000 });
  check(true, "team-b is denied team-a's job");
  await shot(page, '08-other-tenant-denied');
  await page.goto(`${url}/#/jobs`);
  await page.getByRole('status').filter({ hasText: '0 jobs' }).waitFor({ timeout: 10000 });
  check(true, "team-b's job list is empty");
  await page.getByRole('link', { name: 'Nodes' }).click();
  await page.getByText('shown to the admin only').waitFor();
  check(true, 'team-b sees no nodes');

} catch (e) {
  failures++;
  log(`FAIL: ${e.stack || e}`);
} finally {
  clearTimeout(deadline);
  await cleanup();
}
console.log(`browser: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);

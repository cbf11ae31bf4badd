// docs.mjs BASE_URL ROUTES_FILE: GET /docs in headless Chromium (Debian's, driven by
// playwright-core), as a person would use it. Prints TAP; exits 1 when a check fails.
//   - the page loads its viewer (Swagger UI) under the page's own CSP, with no CSP violation
//     and no console error;
//   - every route of the route table (ROUTES_FILE: "METHOD /path" lines, from print_routes)
//     is listed as an operation, and nothing else is;
//   - "Try it out" then "Execute" on GET /healthz shows a 200.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// playwright-core is tests/tools' (test_docs runs this from there).
const { chromium } = createRequire(join(process.cwd(), 'package.json'))('playwright-core');

const [base, routesFile] = process.argv.slice(2);
let n = 0, failed = 0;
const check = (ok, what, diag) => {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? '' : 'not '}ok ${n} - ${what}`);
  if (!ok && diag) console.log(`#   ${String(diag).split('\n').join('\n#   ')}`);
  return ok;
};

const want = readFileSync(routesFile, 'utf8').split('\n').filter(Boolean).sort();
const profile = mkdtempSync(join(tmpdir(), 'docs-chromium-'));
// The flags the machine needs (no sandbox as root, no GPU, no outside connections).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });

  const res = await page.goto(`${base}/docs`, { waitUntil: 'load' });
  check(res && res.status() === 200, 'GET /docs is 200', res && res.status());
  const csp = res ? res.headers()['content-security-policy'] || '' : '';
  check(/default-src 'none'/.test(csp) && /script-src 'self' 'sha256-/.test(csp), 'the page carries its CSP', csp);

  await page.waitForSelector('.opblock', { timeout: 30000 });
  const got = (await page.$$eval('.opblock', (ops) => ops.map((op) => {
    const m = op.querySelector('.opblock-summary-method');
    const p = op.querySelector('.opblock-summary-path');
    return `${m ? m.textContent.trim() : '?'} ${p ? (p.getAttribute('data-path') || p.textContent.trim()) : '?'}`;
  }))).sort();
  for (const route of want) check(got.includes(route), `the page lists ${route}`, `listed: ${got.join(', ')}`);
  check(got.length === want.length, `the page lists ${want.length} operations, no more`, `listed: ${got.join(', ')}`);

  const health = page.locator('.opblock', { has: page.locator('.opblock-summary-path[data-path="/healthz"]') });
  await health.locator('.opblock-summary').first().click();
  await health.getByRole('button', { name: 'Try it out' }).click();
  await health.getByRole('button', { name: 'Execute' }).click();
  const status = health.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor({ timeout: 30000 });
  const shown = (await status.textContent()).trim();
  check(shown === '200', '"Try it out" on GET /healthz shows 200', `shown: ${shown}`);
  const body = (await health.locator('.live-responses-table .microlight, .live-responses-table pre').first().textContent()) || '';
  check(body.includes('"ok"'), 'and the body {"status":"ok"}', body);

  check(problems.length === 0, 'no CSP violation and no console error', problems.join('\n'));
  check(outside.length === 0, 'with DOCS_ASSETS=local nothing is fetched from elsewhere', outside.join('\n'));
} catch (e) {
  check(false, 'the page works', e.stack || e);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`1..${n}\n# docs: ${n - failed} passed, ${failed} failed`);
process.exit(failed === 0 && n > 0 ? 0 : 1);

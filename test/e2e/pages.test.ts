// What a person clicking the links in our mails sees, in a real headless Chromium (Debian's package,
// installed by `npm test`). Screenshots land in var/screenshots/ for a human to look at.
import { linkPath, mailbox } from '../helpers/env.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { chromium, type Browser } from 'playwright-core';
import {
  findUser,
  login,
  registerUser,
  startApp,
  startWorker,
  teardown,
  type TestApp,
} from '../helpers/harness.js';

const SHOTS = path.resolve('var/screenshots');
let app: TestApp;
let browser: Browser;

test.before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  app = await startApp();
  await startWorker(['mail']);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // The flags that keep Chromium off the network it cannot reach here and quiet as root.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

test.after.always(async () => {
  await browser?.close();
  await teardown();
});

test('GET the verification link from the mail in Chromium -> confirmation page, email verified', async (t) => {
  const user = await registerUser(app);
  const mail = await mailbox.waitForTo(user.email);
  const link = mail.links.find((l) => l.includes('/account-confirm-email/'));
  t.truthy(link, 'the mail carries the verification link');
  const page = await browser.newPage();
  const res = await page.goto(new URL(linkPath(link!), app.url).href);
  t.is(res?.status(), 200);
  t.is(await page.locator('h1').innerText(), 'Email address confirmed');
  await page.screenshot({ path: path.join(SHOTS, 'verify-email.png'), fullPage: true });
  t.true((await findUser(user.username))?.email_verified);

  const bad = await page.goto(new URL('/account-confirm-email/0000deadbeef/', app.url).href);
  t.is(bad?.status(), 404);
  t.regex(await page.locator('h1').innerText(), /invalid or has expired/);
  await page.screenshot({ path: path.join(SHOTS, 'verify-email-invalid.png'), fullPage: true });
  await page.close();
});

test('the reset link from the mail opens a form that sets the new password in Chromium', async (t) => {
  const user = await registerUser(app);
  t.is((await app.post('/api/v0/auth/password/reset', { email: user.email })).status, 200);
  const mail = await mailbox.waitFor(
    (m) => m.to.includes(user.email.toLowerCase()) && /reset/i.test(m.subject),
  );
  const link = mail.links.find((l) => l.includes('/accounts/reset/'));
  t.truthy(link, 'the mail carries the reset link');
  const page = await browser.newPage();
  await page.goto(new URL(linkPath(link!), app.url).href);
  await page.screenshot({ path: path.join(SHOTS, 'reset-form.png'), fullPage: true });

  // A mismatch shows the API's message and leaves the link usable.
  await page.fill('#p1', 'Violet meadow 42 lanterns');
  await page.fill('#p2', 'something else entirely');
  await page.click('button[type=submit]');
  await page.locator('#result li').first().waitFor();
  t.regex(await page.locator('#result').innerText(), /didn't match/);
  await page.screenshot({ path: path.join(SHOTS, 'reset-form-error.png'), fullPage: true });

  const newPassword = 'Violet meadow 42 lanterns';
  await page.fill('#p2', newPassword);
  await page.click('button[type=submit]');
  await page.locator('#result .ok').waitFor();
  t.regex(await page.locator('#result').innerText(), /password has been changed/);
  await page.screenshot({ path: path.join(SHOTS, 'reset-form-done.png'), fullPage: true });
  await page.close();

  t.truthy(await login(app, { username: user.username, password: newPassword }));
  const old = await app.post('/api/v0/auth/login', { username: user.username, password: user.password });
  t.is(old.status, 400);
});

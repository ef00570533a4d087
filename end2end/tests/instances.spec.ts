import { test, expect, type Browser, type Page } from '@playwright/test';
import { freshCode, gotoReady, signIn, signUpVerified, uniqueEmail, enableAuthenticator } from './helpers';

// Two instances of the app on one database, as behind a load balancer: the main
// server (baseURL) and OTHER_INSTANCE_PORT of playwright.config.ts. scripts/test.sh
// runs this on SQLite and again with both on PostgreSQL (POSTGRES_SPECS).
const A = 'http://127.0.0.1:3100';
const B = 'http://127.0.0.1:3102';

const security = (page: Page) => page.getByRole('heading', { name: 'Security', level: 1 });

async function pageOn(browser: Browser, base: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: base });
  return context.newPage();
}

/** The first sign-in step on `page`'s instance, up to the code prompt. */
async function passwordStep(page: Page, email: string) {
  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/verify$/);
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
}

test('a session made on one instance works on the other, and signing out on one ends it on both', async ({ browser }) => {
  const onA = await pageOn(browser, A);
  const email = uniqueEmail('lb');
  await signUpVerified(onA, email);
  await signIn(onA, email);
  await expect(security(onA)).toBeVisible();
  // The same browser (same cookie) on the other instance is signed in there too.
  const onB = await onA.context().newPage();
  await gotoReady(onB, `${B}/settings/security`);
  await expect(security(onB)).toBeVisible();
  await expect(onB.getByText(email).first()).toBeVisible();
  await onB.getByRole('button', { name: 'Sign Out' }).click();
  await expect(onB.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  for (const base of [A, B]) {
    await onA.goto(`${base}/settings/security`);
    await expect(onA.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  }
  await onA.context().close();
});

test('wrong passwords on both instances count against one limit', async ({ browser }) => {
  const onA = await pageOn(browser, A);
  const onB = await pageOn(browser, B);
  const email = uniqueEmail('limit');
  await signUpVerified(onA, email);
  // Four wrong passwords, two on each instance.
  for (let i = 0; i < 4; i++) {
    const page = i % 2 === 0 ? onA : onB;
    await signIn(page, email, 'Wrong-Password-1!');
    await expect(page.getByRole('alert')).toHaveText('Invalid email or password');
  }
  // B's form is ready with the right password; the fifth wrong one goes to A.
  await gotoReady(onB, '/signin');
  await onB.getByLabel('Email', { exact: true }).fill(email);
  await onB.getByLabel('Password', { exact: true }).fill('Granite-Kettle-42!');
  await signIn(onA, email, 'Wrong-Password-1!');
  await expect(onA.getByRole('alert')).toHaveText('Invalid email or password');
  // B has seen two failures itself, but the account's five (the limit) are shared:
  // even the right password must wait (the first wait is 2 seconds, so B asks at once).
  await onB.getByRole('button', { name: 'Sign In' }).click();
  await expect(onB.getByRole('alert')).toContainText('Too many attempts');
  await expect(onB).toHaveURL(/\/signin$/);
  await onA.context().close();
  await onB.context().close();
});

test('a code used on one instance is refused on the other; a recovery code raced across both works once', async ({ browser }) => {
  test.setTimeout(180_000);
  const owner = await pageOn(browser, A);
  const email = uniqueEmail('replay');
  await signUpVerified(owner, email);
  await signIn(owner, email);
  await expect(security(owner)).toBeVisible();
  await owner.waitForFunction(() => document.body.dataset.hydrated === 'true');
  const { secret, codes } = await enableAuthenticator(owner);

  // Both instances at the code prompt; the code signs in on A, and B refuses it.
  const onA = await pageOn(browser, A);
  const onB = await pageOn(browser, B);
  await passwordStep(onA, email);
  await passwordStep(onB, email);
  const code = await freshCode(secret);
  await onA.getByLabel('Code', { exact: true }).fill(code);
  await expect(security(onA)).toBeVisible();
  await onB.getByLabel('Code', { exact: true }).fill(code);
  await expect(onB.getByText('Invalid code')).toBeVisible();
  await expect(security(onB)).toHaveCount(0);

  // One recovery code sent to both instances at the same moment.
  const racers = [await pageOn(browser, A), await pageOn(browser, B)];
  for (const page of racers) {
    await passwordStep(page, email);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]);
  }
  await Promise.all(racers.map((page) => page.getByRole('button', { name: 'Verify' }).click()));
  const outcomes = await Promise.all(
    racers.map(async (page) => {
      await expect(security(page).or(page.getByText('Invalid code'))).toBeVisible();
      return (await security(page).count()) === 1;
    }),
  );
  expect(outcomes.filter(Boolean)).toHaveLength(1);
  for (const page of [owner, onA, onB, ...racers]) await page.context().close();
});

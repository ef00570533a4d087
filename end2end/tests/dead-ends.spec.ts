import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { STRONG_PASSWORD, freshCode, gotoReady, signIn, signUpVerified, uniqueEmail } from './helpers';

// No dead ends: every refusal says what to do next, and nothing is lost by accident.

test('waits count down, refused forms show every problem at once, nothing in flight is lost', async ({ page }) => {
  test.setTimeout(120_000);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  const email = uniqueEmail('dead-ends');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await gotoReady(page, '/settings/security');

  // Change Password: every problem at once, the focus on the first field in error.
  await page.getByRole('button', { name: 'Change Password' }).click();
  const change = page.getByRole('dialog', { name: 'Change Password' });
  await change.getByLabel('New Password', { exact: true }).fill('abc');
  await change.getByLabel('Repeat New Password', { exact: true }).fill('abd');
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change.getByText('Enter your current password.')).toBeVisible();
  await expect(change.getByText(/Use at least 12 characters\. Add an uppercase letter\./)).toBeVisible();
  await expect(change.getByText('The two new passwords do not match.')).toBeVisible();
  await expect(change.getByLabel('Current Password', { exact: true })).toBeFocused();
  await page.keyboard.press('Escape');

  // "Too many attempts" counts down to "You can try again now".
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await expect(block.getByText('We recommend turning this on')).toBeVisible();
  await block.getByRole('button', { name: 'Enable' }).click();
  const enable = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  const password = enable.getByLabel('Password', { exact: true });
  for (let i = 0; i < 5; i++) {
    await password.fill(`Wrong-Password-${i}!`);
    await enable.getByRole('button', { name: 'Continue' }).click();
    await expect(enable.getByText('The password is not correct.')).toBeVisible();
  }
  await password.fill(STRONG_PASSWORD);
  await enable.getByRole('button', { name: 'Continue' }).click();
  const wait = enable.getByRole('alert').filter({ hasText: 'Too many attempts' });
  await expect(wait).toContainText(/Try again in \d+ seconds?\./);
  const first = Number((await wait.locator('[aria-hidden="true"]').innerText()).match(/in (\d+) second/)![1]);
  await expect(enable.getByText('You can try again now.')).toBeVisible({ timeout: (first + 3) * 1000 });
  // While its request is out, the button says it is busy and keeps its name.
  await page.route('**/api/start_totp', async (route) => {
    await new Promise((r) => setTimeout(r, 800));
    await route.continue();
  });
  await enable.getByRole('button', { name: 'Continue' }).click();
  await expect(enable.getByRole('button', { name: 'Continue' })).toHaveAttribute('aria-busy', 'true');

  // Step 3 has a way back; step 4 asks before closing with the codes unsaved.
  await expect(enable.getByText('Step 2 of 4')).toBeVisible();
  await page.unroute('**/api/start_totp');
  const secret = (await enable.getByText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/).textContent())!.replace(/ /g, '');
  // "Copy Key" copies the key and says so.
  await enable.getByRole('button', { name: 'Copy Key' }).click();
  await expect(enable.getByRole('status').filter({ hasText: 'Secret key copied.' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await enable.getByRole('button', { name: 'Continue' }).click();
  await enable.getByRole('button', { name: 'Back' }).click();
  await expect(enable.getByText('Step 2 of 4')).toBeVisible();
  await enable.getByRole('button', { name: 'Continue' }).click();
  const code = enable.getByLabel('Code', { exact: true });
  // A wrong code that submitted itself is selected, so typing replaces it.
  await code.fill('000000');
  await expect(enable.getByText('Invalid code')).toBeVisible();
  expect(await code.evaluate((el: HTMLInputElement) => [el.selectionStart, el.selectionEnd])).toEqual([0, 6]);
  // Closed while the right code is on its way: the outcome still lands in the section.
  await page.route('**/api/confirm_totp', async (route) => {
    await new Promise((r) => setTimeout(r, 1000));
    await route.continue();
  });
  await code.fill(execFileSync('oathtool', ['--totp', '-b', secret]).toString().trim());
  await page.keyboard.press('Escape');
  await expect(enable).toBeHidden();
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Authenticator app enabled.' }).first()).toBeVisible();
  await page.unroute('**/api/confirm_totp');

  // A section that cannot load says so and offers to try again.
  await page.route('**/api/mfa_status', (route) => route.fulfill({ status: 503, body: 'down' }));
  await page.getByRole('button', { name: 'View Recovery Codes' }).click();
  await page.getByRole('dialog', { name: 'Recovery Codes' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(block.getByRole('alert')).toContainText('could not be loaded');
  await page.unroute('**/api/mfa_status');
  await block.getByRole('button', { name: 'Try Again' }).click();
  await expect(block.getByText('Enabled', { exact: true })).toBeVisible();
});

test.describe('on a server whose code check lasts 5 seconds', () => {
  // The second server of playwright.config.ts (SHORT_LINK_PORT).
  test.use({ baseURL: 'http://127.0.0.1:3101' });

  test('regenerating after the code check has lapsed asks for a fresh code in place', async ({ page }) => {
    test.setTimeout(180_000);
    const email = uniqueEmail('lapsed');
    await signUpVerified(page, email);
    await signIn(page, email);
    await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
    await gotoReady(page, '/settings/security');
    const block = page.getByRole('group', { name: 'Authenticator App Code' });
    await block.getByRole('button', { name: 'Enable' }).click();
    const enable = page.getByRole('dialog', { name: 'Enable Authenticator App' });
    await enable.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await enable.getByRole('button', { name: 'Continue' }).click();
    const secret = (await enable.getByText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/).textContent())!.replace(/ /g, '');
    await enable.getByRole('button', { name: 'Continue' }).click();
    await enable.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
    const first = (await enable.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts()).map((t) => t.trim());
    // Step 4 explains Done, and asks before closing with the codes unsaved.
    await expect(enable.getByText('Tick the box once the codes are somewhere safe')).toBeVisible();
    const asked: string[] = [];
    page.once('dialog', async (d) => {
      asked.push(d.message());
      await d.dismiss();
    });
    await page.keyboard.press('Escape');
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toContain('I have saved these codes');
    await expect(enable).toBeVisible();
    await enable.getByLabel('I have saved these codes').check();
    await enable.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'View Recovery Codes' }).click();
    const view = page.getByRole('dialog', { name: 'Recovery Codes' });
    await view.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
    const list = view.getByRole('list', { name: 'Recovery codes' });
    await expect(list.getByRole('listitem')).toHaveCount(10);
    await page.waitForTimeout(6_000);
    await view.getByRole('button', { name: 'Regenerate' }).click();
    await view.getByRole('button', { name: 'Regenerate Codes' }).click();
    // Not a dead end: the code field is right here.
    await expect(view.getByText('It has been a while since you entered a code')).toBeVisible();
    const code = view.getByLabel('Code', { exact: true });
    await expect(code).toBeFocused();
    await code.fill(await freshCode(secret));
    await expect(list.getByRole('listitem')).toHaveCount(10);
    const fresh = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
    expect(fresh.filter((c) => first.includes(c))).toEqual([]);
    await expect(view.getByRole('status').filter({ hasText: 'New recovery codes generated' })).toBeVisible();
  });
});

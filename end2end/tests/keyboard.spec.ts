import { test, expect, type Page } from '@playwright/test';
import {
  STRONG_PASSWORD, firstLink, freshCode, gotoReady, tabTo, uniqueEmail, waitForMail,
} from './helpers';

// Everything a person does on these pages, by keyboard alone: no click, no mouse
// event; after every step the element that has the focus is the one that should.

const NEW_PASSWORD = 'Copper-Lantern-77?';

async function typeInto(page: Page, label: string, text: string) {
  const field = page.getByLabel(label, { exact: true });
  await tabTo(page, field);
  await page.keyboard.type(text);
}

test('keyboard only: sign up, enable the authenticator step by step, codes, change password, sign in with MFA, disable', async ({ page }) => {
  test.setTimeout(240_000);
  // Any mouse event at all fails the test.
  await page.addInitScript(() => {
    for (const type of ['mousedown', 'mouseup', 'click']) {
      window.addEventListener(type, (e) => {
        if ((e as MouseEvent).detail > 0) (window as unknown as { __mouse: boolean }).__mouse = true;
      }, true);
    }
  });
  const email = uniqueEmail('keys');

  // Sign up.
  await gotoReady(page, '/signup');
  await typeInto(page, 'Email', email);
  await typeInto(page, 'Password', STRONG_PASSWORD);
  await typeInto(page, 'Repeat Password', STRONG_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
  await page.goto(firstLink(await waitForMail(email, 'Verify your email address'), '/verify-email'));
  await expect(page.getByText('Your email address is verified')).toBeVisible();

  // Sign in.
  await gotoReady(page, '/signin');
  await typeInto(page, 'Email', email);
  await typeInto(page, 'Password', STRONG_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await gotoReady(page, '/settings/security');

  // Enable, every step, with a step back.
  const block = page.getByRole('group', { name: 'Authenticator App Code' });
  await tabTo(page, block.getByRole('button', { name: 'Enable' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await expect(dialog.getByLabel('Password', { exact: true })).toBeFocused();
  await page.keyboard.type(STRONG_PASSWORD);
  await page.keyboard.press('Enter');
  const heading = dialog.getByRole('heading', { name: /^Step \d of 4/ });
  await expect(heading).toHaveText(/Step 2 of 4/);
  await expect(heading).toBeFocused();
  const secret = (await dialog.getByText(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/).textContent())!.replace(/ /g, '');
  await tabTo(page, dialog.getByRole('button', { name: 'Continue' }));
  await page.keyboard.press('Enter');
  await expect(heading).toHaveText(/Step 3 of 4/);
  await expect(dialog.getByLabel('Code', { exact: true })).toBeFocused();
  await tabTo(page, dialog.getByRole('button', { name: 'Back' }));
  await page.keyboard.press('Enter');
  await expect(heading).toHaveText(/Step 2 of 4/);
  await expect(heading).toBeFocused();
  await tabTo(page, dialog.getByRole('button', { name: 'Continue' }));
  await page.keyboard.press('Enter');
  await expect(dialog.getByLabel('Code', { exact: true })).toBeFocused();
  await page.keyboard.type(await freshCode(secret));
  await expect(heading).toHaveText(/Step 4 of 4/);
  await expect(heading).toBeFocused();
  const codes = (await dialog.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts()).map((t) => t.trim());
  expect(codes).toHaveLength(10);
  await tabTo(page, dialog.getByLabel('I have saved these codes'));
  await page.keyboard.press('Space');
  await tabTo(page, dialog.getByRole('button', { name: 'Done' }));
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  // The Enable button is gone: focus lands on the control that replaced it.
  await expect(block.getByRole('button', { name: 'Disable' })).toBeFocused();

  // View and regenerate the codes.
  const viewButton = page.getByRole('button', { name: 'View Recovery Codes' });
  await tabTo(page, viewButton);
  await page.keyboard.press('Enter');
  const view = page.getByRole('dialog', { name: 'Recovery Codes' });
  await expect(view.getByLabel('Code', { exact: true })).toBeFocused();
  await page.keyboard.type(await freshCode(secret));
  const list = view.getByRole('list', { name: 'Recovery codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  await expect(page.locator('#recovery-codes-list')).toBeFocused();
  await tabTo(page, view.getByRole('button', { name: 'Regenerate', exact: true }));
  await page.keyboard.press('Enter');
  await expect(view.getByText('Your 10 current recovery codes stop working')).toBeFocused();
  await tabTo(page, view.getByRole('button', { name: 'Regenerate Codes' }));
  await page.keyboard.press('Enter');
  await expect(page.locator('#recovery-codes-list')).toBeFocused();
  const fresh = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
  expect(fresh.filter((c) => codes.includes(c))).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(view).toBeHidden();
  await expect(viewButton).toBeFocused();

  // Change the password.
  await tabTo(page, page.getByRole('button', { name: 'Change Password' }), true);
  await page.keyboard.press('Enter');
  const change = page.getByRole('dialog', { name: 'Change Password' });
  await expect(change.getByLabel('Current Password', { exact: true })).toBeFocused();
  await page.keyboard.type(STRONG_PASSWORD);
  await typeInto(page, 'New Password', NEW_PASSWORD);
  await typeInto(page, 'Repeat New Password', NEW_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(change).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'Password changed' }).first()).toBeVisible();

  // Sign out, and in again with a recovery code.
  await tabTo(page, page.getByRole('button', { name: 'Sign Out' }), true);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await gotoReady(page, '/signin');
  await typeInto(page, 'Email', email);
  await typeInto(page, 'Password', NEW_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/signin\/verify$/);
  await expect(page.getByLabel('Code', { exact: true })).toBeFocused();
  await tabTo(page, page.getByRole('button', { name: 'Use a recovery code' }));
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Recovery code', { exact: true })).toBeFocused();
  await page.keyboard.type(fresh[0]);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();

  // Disable.
  await gotoReady(page, '/settings/security');
  await tabTo(page, block.getByRole('button', { name: 'Disable' }));
  await page.keyboard.press('Enter');
  const disable = page.getByRole('dialog', { name: 'Disable Authenticator App' });
  await expect(disable.getByLabel('Code', { exact: true })).toBeFocused();
  await page.keyboard.type(await freshCode(secret));
  await page.keyboard.press('Enter');
  await expect(disable).toBeHidden();
  await expect(block.getByRole('button', { name: 'Enable' })).toBeFocused();

  expect(await page.evaluate(() => (window as unknown as { __mouse?: boolean }).__mouse ?? false)).toBe(false);
});

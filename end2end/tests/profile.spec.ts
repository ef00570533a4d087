import { test, expect, type Browser, type Page } from '@playwright/test';
import {
  STRONG_PASSWORD, axe, enableEmailCode, firstLink, freshCode, gotoReady, mailsFor, saveCodesIfShown, signIn,
  signUpVerified, tabTo, uniqueEmail, waitForCode, waitForMail, waitHydrated,
} from './helpers';

// Issue 26 in Chromium, every mail read from the real SMTP server: Settings > Profile
// (display name, the email change by link with its undo), the security checklist on the
// Security page, and recovery codes for every method.

const CONFIRM = 'Confirm your new email address';
const CHANGED = 'Your email address was changed';

async function signedIn(page: Page, email: string) {
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await waitHydrated(page);
}

async function openProfile(page: Page) {
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByRole('heading', { name: 'Profile', level: 1 })).toBeVisible();
  await waitHydrated(page);
}

const checklist = (page: Page) => page.getByRole('list', { name: 'Security checklist' });
// Each line's text starts with its title (a later line's advice may name another's).
const line = (page: Page, title: string) => checklist(page).getByRole('listitem').filter({ hasText: new RegExp(`^\\s*${title}`) });

async function signedInElsewhere(browser: Browser, baseURL: string, email: string): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signedIn(page, email);
  return page;
}

test('profile: display name, the email change by link, the notice with undo, sign-in with the new address, undo signs out', async ({ page, browser, baseURL }) => {
  test.setTimeout(180_000);
  const old = uniqueEmail('mover');
  const renamed = uniqueEmail('moved');
  await signUpVerified(page, old);
  await signedIn(page, old);
  const elsewhere = await signedInElsewhere(browser, baseURL!, old);
  await openProfile(page);

  // The display name shows in the header once saved.
  await page.getByLabel('Display name').fill('  Ada   Lovelace ');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Display name saved.' })).toBeVisible();
  await expect(page.getByRole('banner').getByText('Ada Lovelace', { exact: true })).toBeVisible();
  await expect(page.getByLabel('Display name')).toHaveValue('Ada Lovelace');

  // Change Email: the new address gets a link; nothing changes until it is used.
  await page.getByRole('button', { name: 'Change Email' }).click();
  const dialog = page.getByRole('dialog', { name: 'Change Email' });
  await expect(dialog.getByLabel('New Email Address')).toBeFocused();
  await dialog.getByLabel('New Email Address').fill('not an address');
  await dialog.getByRole('button', { name: 'Send Verification Link' }).click();
  await expect(dialog.getByLabel('New Email Address')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('New Email Address').fill(renamed.toUpperCase());
  await dialog.getByRole('button', { name: 'Send Verification Link' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: `We sent a verification link to ${renamed}` })).toBeVisible();
  const pending = page.getByRole('group', { name: /Pending:/ });
  await expect(pending).toContainText(renamed);
  await expect(pending.getByRole('button', { name: 'Resend' })).toBeVisible();
  // Cancel Change, then ask again.
  await pending.getByRole('button', { name: 'Cancel Change' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Email change cancelled.' })).toBeVisible();
  await expect(pending).toBeHidden();
  const cancelledLink = firstLink(await waitForMail(renamed, CONFIRM), '/email-change');
  await page.getByRole('button', { name: 'Change Email' }).click();
  await dialog.getByLabel('New Email Address').fill(renamed);
  await dialog.getByRole('button', { name: 'Send Verification Link' }).click();
  await expect(pending).toContainText(renamed);
  await expect.poll(async () => (await mailsFor(renamed)).filter((m) => m.subject === CONFIRM).length).toBe(2);
  const mail = (await mailsFor(renamed)).filter((m) => m.subject === CONFIRM).find((m) => !m.text.includes(cancelledLink))!;
  expect(mail.text).toContain('Hello Ada Lovelace,');
  const link = firstLink(mail, '/email-change');
  expect(link).not.toBe(cancelledLink);

  // The cancelled link changes nothing.
  await page.goto(cancelledLink);
  await expect(page.getByRole('alert')).toContainText('cancelled');

  // The link opens a page that asks; confirming makes the change.
  await page.goto(link);
  await expect(page.getByText(old)).toBeVisible();
  await expect(page.getByText(renamed)).toBeVisible();
  await page.getByRole('button', { name: 'Confirm New Address' }).click();
  await expect(page.getByRole('status')).toContainText(`${renamed} is your account's email address now`);
  // This browser stays signed in; the other one was signed out.
  await page.getByRole('link', { name: 'Go to Profile' }).click();
  await expect(page.getByRole('heading', { name: 'Profile', level: 1 })).toBeVisible();
  await expect(page.getByRole('main').getByText(renamed)).toBeVisible();
  await elsewhere.goto('/settings/security');
  await expect(elsewhere.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // The log has it.
  await gotoReady(page, '/settings/security-log');
  await expect(page.getByText(`Email address changed to ${renamed}`)).toBeVisible();

  // The old address got the notice with the undo link.
  const notice = await waitForMail(old, CHANGED);
  expect(notice.text).toContain(renamed);
  const undo = firstLink(notice, '/undo-email-change');

  // Signing in: the new address works, the old does not.
  await gotoReady(page, '/settings/security');
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await signIn(page, old);
  await expect(page.getByRole('alert')).toContainText('Invalid email or password');
  await signedIn(page, renamed);

  // Email Code now mails the new address.
  const codes = await enableEmailCode(page, renamed);
  expect(codes).toHaveLength(10);
  // Its notice greets by the display name.
  expect((await waitForMail(renamed, 'Email codes turned on')).text).toContain('Hello Ada Lovelace,');

  // Undo from the old mailbox (another browser): the old address is back, every
  // session is signed out, and it leads to a new password.
  const owner = await (await browser.newContext({ baseURL })).newPage();
  await owner.goto(undo);
  await expect(owner.getByText(renamed)).toBeVisible();
  await owner.getByRole('button', { name: 'Undo the Change' }).click();
  await expect(owner.getByRole('status')).toContainText('old address again');
  await owner.getByRole('link', { name: 'Set a New Password' }).click();
  await expect(owner.getByRole('heading', { name: /new password/i })).toBeVisible();
  await page.goto('/settings/security');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // Used once.
  await owner.goto(undo);
  await expect(owner.getByRole('alert')).toContainText('used already');
});

test('the email change\'s links work with script off: confirm, then undo', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const email = uniqueEmail('noscript-mover');
  const next = uniqueEmail('noscript-moved');
  await signUpVerified(page, email);
  await signedIn(page, email);
  await openProfile(page);
  await page.getByRole('button', { name: 'Change Email' }).click();
  const dialog = page.getByRole('dialog', { name: 'Change Email' });
  await dialog.getByLabel('New Email Address').fill(next);
  await dialog.getByRole('button', { name: 'Send Verification Link' }).click();
  await expect(dialog).toBeHidden();
  const plain = await (await browser.newContext({ baseURL, javaScriptEnabled: false })).newPage();
  await plain.goto(firstLink(await waitForMail(next, CONFIRM), '/email-change'));
  await expect(plain.getByText(next)).toBeVisible();
  await plain.getByRole('button', { name: 'Confirm New Address' }).click();
  await expect(plain.getByRole('status')).toContainText('is your account\'s email address now');
  await plain.goto(firstLink(await waitForMail(email, CHANGED), '/undo-email-change'));
  await plain.getByRole('button', { name: 'Undo the Change' }).click();
  await expect(plain.getByRole('status')).toContainText('old address again');
  await expect(plain.getByRole('link', { name: 'Set a New Password' })).toHaveAttribute('href', /\/reset-password#token=[\w-]{43}$/);
});

test('an email change to an address another account uses looks the same as any other', async ({ page }) => {
  test.setTimeout(120_000);
  const taken = uniqueEmail('taken');
  const mover = uniqueEmail('asker');
  await signUpVerified(page, taken);
  await page.context().clearCookies();
  await signUpVerified(page, mover);
  await signedIn(page, mover);
  await openProfile(page);
  await page.getByRole('button', { name: 'Change Email' }).click();
  const dialog = page.getByRole('dialog', { name: 'Change Email' });
  await dialog.getByLabel('New Email Address').fill(taken);
  await dialog.getByRole('button', { name: 'Send Verification Link' }).click();
  await expect(page.getByRole('status').filter({ hasText: `We sent a verification link to ${taken}` })).toBeVisible();
  await expect(page.getByRole('group', { name: /Pending:/ })).toContainText(taken);
  // The address's owner is told, and gets no link that would take their address.
  const told = await waitForMail(taken, 'Someone tried to use your email address');
  expect(told.text).not.toContain('token=');
  expect((await mailsFor(taken)).filter((m) => m.subject === CONFIRM)).toHaveLength(0);
});

test('the security checklist follows the account: no method, Email Code, authenticator; recovery codes down to 2', async ({ page, playwright, baseURL }) => {
  test.setTimeout(240_000);
  const email = uniqueEmail('checklist');
  await signUpVerified(page, email);
  await signedIn(page, email);
  await expect(checklist(page).getByRole('listitem')).toHaveCount(5);
  await expect(line(page, 'Strong password')).toContainText('Done');
  await expect(line(page, 'Strong password')).toContainText('password manager');
  await expect(line(page, 'Two-step sign-in')).toContainText('To do');
  await expect(line(page, 'Recovery codes')).toContainText('To do');
  await expect(line(page, 'Email address verified')).toContainText('Keep that mailbox secure');
  await expect(line(page, 'Sessions reviewed')).toContainText('this browser only');

  // Email Code on: the lines change without a reload.
  const block = page.getByRole('group', { name: 'Email Code' });
  await block.getByRole('button', { name: 'Enable' }).click();
  const enable = page.getByRole('dialog', { name: 'Enable Email Code' });
  await expect(enable.getByText('Step 1 of 3')).toBeVisible();
  await enable.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await enable.getByRole('button', { name: 'Continue' }).click();
  await enable.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to turn on email codes'));
  await expect(enable.getByText('Step 3 of 3: Save your recovery codes')).toBeVisible();
  await expect(enable.getByText('Store them in a password manager')).toBeVisible();
  const codes = await saveCodesIfShown(page, enable);
  expect(codes).toHaveLength(10);
  await expect(line(page, 'Two-step sign-in')).toContainText('Could be stronger');
  await expect(line(page, 'Recovery codes')).toContainText('Done');
  await expect(line(page, 'Recovery codes')).toContainText('10 codes left');

  // The authenticator: identity by an email code, the secret key's tip, then Done.
  await page.getByRole('group', { name: 'Authenticator App Code' }).getByRole('button', { name: 'Enable' }).click();
  const totp = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await totp.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to confirm it is you'));
  await expect(totp.getByText("Save the secret key in a secure location: you'll need it if you change or lose your phone")).toBeVisible();
  const secret = (await totp.getByLabel('Secret key').innerText()).replace(/\s/g, '');
  await totp.getByRole('button', { name: 'Continue' }).click();
  await totp.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  // The codes saved with Email Code stay: the dialog closes without new ones.
  await expect(totp).toBeHidden();
  await expect(line(page, 'Two-step sign-in')).toContainText('Done');
  await expect(line(page, 'Two-step sign-in')).toContainText('an authenticator app');

  // Eight recovery codes used by sign-ins elsewhere: two left.
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
  for (const code of codes.slice(0, 8)) {
    const first = await api.post('/api/sign_in', { form: { email, password: STRONG_PASSWORD } });
    expect(first.status()).toBe(200);
    const second = await api.post('/api/verify_sign_in', { form: { code: '', recovery_code: code, method: 'recovery' } });
    expect(second.status(), await second.text()).toBe(200);
  }
  await page.reload();
  await waitHydrated(page);
  await expect(line(page, 'Recovery codes')).toContainText('To do');
  await expect(line(page, 'Recovery codes')).toContainText('Only 2 codes left');
  // Another browser signed in since: the sessions line asks for a review.
  await expect(line(page, 'Sessions reviewed')).toContainText('To do');
  await expect(line(page, 'Sessions reviewed')).toContainText('revoke any you don\'t recognise');
  await line(page, 'Sessions reviewed').getByRole('link', { name: 'Review Sessions' }).click();
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security', exact: true }).click();
  await expect(line(page, 'Sessions reviewed')).toContainText('Done');
  await axe(page, 'Security page with the checklist');
  await api.dispose();
});

test('an Email-Code-only account gets recovery codes, signs in with one, and views them with an email code', async ({ page }) => {
  test.setTimeout(180_000);
  const email = uniqueEmail('emailonly');
  await signUpVerified(page, email);
  await signedIn(page, email);
  const codes = await enableEmailCode(page, email);
  expect(codes).toHaveLength(10);
  const recovery = page.getByRole('group', { name: 'Recovery Codes' });
  await expect(recovery.getByText('10 recovery codes left')).toBeVisible();

  // Sign in with a recovery code instead of the emailed code.
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await waitHydrated(page);
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await waitHydrated(page);
  await expect(recovery.getByText('9 recovery codes left')).toBeVisible();

  // View Recovery Codes: confirmed with a code sent by email for this.
  await recovery.getByRole('button', { name: 'View Recovery Codes' }).click();
  const view = page.getByRole('dialog', { name: 'Recovery Codes' });
  await expect(view.getByText('Enter the code we send to your email address to see your recovery codes.')).toBeVisible();
  await expect(view.getByText(`We sent a 6-digit code to ${email}`)).toBeVisible();
  await axe(page, 'View Recovery Codes by email');
  await view.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to confirm it is you'));
  const list = view.getByRole('list', { name: 'Recovery codes' });
  await expect(list.getByRole('listitem')).toHaveCount(10);
  await expect(list.getByRole('listitem').first()).toContainText('(used)');
  await expect(view.getByRole('link', { name: 'Download as Text File' })).toBeVisible();
  // Regenerate, within the fresh proof.
  await view.getByRole('button', { name: 'Regenerate' }).click();
  await view.getByRole('button', { name: 'Regenerate Codes' }).click();
  await expect(list.getByRole('listitem').first()).not.toContainText('(used)');
  await view.getByRole('button', { name: 'Done' }).click();
  await expect(recovery.getByText('10 recovery codes left')).toBeVisible();
});

test('profile and the checklist by keyboard alone, and axe on Profile, Change Email and the link pages', async ({ page }) => {
  test.setTimeout(120_000);
  const email = uniqueEmail('profilekeys');
  const next = uniqueEmail('profilenext');
  await signUpVerified(page, email);
  await signedIn(page, email);
  // From here on, any mouse event at all fails the test.
  await page.evaluate(() => {
    for (const type of ['mousedown', 'mouseup', 'click']) {
      window.addEventListener(type, (e) => {
        if ((e as MouseEvent).detail > 0) (window as unknown as { __mouse: boolean }).__mouse = true;
      }, true);
    }
  });
  // The checklist's fixes are links: Tab to one, Enter follows it.
  await tabTo(page, line(page, 'Two-step sign-in').getByRole('link', { name: 'Turn On Two-Step Sign-In' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#mfa-title$/);
  await tabTo(page, line(page, 'Sessions reviewed').getByRole('link', { name: 'Review Sessions' }), true);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __mouse?: boolean }).__mouse ?? false)).toBe(false);
  await gotoReady(page, '/settings/profile');
  await axe(page, 'Profile');
  const name = page.getByLabel('Display name');
  await tabTo(page, name);
  await page.keyboard.type('Grace');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Display name saved.' })).toBeVisible();
  await tabTo(page, page.getByRole('button', { name: 'Change Email' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Change Email' });
  await expect(dialog.getByLabel('New Email Address')).toBeFocused();
  await axe(page, 'Change Email dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.keyboard.press('Enter');
  await expect(dialog.getByLabel('New Email Address')).toBeFocused();
  await page.keyboard.type(next);
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'Resend' })).toBeFocused();
  await axe(page, 'Profile with a pending change');
  const link = firstLink(await waitForMail(next, CONFIRM), '/email-change');
  await page.goto(link);
  await expect(page.getByRole('button', { name: 'Confirm New Address' })).toBeVisible();
  await axe(page, 'Confirm your new email address');
  await tabTo(page, page.getByRole('button', { name: 'Confirm New Address' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toContainText('is your account\'s email address now');
  const undo = firstLink(await waitForMail(email, CHANGED), '/undo-email-change');
  await page.goto(undo);
  await expect(page.getByRole('button', { name: 'Undo the Change' })).toBeVisible();
  await axe(page, 'Undo the email change');
});

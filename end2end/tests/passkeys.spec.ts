import { test, expect, type CDPSession, type Page } from '@playwright/test';
import {
  STRONG_PASSWORD, axe, freshCode, saveCodesIfShown, signIn, signUpVerified, tabTo, uniqueEmail, waitForCode, waitForMail, waitHydrated,
} from './helpers';
import { PASSKEY_PORT } from '../playwright.config';

// Issue 27 in Chromium with its virtual authenticator (CDP WebAuthn: CTAP2, internal
// transport, resident keys, user verification): adding a passkey, signing in with it
// and no password, as the second step after a password, renaming, removing; a device
// without the passkey, a bad signature and a missing user verification refused with a
// message; keyboard only and axe on the new states. The instance is the one at
// http://localhost (WebAuthn takes no IP address as a relying party).

test.use({ baseURL: `http://localhost:${PASSKEY_PORT}` });

type Authenticator = { cdp: CDPSession; id: string };

/** A platform authenticator (think: the laptop's fingerprint reader) for this page. */
async function authenticator(page: Page): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/**
 * Chromium's virtual authenticator answers the sign-in page's autofill request
 * (conditional mediation) at once, as a person picking the passkey from the address
 * field's list would. Tests of the button and of the second step turn the autofill off
 * for their page, as in a browser without it.
 */
async function withoutAutofill(page: Page) {
  await page.addInitScript(() => {
    (window as unknown as { PublicKeyCredential: { isConditionalMediationAvailable: () => Promise<boolean> } })
      .PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
}

async function credentials(a: Authenticator) {
  return (await a.cdp.send('WebAuthn.getCredentials', { authenticatorId: a.id })).credentials;
}

async function securityPage(page: Page, email: string) {
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await waitHydrated(page);
}

/** A new verified account with a virtual authenticator, signed in on its Security page;
 * `autofill: false` for the tests that press the buttons (Chromium answers the
 * address field's autofill at once when a virtual authenticator is there). */
async function ownerOnSecurityPage(page: Page, tag: string, { autofill }: { autofill: boolean }) {
  const email = uniqueEmail(tag);
  if (!autofill) await withoutAutofill(page);
  await signUpVerified(page, email);
  const device = await authenticator(page);
  await securityPage(page, email);
  return { email, device };
}

const group = (page: Page) => page.getByRole('group', { name: /^Passkeys/ });

/** "Add a passkey" on the Security page; gives the recovery codes when it brought them. */
async function addPasskey(page: Page): Promise<string[]> {
  await group(page).getByRole('button', { name: 'Add a passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Passkey' });
  const codes = await saveCodesIfShown(page, dialog);
  await expect(dialog).toBeHidden();
  return codes;
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page).toHaveURL(/\/signin/);
}

test('a passkey: added, signs in with no password, renamed, confirms the recovery codes, removed', async ({ page }) => {
  test.setTimeout(120_000);
  const { email, device } = await ownerOnSecurityPage(page, 'passkey', { autofill: true });
  await expect(group(page).getByText('Most secure')).toBeVisible();
  await expect(group(page).getByText('None yet')).toBeVisible();

  // The account's first method: the recovery codes come with it.
  const codes = await addPasskey(page);
  expect(codes).toHaveLength(10);
  await expect(page.getByRole('status').filter({ hasText: 'Passkey added.' })).toBeVisible();
  const list = page.getByRole('list', { name: 'Your passkeys' });
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list.getByRole('listitem')).toContainText('Passkey');
  await expect(list.getByRole('listitem')).toContainText('not used yet');
  const stored = await credentials(device);
  expect(stored).toHaveLength(1);
  expect(stored[0].isResidentCredential, 'a discoverable credential (resident key)').toBe(true);
  await waitForMail(email, 'Passkey added');
  // The checklist counts it as the preferred method.
  await expect(page.getByRole('list', { name: 'Security checklist' }).getByRole('listitem').filter({ hasText: /^\s*Two-step sign-in/ })).toContainText('Done');

  // Signed out, back in with the passkey alone, picked from the address field's autofill.
  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await waitHydrated(page);
  await expect(list.getByRole('listitem')).toContainText('last used');

  // Rename.
  await list.getByRole('button', { name: 'Rename Passkey' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename Passkey' });
  await rename.getByLabel('Passkey name').fill('   ');
  await rename.getByRole('button', { name: 'Save' }).click();
  await expect(rename.getByText('Give the passkey a name.')).toBeVisible();
  await rename.getByLabel('Passkey name').fill('Work laptop');
  await rename.getByRole('button', { name: 'Save' }).click();
  await expect(rename).toBeHidden();
  await expect(list.getByRole('listitem')).toContainText('Work laptop');

  // The recovery codes are shown after the passkey confirms it is the owner.
  await page.getByRole('button', { name: 'View Recovery Codes' }).click();
  const view = page.getByRole('dialog', { name: 'Recovery Codes' });
  await view.getByRole('button', { name: 'Use Passkey' }).click();
  await expect(view.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')).toHaveCount(10);
  await view.getByRole('button', { name: 'Done' }).click();

  // Turning on another method: the passkey confirms it is the owner, not the password.
  const emailBlock = page.getByRole('group', { name: 'Email Code' });
  await emailBlock.getByRole('button', { name: 'Enable' }).click();
  const enable = page.getByRole('dialog', { name: 'Enable Email Code' });
  await expect(enable.getByText('confirm it is you with your passkey')).toBeVisible();
  await expect(enable.getByLabel('Password', { exact: true })).toHaveCount(0);
  await enable.getByRole('button', { name: 'Continue' }).click();
  await enable.getByLabel('Code', { exact: true }).fill(await waitForCode(email, 'to turn on email codes'));
  await expect(enable).toBeHidden();
  await expect(emailBlock.getByText('Enabled', { exact: true })).toBeVisible();

  // The log says what happened.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security log' }).click();
  await expect(page.getByText('Passkey added').first()).toBeVisible();
  await expect(page.getByText('Signed in with a passkey').first()).toBeVisible();
  await expect(page.getByText('Passkey renamed').first()).toBeVisible();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security', exact: true }).click();
  await waitHydrated(page);

  // Remove: it says what signing in asks for then.
  await list.getByRole('button', { name: 'Remove Work laptop' }).click();
  const remove = page.getByRole('dialog', { name: 'Remove Passkey' });
  await expect(remove.getByText('Signing in still asks for a code sent to your email')).toBeVisible();
  // The password is asked every time, even just after signing in.
  await remove.getByRole('button', { name: 'Remove' }).click();
  await expect(remove.getByText('Enter your password.')).toBeVisible();
  await remove.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await remove.getByRole('button', { name: 'Remove' }).click();
  await expect(remove).toBeHidden();
  await expect(group(page).getByText('None yet')).toBeVisible();
  await expect(page.getByRole('group', { name: 'Recovery Codes' }).getByText('10 recovery codes left')).toBeVisible();
  await waitForMail(email, 'Passkey removed');
  // The device still holds it, but this site does not know it any more: the autofill
  // gives up quietly, the button says why.
  await signOut(page);
  await waitHydrated(page);
  await expect(page.getByLabel('Email', { exact: true })).toHaveAttribute('autocomplete', 'username webauthn');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert')).toContainText('This passkey is not registered here');
  await expect(page).toHaveURL(/\/signin/);
});

test('a passkey as the second step after a password; another device without it fails with a message', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const { email } = await ownerOnSecurityPage(page, 'passkey-2fa', { autofill: false });
  await addPasskey(page);
  // Another method turned on: the passkey confirms it is the owner.
  const app = page.getByRole('group', { name: 'Authenticator App Code' });
  await app.getByRole('button', { name: 'Enable' }).click();
  const enable = page.getByRole('dialog', { name: 'Enable Authenticator App' });
  await expect(enable.getByText('confirm it is you with your passkey')).toBeVisible();
  await enable.getByRole('button', { name: 'Continue' }).click();
  const secret = (await enable.getByLabel('Secret key').innerText()).replace(/\s/g, '');
  await enable.getByRole('button', { name: 'Continue' }).click();
  await enable.getByLabel('Code', { exact: true }).fill(await freshCode(secret));
  await expect(enable).toBeHidden();
  await expect(app.getByText('Enabled', { exact: true })).toBeVisible();
  await signOut(page);

  // The password first: the second step offers the passkey first.
  await signIn(page, email);
  await expect(page).toHaveURL(/\/signin\/verify/);
  await waitHydrated(page);
  await expect(page.getByRole('radio', { name: 'Passkey' })).toBeChecked();
  const use = page.getByRole('button', { name: 'Use Passkey' });
  await expect(use).toBeFocused();
  await axe(page, 'the second step with a passkey');
  await use.click();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();

  // Another browser with an authenticator that has no passkey of this site.
  const context = await browser.newContext({ baseURL: `http://localhost:${PASSKEY_PORT}` });
  const other = await context.newPage();
  await withoutAutofill(other);
  await authenticator(other);
  await other.goto('/signin');
  await waitHydrated(other);
  await other.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(other.getByRole('alert')).toContainText('No passkey was used');
  await expect(other).toHaveURL(/\/signin/);
  await axe(other, 'sign-in after a passkey that was not there');
  // Its second step too (the password is right, the passkey is not on this device).
  await signIn(other, email);
  await expect(other).toHaveURL(/\/signin\/verify/);
  await waitHydrated(other);
  await other.getByRole('button', { name: 'Use Passkey' }).click();
  await expect(other.getByRole('alert')).toContainText('No passkey was used');
  await context.close();
});

test('a bad signature and a missing user verification are refused', async ({ page }) => {
  test.setTimeout(120_000);
  const { device } = await ownerOnSecurityPage(page, 'passkey-bad', { autofill: false });
  await addPasskey(page);
  await signOut(page);

  for (const bits of [{ isBogusSignature: true }, { isBadUV: true }]) {
    await device.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: device.id, ...bits });
    await page.goto('/signin');
    await waitHydrated(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('alert'), JSON.stringify(bits)).toContainText('This passkey was not accepted');
    await expect(page).toHaveURL(/\/signin/);
  }
  // The genuine answer still works.
  await device.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: device.id, isBogusSignature: false, isBadUV: false, isBadUP: false });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  // Both refusals are in the log.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security log' }).click();
  await expect(page.getByText('Passkey refused')).toHaveCount(2);
});

test('passkeys by keyboard alone, with axe on each new state', async ({ page }) => {
  test.setTimeout(120_000);
  await ownerOnSecurityPage(page, 'passkey-keys', { autofill: false });
  await axe(page, 'no passkey yet');
  const add = group(page).getByRole('button', { name: 'Add a passkey' });
  await tabTo(page, add);
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Add a Passkey' });
  const saved = dialog.getByLabel('I have saved these codes');
  await expect(saved).toBeVisible();
  await axe(page, 'the passkey added, its recovery codes');
  await tabTo(page, saved);
  await page.keyboard.press('Space');
  await tabTo(page, dialog.getByRole('button', { name: 'Done' }));
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await axe(page, 'one passkey');

  // Rename by keyboard; Escape closes the dialog and gives the focus back.
  const list = page.getByRole('list', { name: 'Your passkeys' });
  const renameButton = list.getByRole('button', { name: 'Rename Passkey' });
  await tabTo(page, renameButton);
  await page.keyboard.press('Enter');
  const rename = page.getByRole('dialog', { name: 'Rename Passkey' });
  await expect(rename.getByLabel('Passkey name')).toBeFocused();
  await axe(page, 'the rename dialog');
  await page.keyboard.press('Escape');
  await expect(rename).toBeHidden();
  await expect(renameButton).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(rename.getByLabel('Passkey name')).toBeFocused();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Phone');
  await page.keyboard.press('Enter');
  await expect(rename).toBeHidden();
  await expect(list).toContainText('Phone');

  // Remove by keyboard.
  const removeButton = list.getByRole('button', { name: 'Remove Phone' });
  await tabTo(page, removeButton);
  await page.keyboard.press('Enter');
  const remove = page.getByRole('dialog', { name: 'Remove Passkey' });
  await expect(remove.getByText('This is your only multi-factor method')).toBeVisible();
  await axe(page, 'the remove dialog');
  await expect(remove.getByLabel('Password', { exact: true })).toBeFocused();
  await page.keyboard.type(STRONG_PASSWORD);
  await tabTo(page, remove.getByRole('button', { name: 'Remove' }));
  await page.keyboard.press('Enter');
  await expect(remove).toBeHidden();
  await expect(group(page).getByText('None yet')).toBeVisible();
  // The last method took the recovery codes with it.
  await expect(page.getByRole('group', { name: 'Recovery Codes' }).getByText('None', { exact: true })).toBeVisible();

  // The sign-in page's passkey button, by keyboard (the device still holds the passkey
  // just removed: the page says so).
  await signOut(page);
  await waitHydrated(page);
  await axe(page, 'sign-in with the passkey button');
  await tabTo(page, page.getByRole('button', { name: 'Sign in with a passkey' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('This passkey is not registered here');
  await axe(page, 'sign-in with a passkey refused');
});

test('adding a passkey asks the password once no proof of identity is recent', async ({ page }) => {
  test.setTimeout(120_000);
  await ownerOnSecurityPage(page, 'passkey-proof', { autofill: false });
  // This instance counts a proof for 30 seconds.
  await page.waitForTimeout(31_000);
  await group(page).getByRole('button', { name: 'Add a passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Passkey' });
  const password = dialog.getByLabel('Password', { exact: true });
  await expect(password).toBeFocused();
  await axe(page, 'add a passkey, the password asked');
  await password.fill('not the password');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(dialog.getByText('The password is not correct.')).toBeVisible();
  await password.fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  expect(await saveCodesIfShown(page, dialog)).toHaveLength(10);
  await expect(page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem')).toHaveCount(1);
});

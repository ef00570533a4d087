import { test, expect, type Browser } from '@playwright/test';
import { axe, firstLink, gotoReady, mailsFor, signIn, signUpVerified, tabTo, uniqueEmail, waitForMail } from './helpers';
import { addressesIn, COUNTRY_NAMES } from './geoip';

// Settings > Notifications (seed 002, "Login Notifications"): a sign-in from a new
// device, browser or place is told by email, with a "This wasn't me" link. Other
// browsers are contexts with their own user agent and, through the proxy the app
// trusts (127.0.0.1), their own public address: one the installed country database
// knows, read from the file.

const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0';
const EDGE_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0';
const NOTICE = 'New sign-in to your account';

async function otherBrowser(browser: Browser, userAgent: string, ip: string) {
  return browser.newContext({
    baseURL: 'http://127.0.0.1:3100',
    userAgent,
    extraHTTPHeaders: { 'X-Forwarded-For': ip },
  });
}

// The owner's browser is in Tokyo: the settings pages tell the server, and notices
// give their time in that zone too.
test.use({ timezoneId: 'Asia/Tokyo' });

const notices = async (email: string) => (await mailsFor(email)).filter((m) => m.subject === NOTICE);

test('a new browser from another country is told, and "This wasn\'t me" signs it out', async ({ page, browser }) => {
  const { JP, DE } = addressesIn(['JP', 'DE']);
  const email = uniqueEmail('notices');
  await signUpVerified(page, email);
  // The account's first sign-in: no notice.
  const told = page.waitForResponse((r) => r.url().endsWith('/api/remember_time_zone') && r.ok());
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await told;

  const other = await otherBrowser(browser, FIREFOX_MAC, JP);
  const theirs = await other.newPage();
  await signIn(theirs, email);
  await expect(theirs.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  const mail = await waitForMail(email, NOTICE);
  expect(mail.text).toContain('a new device, a new browser and a new location');
  expect(mail.text).toContain('Firefox on Mac OSX');
  expect(mail.text).toContain(`Place: ${COUNTRY_NAMES.JP}`);
  expect(mail.text).toContain(JP);
  expect(mail.text).toMatch(/ UTC \(\d\d:\d\d on \d{1,2} \w{3} \d{4} in Asia\/Tokyo\)/);
  // The Sessions page places that session in its country.
  await gotoReady(page, '/settings/sessions');
  await expect(page.getByText(COUNTRY_NAMES.JP).first()).toBeVisible();

  // "This wasn't me", opened from the mail in the owner's browser.
  await page.goto(firstLink(mail, '/not-me'));
  await expect(page.getByRole('heading', { name: "This wasn't me", level: 1 })).toBeVisible();
  await expect(page.getByText('Firefox on Mac OSX')).toBeVisible();
  await expect(page.getByText(COUNTRY_NAMES.JP)).toBeVisible();
  await axe(page, "This wasn't me");
  await page.getByRole('button', { name: 'Sign out that session' }).click();
  await expect(page.getByRole('heading', { name: 'Session signed out', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Set a New Password' })).toBeVisible();
  await axe(page, "This wasn't me, done");
  // "Sign out all other sessions" (the owner's own stays; that one is gone already).
  await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await expect(page.getByText('There were no other sessions.')).toBeVisible();
  // That browser is signed out at its next request.
  await theirs.goto('/settings/security');
  await expect(theirs.getByRole('heading', { name: 'Sign in', level: 1 })).toBeVisible();
  // The link works once.
  await page.goto(firstLink(mail, '/not-me'));
  await expect(page.getByText('This link was used already')).toBeVisible();
  // The same browser again (it kept its device cookie): no second notice.
  await signIn(theirs, email);
  await expect(theirs.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await page.waitForTimeout(500);
  expect(await notices(email)).toHaveLength(1);

  // The log has the notice and the sign-out (the owner's own session was left alone).
  await page.goto('/settings/security-log?category=sign-in');
  await expect(page.getByText('New sign-in notice sent: new device, new browser, new location')).toBeVisible();
  await expect(page.getByText(COUNTRY_NAMES.JP).first()).toBeVisible();
  await page.goto('/settings/security-log?category=sessions');
  await expect(page.getByText('Session signed out from a new sign-in notice')).toBeVisible();
  await other.close();

  // With every switch off, a new browser from elsewhere sends nothing (and the log says why).
  await gotoReady(page, '/settings/notifications');
  for (const name of ['New device', 'New location', 'New browser']) {
    await page.getByRole('switch', { name }).click();
    await expect(page.getByRole('switch', { name })).toHaveAttribute('aria-checked', 'false');
  }
  const third = await otherBrowser(browser, EDGE_WINDOWS, DE);
  const thirdPage = await third.newPage();
  await signIn(thirdPage, email);
  await expect(thirdPage.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await page.goto('/settings/security-log?category=sign-in');
  await expect(page.getByText(/New sign-in notice held back \(switched off/)).toBeVisible();
  expect(await notices(email)).toHaveLength(1);
  await third.close();
});

test('Settings > Notifications: three switches, on by default, by keyboard, saved at once', async ({ page }) => {
  const email = uniqueEmail('switches');
  await signUpVerified(page, email);
  await signIn(page, email);
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Notifications' }).click();
  await expect(page.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();
  for (const name of ['New device', 'New location', 'New browser']) {
    await expect(page.getByRole('switch', { name })).toHaveAttribute('aria-checked', 'true');
  }
  await axe(page, 'Notifications');
  const device = page.getByRole('switch', { name: 'New device' });
  await tabTo(page, device);
  await page.keyboard.press('Space');
  await expect(device).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByText('Notification settings saved.')).toBeVisible();
  // Saved: a reload shows it off, the others still on.
  await page.reload();
  await expect(page.getByRole('switch', { name: 'New device' })).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByRole('switch', { name: 'New browser' })).toHaveAttribute('aria-checked', 'true');
  await tabTo(page, page.getByRole('switch', { name: 'New device' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('switch', { name: 'New device' })).toHaveAttribute('aria-checked', 'true');
  await axe(page, 'Notifications, switched');
});

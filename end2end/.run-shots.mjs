// ad-hoc: screenshots of the main pages at desktop and phone widths
import { chromium } from '@playwright/test';
const base = process.env.BASE || 'http://127.0.0.1:3100';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
for (const [w, h, tag] of [[1280, 800, 'desktop'], [375, 740, 'phone']]) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h } });
  const page = await ctx.newPage();
  const email = `shot-${tag}-${Date.now()}@example.com`;
  await page.goto(base + '/signup');
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill('Granite-Kett');
  await page.screenshot({ path: `/tmp/shots/signup-${tag}.png`, fullPage: true });
  await page.getByLabel('Password', { exact: true }).fill('Granite-Kettle-42!');
  await page.getByLabel('Repeat Password', { exact: true }).fill('Granite-Kettle-42!');
  await page.getByRole('button', { name: 'Create Account' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await page.goto(base + '/signin');
  await page.waitForFunction(() => document.body.dataset.hydrated === 'true');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill('wrong-password');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await page.getByRole('alert').waitFor();
  await page.screenshot({ path: `/tmp/shots/signin-${tag}.png`, fullPage: true });
  await page.getByLabel('Password', { exact: true }).fill('Granite-Kettle-42!');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
  await page.screenshot({ path: `/tmp/shots/security-${tag}.png`, fullPage: true });
  const sw = await page.evaluate(() => document.documentElement.scrollWidth);
  console.log(tag, 'scrollWidth', sw);
  await ctx.close();
}
await browser.close();

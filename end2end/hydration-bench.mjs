// Benchmark helper (bench/run.sh): loads a page in Debian's Chromium N times, each in
// a fresh context (nothing cached), and prints as JSON the median time from navigation
// start to the app's `latchkey:hydrated` mark, and the bytes of the page's HTML and of
// what it fetched from /pkg/ (as encoded on the wire) until then: the first load.
import { chromium } from '@playwright/test';

const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 10);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const times = [];
let firstLoad = 0;
let files = 0;
try {
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const sizes = [];
    page.on('requestfinished', (r) => {
      // As release.spec.ts counts it: the page itself and what it fetches from /pkg/.
      if (new URL(r.url()).pathname.startsWith('/pkg/') || r.resourceType() === 'document') {
        sizes.push(r.sizes().then((s) => s.responseBodySize));
      }
    });
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName('latchkey:hydrated').length > 0);
    times.push(await page.evaluate(() => performance.getEntriesByName('latchkey:hydrated')[0].startTime));
    const bytes = (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    firstLoad = Math.max(firstLoad, bytes);
    files = sizes.length;
    await context.close();
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({
  runs, median_ms: Math.round(median), min_ms: Math.round(times[0]), max_ms: Math.round(times[times.length - 1]),
  first_load_bytes: firstLoad, first_load_files: files,
}));

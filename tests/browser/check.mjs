// Opens an rsei report in headless Chromium and checks what a reader would see.
//
//   node check.mjs REPORT.html SCREENSHOT.png EXPECT.json [PRINT.pdf]
//
// EXPECT.json: { "ids": ["fig-…", "tab-…", …], "svg_count": N }
// Checks: no console error or warning, no uncaught page error, no request leaving the file
// (every request other than the report itself is refused and reported), every expected id present,
// figures holding a drawn SVG and tables a <table>, exactly svg_count <svg> elements, every SVG
// with a non-empty box, nothing wider than the window. Writes a full-page screenshot and, when
// asked, the A4 print rendering as PDF. Prints one JSON line; exit code 1 when a check fails.
//
// Chromium: /usr/bin/chromium (Debian package `chromium`), or $CHROMIUM.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [report, screenshot, expectFile, pdf] = process.argv.slice(2);
if (!report || !screenshot || !expectFile) {
  console.error('usage: node check.mjs REPORT.html SCREENSHOT.png EXPECT.json [PRINT.pdf]');
  process.exit(2);
}
const expect = JSON.parse(readFileSync(expectFile, 'utf8'));
const url = pathToFileURL(resolve(report)).href;
const userData = mkdtempSync(join(tmpdir(), 'rsei-chromium-'));
const failures = [];
const consoleMessages = [];
const external = [];

let context;
try {
  context = await chromium.launchPersistentContext(userData, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    offline: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    external.push(u);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleMessages.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleMessages.push(`pageerror: ${e.message}`));
  await page.goto(url, { waitUntil: 'load' });

  const dom = await page.evaluate((ids) => {
    const out = { missing: [], emptyFigures: [], emptyTables: [], svgCount: 0, zeroSvgs: 0, scripts: 0,
      scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, title: document.title,
      sections: document.querySelectorAll('main section').length };
    for (const id of ids) {
      const el = document.getElementById(id);
      if (!el) { out.missing.push(id); continue; }
      if (el.tagName === 'FIGURE') {
        const svgs = el.querySelectorAll('svg');
        if (svgs.length === 0) out.emptyFigures.push(id);
      } else if (el.classList.contains('table-block')) {
        if (!el.querySelector('table tbody tr')) out.emptyTables.push(id);
      }
    }
    const svgs = document.querySelectorAll('svg');
    out.svgCount = svgs.length;
    for (const s of svgs) {
      // only the outermost SVGs have a layout box of their own
      if (s.ownerSVGElement) continue;
      const r = s.getBoundingClientRect();
      if (!(r.width > 10 && r.height > 10)) out.zeroSvgs += 1;
    }
    out.scripts = document.querySelectorAll('script').length;
    return out;
  }, expect.ids || []);

  if (consoleMessages.length) failures.push(`console: ${consoleMessages.join(' | ')}`);
  if (external.length) failures.push(`requests leaving the file: ${external.join(', ')}`);
  if (dom.missing.length) failures.push(`missing ids: ${dom.missing.join(', ')}`);
  if (dom.emptyFigures.length) failures.push(`figures without SVG: ${dom.emptyFigures.join(', ')}`);
  if (dom.emptyTables.length) failures.push(`tables without rows: ${dom.emptyTables.join(', ')}`);
  if (typeof expect.svg_count === 'number' && dom.svgCount !== expect.svg_count) failures.push(`${dom.svgCount} <svg> in the DOM, expected ${expect.svg_count}`);
  if (dom.zeroSvgs) failures.push(`${dom.zeroSvgs} SVG(s) drawn without size`);
  if (dom.scrollWidth > dom.innerWidth) failures.push(`page wider than the window: ${dom.scrollWidth} > ${dom.innerWidth} px`);

  await page.screenshot({ path: screenshot, fullPage: true });
  if (pdf) {
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true, printBackground: true });
  }
  console.log(JSON.stringify({ ok: failures.length === 0, failures, svg_count: dom.svgCount, sections: dom.sections, title: dom.title }));
} catch (e) {
  failures.push(`browser: ${e && e.message ? e.message : e}`);
  console.log(JSON.stringify({ ok: false, failures }));
} finally {
  if (context) await context.close();
  rmSync(userData, { recursive: true, force: true });
}
process.exit(failures.length === 0 ? 0 : 1);

// Opens HTML pages in headless Chromium (Debian's, through playwright-core) and
// takes a screenshot of each. Fails on any console error, uncaught exception,
// failed load, or request that leaves the page's own file (a report is one
// self-contained file). Usage: node browser.js OUT_DIR PAGE.html...
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const FLAGS = [
  "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

async function check(browser, file, outDir, problems) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
  const url = "file://" + path.resolve(file);
  const say = (what) => problems.push(`${file}: ${what}`);
  page.on("console", (m) => m.type() === "error" && say(`console error: ${m.text()}`));
  page.on("pageerror", (e) => say(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => say(`failed to load ${r.url()}`));
  page.on("request", (r) => r.url() !== url && !r.url().startsWith("data:") && say(`fetches ${r.url()}`));
  const response = await page.goto(url, { waitUntil: "load" });
  if (!response || !response.ok()) say("did not load");
  const text = (await page.innerText("body")).trim();
  if (text.length < 200) say(`shows almost no text (${text.length} characters)`);
  const shot = path.join(outDir, path.basename(file, ".html") + ".png");
  await page.screenshot({ path: shot });
  console.log(`${file}: loaded, ${text.length} characters of text, screenshot ${shot}`);
  await page.close();
}

(async () => {
  const [outDir, ...files] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: FLAGS,
  });
  const problems = [];
  try {
    for (const f of files) await check(browser, f, outDir, problems);
  } finally {
    await browser.close();
  }
  problems.forEach((p) => console.error(p));
  process.exit(problems.length ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

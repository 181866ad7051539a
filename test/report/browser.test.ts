// The report in a real browser: Debian's chromium driven by playwright-core, offline. Opens the report
// of a `mimic demo --quick` run (synth -> mine -> train -> probe -> report, through the CLI), checks there are no console errors
// or network requests, every image decodes, hovering a patch highlights its partner (and the partner
// highlights back), and saves a screenshot (to $MIMIC_SCREENSHOT too when set). MIMIC_REPORT_DIR=<demo
// folder> tests the report of that folder instead of running the demo.
// Chromium missing is a FAILURE with the fix, never a skip.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/report.js";

const CHROMIUM = "/usr/bin/chromium";
const FIX = `${CHROMIUM} not found. Fix: run \`node scripts/bootstrap.mjs --browser\` (installs Debian's chromium; npm test's pretest does this)`;

let tmp: string;
let browser: Browser | undefined;
let page: Page;
let reportFile: string;
let imgTags = 0;
const consoleErrors: string[] = [];
const requests: string[] = [];
const dialogs: string[] = [];

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(FIX);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-report-browser-"));
  // The report of MIMIC_REPORT_DIR when set, else of a fresh `mimic demo --quick`.
  const dir = process.env.MIMIC_REPORT_DIR ?? (await quickDemo(path.join(tmp, "demo")));
  reportFile = (await writeReport(dir, path.join(tmp, "report.html"))).out;
  imgTags = (fs.readFileSync(reportFile, "utf8").match(/<img /g) ?? []).length;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // (playwright gives every launch a fresh temporary profile)
    ],
    timeout: 30_000,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("data:") && u !== `file://${reportFile}`) requests.push(u);
  });
  await page.goto(`file://${reportFile}`, { waitUntil: "load" });
}, 900_000);

/** Run `mimic demo --quick` through the CLI (without blocking the worker); returns its folder. */
async function quickDemo(out: string): Promise<string> {
  const bin = path.resolve(__dirname, "../../bin/mimic.js");
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [bin, "demo", "--quick", "--out", out], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (code) => resolve({ code, stderr: err }));
  });
  if (code !== 0) throw new Error(`mimic demo --quick failed (exit ${code}):\n${stderr.slice(-3000)}`);
  for (const f of ["report.html", "mined/pairs.csv", "train/croco/metrics.jsonl", "train/mae/metrics.jsonl", "eval-mining.json"])
    if (!fs.existsSync(path.join(out, f))) throw new Error(`mimic demo --quick did not write ${f}`);
  for (const enc of ["croco", "mae", "random"])
    for (const task of ["depth", "seg"])
      if (!fs.existsSync(path.join(out, "probe", `${enc}-${task}`, "metrics.json")))
        throw new Error(`demo: no probe/${enc}-${task}/metrics.json`);
  return out;
}

afterAll(async () => {
  await browser?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("report in chromium", () => {
  it("loads offline with no console errors, no requests and no injected script", async () => {
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(await page.locator("script").count()).toBe(1);
    expect(await page.title()).toContain("mimic-kit report");
  });

  it("every image decodes (naturalWidth > 0)", async () => {
    const imgs = await page.$$eval("img", (els) => els.map((e) => ({ alt: e.getAttribute("alt"), ok: e.complete && e.naturalWidth > 0 })));
    expect(imgs.length).toBe(imgTags);
    // mined pairs (two views each), reconstructions and probe predictions are all pictures
    expect(await page.locator("figure.pair img").count()).toBeGreaterThanOrEqual(2);
    expect(imgs.length).toBeGreaterThanOrEqual(2 + 2 + 6);
    expect(imgs.filter((i) => !i.ok)).toEqual([]);
  });

  it("hovering a patch highlights its partner in the other view, and back", async () => {
    const fig = page.locator("figure.pair").first();
    await fig.scrollIntoViewIfNeeded();
    const v1 = fig.locator("rect.patch.v1");
    const a = v1.nth(Math.floor((await v1.count()) / 2));
    const k = await a.getAttribute("data-k");
    const partnerK = (await a.getAttribute("data-partners"))!;
    const partner = fig.locator(`rect.patch[data-k="${partnerK}"]`);
    const fillBefore = await partner.evaluate((e) => getComputedStyle(e).fill);
    expect(await partner.getAttribute("class")).not.toContain("hl");

    await a.hover();
    expect(await a.getAttribute("class")).toContain("hl");
    expect(await partner.getAttribute("class")).toContain("partner");
    expect(await partner.evaluate((e) => getComputedStyle(e).fill)).not.toBe(fillBefore);
    expect(await fig.locator("g.links line").count()).toBe(1);
    expect(await fig.locator(".hover-info").textContent()).toMatch(/view 1 patch \d+ .*↔ view 2 patch \d+/);
    // Exactly the hovered patch and its partner are highlighted.
    expect(await page.locator("rect.patch.hl").count()).toBe(2);

    // The other way round: the view-2 patch lists our view-1 patch among its partners.
    await partner.hover();
    expect((await partner.getAttribute("data-partners"))!.split(" ")).toContain(k);
    expect(await partner.getAttribute("class")).toContain("hl");
    expect(await a.getAttribute("class")).toContain("partner");

    // Leaving the overlay clears the highlight.
    await page.mouse.move(5, 5);
    expect(await page.locator("rect.patch.hl").count()).toBe(0);
  });

  it("saves a screenshot", async () => {
    const fig = page.locator("figure.pair").first();
    const v1 = fig.locator("rect.patch.v1");
    await v1.nth(Math.floor((await v1.count()) / 3)).hover(); // show a highlighted pair in the picture
    const file = path.join(tmp, "report.png");
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    const target = process.env.MIMIC_SCREENSHOT;
    if (target) {
      fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
      fs.copyFileSync(file, target);
      console.log(`[report] screenshot saved to ${target}`);
    }
  });
});

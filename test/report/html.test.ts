// The report's HTML helpers (src/report/html.ts): escaping, attributes, numbers, data URIs.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { attrs, el, esc, fmt, imageDataUri, imageMime, kvTable, table } from "../../src/report/html.js";

describe("report html helpers", () => {
  it("esc escapes the five HTML specials and nothing else", () => {
    expect(esc(`<script>alert("x")</script> & 'q'`)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    expect(esc("plain ünïcode 1.5")).toBe("plain ünïcode 1.5");
    expect(esc(null)).toBe("");
    expect(esc(42)).toBe("42");
  });
  it("attrs escapes values, drops false/null, rejects bad names", () => {
    expect(attrs({ alt: `a"b<c>`, hidden: true, x: false, y: null, n: 3 })).toBe(' alt="a&quot;b&lt;c&gt;" hidden n="3"');
    expect(() => attrs({ 'on"x': 1 })).toThrow(/bad attribute/);
    expect(el("p", { class: "k" }, esc("<b>"))).toBe('<p class="k">&lt;b&gt;</p>');
  });
  it("table and kvTable escape what they should", () => {
    const t = kvTable([["<k>", "<v>"]]);
    expect(t).toContain("&lt;k&gt;");
    expect(t).toContain("&lt;v&gt;");
    expect(table(["a"], [["<i>x</i>"]])).toContain("<td><i>x</i></td>"); // cells are HTML already
  });
  it("fmt formats numbers for people", () => {
    expect(fmt(1234567)).toBe("1,234,567");
    expect(fmt(0.123456)).toBe("0.1235");
    expect(fmt(0.00001234)).toBe("1.234e-5");
    expect(fmt(Number.NaN)).toBe("—");
    expect(fmt(null)).toBe("—");
  });
  it("imageDataUri embeds JPEG/PNG by their magic bytes and refuses non-images", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-html-"));
    const raw = Buffer.alloc(4 * 4 * 3, 200);
    const jpg = await sharp(raw, { raw: { width: 4, height: 4, channels: 3 } })
      .jpeg()
      .toBuffer();
    const png = await sharp(raw, { raw: { width: 4, height: 4, channels: 3 } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(dir, "a.png"), jpg); // wrong extension: the bytes decide
    fs.writeFileSync(path.join(dir, "b.png"), png);
    fs.writeFileSync(path.join(dir, "c.jpg"), "not an image");
    expect(imageMime(jpg)).toBe("image/jpeg");
    expect(imageDataUri(path.join(dir, "a.png"))).toBe(`data:image/jpeg;base64,${jpg.toString("base64")}`);
    expect(imageDataUri(path.join(dir, "b.png"))?.startsWith("data:image/png;base64,")).toBe(true);
    expect(imageDataUri(path.join(dir, "c.jpg"))).toBeNull();
    expect(imageDataUri(path.join(dir, "missing.jpg"))).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

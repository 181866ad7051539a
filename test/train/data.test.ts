import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import {
  denormalizeRgb,
  FrameLoader,
  IMAGENET_MEAN,
  IMAGENET_STD,
  loadImage,
  type MimBatch,
  PairLoader,
  parseCsv,
  readPairsCsv,
} from "../../src/train/data.js";
import { randomBytes } from "../helpers.js";

let ds = "";
const NPAIRS = 6;

/** A tiny mined-dataset layout: 6 pairs of 24x20 JPEGs (+ one solid PNG pair) and pairs.csv. */
beforeAll(async () => {
  ds = await mkdtemp(join(tmpdir(), "pairs-"));
  const lines = ["path1,path2,correspondence"];
  for (let i = 0; i < NPAIRS; i++) {
    const dir = join("synth", "vid", String(i).padStart(4, "0"));
    await mkdir(join(ds, dir), { recursive: true });
    for (const k of [0, 1]) {
      const px = randomBytes(24 * 20 * 3, 100 + 2 * i + k);
      await sharp(px, { raw: { width: 24, height: 20, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(join(ds, dir, `000${k}.jpg`));
    }
    await writeFile(join(ds, dir, "corresponding.json"), "{}");
    // quote one field to exercise the CSV parser
    lines.push(`${dir}/0000.jpg,${dir}/0001.jpg,"${dir}/corresponding.json"`);
  }
  await writeFile(join(ds, "pairs.csv"), `${lines.join("\n")}\n`);
});

const opts = (o: Partial<Parameters<typeof PairLoader.open>[0]> = {}) => ({ dataset: ds, imgSize: 16, batch: 2, seed: 5, ...o });

async function collect(it: AsyncGenerator<MimBatch>): Promise<MimBatch[]> {
  const out: MimBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe("pairs.csv", () => {
  it("parses quoted fields (commas, quotes, newlines) and CRLF", () => {
    expect(parseCsv('a,b,c\r\n"x,1","say ""hi""","multi\nline"\n')).toEqual([
      ["a", "b", "c"],
      ["x,1", 'say "hi"', "multi\nline"],
    ]);
  });

  it("reads rows and reports missing files and columns clearly", async () => {
    const rows = await readPairsCsv(ds);
    expect(rows.length).toBe(NPAIRS);
    expect(rows[1].path2).toBe("synth/vid/0001/0001.jpg");
    expect(rows[1].correspondence).toBe("synth/vid/0001/corresponding.json");
    const bad = await mkdtemp(join(tmpdir(), "bad-"));
    await expect(readPairsCsv(bad)).rejects.toThrow(/cannot read .*pairs\.csv.*mimic mine/);
    await writeFile(join(bad, "pairs.csv"), "path1,corr\na,b\n");
    await expect(readPairsCsv(bad)).rejects.toThrow(/missing column\(s\) path2, correspondence/);
    await writeFile(join(bad, "pairs.csv"), "path1,path2,correspondence\na,b\n");
    await expect(readPairsCsv(bad)).rejects.toThrow(/line 2 has 2 fields, the header has 3/);
    await writeFile(join(bad, "pairs.csv"), "path1,path2,correspondence\na.jpg,b.jpg,c\n");
    await expect(PairLoader.open({ ...opts(), dataset: bad, batch: 1 })).rejects.toThrow(/2 of 2 image files are missing, e\.g\. .*a\.jpg/);
  });
});

describe("PairLoader / FrameLoader (src/train/data.ts)", () => {
  it("normalises with ImageNet mean/std exactly (solid PNG), and denormalises back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "solid-"));
    const f = join(dir, "s.png");
    await sharp({ create: { width: 10, height: 7, channels: 3, background: { r: 200, g: 30, b: 90 } } })
      .png()
      .toFile(f);
    const x = await loadImage(f, 8);
    expect(x.length).toBe(3 * 64);
    const want = [200, 30, 90].map((v, c) => Math.fround((v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]));
    for (let c = 0; c < 3; c++) for (let i = 0; i < 64; i++) expect(x[c * 64 + i]).toBe(want[c]);
    expect(Array.from(denormalizeRgb(x, 8).subarray(0, 3))).toEqual([200, 30, 90]);
    await expect(loadImage(join(dir, "nope.jpg"), 8)).rejects.toThrow(/cannot decode image .*nope\.jpg/);
  });

  it("worker-thread decoding equals in-process decoding; views swap as the seed says", async () => {
    const withWorkers = await PairLoader.open(opts({ workers: 2, prefetch: 2 }));
    const inProcess = await PairLoader.open(opts({ workers: 0 }));
    try {
      expect(withWorkers.batchesPerEpoch).toBe(3);
      const a = await collect(withWorkers.epoch(0));
      const b = await collect(inProcess.epoch(0));
      expect(a.length).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(a[i].view1.length).toBe(2 * 3 * 16 * 16);
        expect(Buffer.compare(Buffer.from(a[i].view1.buffer), Buffer.from(b[i].view1.buffer))).toBe(0);
        expect(Buffer.compare(Buffer.from(a[i].view2!.buffer), Buffer.from(b[i].view2!.buffer))).toBe(0);
        expect(Array.from(a[i].items)).toEqual(Array.from(b[i].items));
      }
      // every row visited once per epoch; some samples swapped, some not (seeded)
      expect(
        a
          .flatMap((x) => Array.from(x.items))
          .sort()
          .join(),
      ).toBe("0,1,2,3,4,5");
      const swaps = a.flatMap((x) => Array.from(x.swapped));
      expect(swaps.some((s) => s === 1) && swaps.some((s) => s === 0)).toBe(true);
      // view 1 is path2's image exactly when swapped
      const rows = withWorkers.rows;
      const first = a[0];
      for (let s = 0; s < first.B; s++) {
        const r = rows[first.items[s]];
        const p = first.swapped[s] ? r.path2 : r.path1;
        const img = await loadImage(join(ds, p), 16);
        expect(Buffer.compare(Buffer.from(first.view1.slice(s * 768, (s + 1) * 768).buffer), Buffer.from(img.buffer))).toBe(0);
      }
    } finally {
      await withWorkers.close();
      await inProcess.close();
    }
  });

  it("is deterministic per seed; epochs reorder; resuming mid-epoch yields the same batches", async () => {
    const l = await PairLoader.open(opts({ workers: 1 }));
    const m = await PairLoader.open(opts({ workers: 0, seed: 6 }));
    try {
      expect(Array.from(l.order(0))).toEqual(Array.from(l.order(0)));
      expect(Array.from(l.order(0))).not.toEqual(Array.from(l.order(1)));
      expect(Array.from(l.order(0)).concat(Array.from(l.swaps(0)))).not.toEqual(Array.from(m.order(0)).concat(Array.from(m.swaps(0))));
      const full = await collect(l.epoch(1));
      const tail = await collect(l.epoch(1, 1));
      expect(tail.map((b) => b.index)).toEqual([1, 2]);
      for (let i = 0; i < 2; i++) expect(Buffer.compare(Buffer.from(tail[i].view1.buffer), Buffer.from(full[i + 1].view1.buffer))).toBe(0);
      const one = await l.batchAt(1, 2);
      expect(Buffer.compare(Buffer.from(one.view2!.buffer), Buffer.from(full[2].view2!.buffer))).toBe(0);
    } finally {
      await l.close();
      await m.close();
    }
  });

  it("FrameLoader serves every distinct frame once per epoch as single images", async () => {
    const f = await FrameLoader.open(opts({ batch: 4, workers: 1 }));
    try {
      expect(f.size).toBe(2 * NPAIRS);
      const bs = await collect(f.epoch(0));
      expect(bs.length).toBe(3);
      expect(bs[0].view2).toBeNull();
      expect(bs[0].view1.length).toBe(4 * 3 * 16 * 16);
      expect(new Set(bs.flatMap((b) => Array.from(b.items))).size).toBe(12);
    } finally {
      await f.close();
    }
  });

  it("a corrupt image fails its batch with the file name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "corrupt-"));
    await writeFile(join(dir, "a.jpg"), "not a jpeg");
    await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } })
      .jpeg()
      .toFile(join(dir, "b.jpg"));
    await writeFile(join(dir, "pairs.csv"), "path1,path2,correspondence\na.jpg,b.jpg,x\n");
    const l = await PairLoader.open({ dataset: dir, imgSize: 8, batch: 1, seed: 1, workers: 1 });
    try {
      await expect(collect(l.epoch(0))).rejects.toThrow(/cannot decode image .*a\.jpg/);
    } finally {
      await l.close();
    }
  });
});

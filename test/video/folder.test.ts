// listVideos() over a folder tree / list file, and forEachVideo(): one broken file is recorded per
// file while the other videos of the folder are still decoded.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeFrames } from "../../src/video/decode.js";
import { forEachVideo, listVideos, videoIdOf } from "../../src/video/folder.js";
import { VideoError } from "../../src/video/probe.js";
import { ffmpeg } from "./gen.js";

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-folder-"));
  const p = (rel: string) => {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    return abs;
  };
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=32x24:rate=5:duration=2", "-c:v", "mpeg4", p("a/clip one.mp4")]);
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=32x24:rate=5:duration=2", "-c:v", "mjpeg", p("b/deep/c.MOV")]);
  fs.copyFileSync(path.join(root, "a/clip one.mp4"), p("b/z.m4v"));
  fs.writeFileSync(p("a/broken.mkv"), "not a video at all\n");
  fs.writeFileSync(p("a/readme.txt"), "notes");
  fs.writeFileSync(p("b/frame.jpg"), "x");
  fs.mkdirSync(p("dir.mp4/inner"), { recursive: true }); // a directory named like a video: searched, not a video
  fs.copyFileSync(path.join(root, "a/clip one.mp4"), p("dir.mp4/inner/d.webm.mp4"));
  fs.writeFileSync(p(".hidden.mp4"), "");
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("listVideos", () => {
  it("finds videos recursively by extension (case-insensitive), counts the rest as ignored, searches directories named x.mp4", () => {
    const l = listVideos(root);
    expect(l.videos.map((v) => v.rel)).toEqual(["a/broken.mkv", "a/clip one.mp4", "b/deep/c.MOV", "b/z.m4v", "dir.mp4/inner/d.webm.mp4"]);
    expect(l.ignored.sort()).toEqual(["a/readme.txt", "b/frame.jpg"]);
    expect(l.errors).toEqual([]);
    expect(l.videos.every((v) => path.isAbsolute(v.path) && fs.statSync(v.path).isFile())).toBe(true);
    expect(l.videos.map((v) => v.id)).toEqual(["a_broken", "a_clip_one", "b_deep_c", "b_z", "dir.mp4_inner_d.webm"]);
  });

  it("reads a list file (paths relative to it, comments, missing entries reported)", () => {
    const list = path.join(root, "list.txt");
    fs.writeFileSync(list, "# my videos\nb/z.m4v\n\na/clip one.mp4  # first\na/readme.txt\nnope.mp4\ndir.mp4\n");
    const l = listVideos(list);
    expect(l.videos.map((v) => v.rel)).toEqual(["a/clip one.mp4", "b/z.m4v"]);
    expect(l.ignored).toEqual(["a/readme.txt"]);
    expect(l.errors.map((e) => e.code)).toEqual(["missing", "directory"]);
    expect(l.errors[0].message).toMatch(/nope\.mp4.*line 6/);
  });

  it("a list file naming one video twice (also as ./x or through a symlink) lists it once", () => {
    const list = path.join(root, "dups.txt");
    fs.symlinkSync(path.join(root, "b/z.m4v"), path.join(root, "z-link.m4v"));
    fs.writeFileSync(list, "b/z.m4v\nb/z.m4v\n./b/z.m4v\nz-link.m4v\na/clip one.mp4\n");
    const l = listVideos(list);
    expect(l.videos.map((v) => v.rel)).toEqual(["a/clip one.mp4", "b/z.m4v"]);
    expect(l.ignored).toEqual([
      "b/z.m4v (line 2: the video of line 1 again)",
      "./b/z.m4v (line 3: the video of line 1 again)",
      "z-link.m4v (line 4: the video of line 1 again)",
    ]);
    fs.rmSync(path.join(root, "z-link.m4v"));
  });

  it("a missing source is a VideoError naming it", () => {
    expect(() => listVideos(path.join(root, "nowhere"))).toThrow(VideoError);
    expect(() => listVideos(path.join(root, "nowhere"))).toThrow(/nowhere: no such folder/);
  });

  it("video ids are path-safe", () => {
    expect(videoIdOf('x/y z/"q".mp4')).toBe("x_y_z_q_");
    expect(videoIdOf("é中.webm")).toBe("é中");
  });
});

describe("forEachVideo", () => {
  it("one broken file in a folder does not stop decoding the others; its error is collected with the file", async () => {
    const l = listVideos(root);
    const res = await forEachVideo(
      l.videos,
      async (video) => {
        let n = 0;
        for await (const f of decodeFrames(video.path, { videoId: video.id, sampling: { kind: "interval", seconds: 1 } })) {
          expect(f.videoId).toBe(video.id);
          n++;
        }
        return n;
      },
      { concurrency: 2 },
    );
    expect(res.failed.map((f) => f.video.rel)).toEqual(["a/broken.mkv"]);
    const err = res.failed[0].error as VideoError;
    expect(err).toBeInstanceOf(VideoError);
    expect(err.code).toBe("not-video");
    expect(err.message).toContain(path.join(root, "a/broken.mkv"));
    expect(res.ok.map((o) => [o.video.rel, o.value])).toEqual([
      ["a/clip one.mp4", 2],
      ["b/deep/c.MOV", 2],
      ["b/z.m4v", 2],
      ["dir.mp4/inner/d.webm.mp4", 2],
    ]);
  });
});

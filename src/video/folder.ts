// Finding the videos of a source (a folder, searched recursively, or a list file), and running a
// per-video job over them so that one broken file is recorded and the others still run. With
// `sequences`, a folder holding two or more images (jpg, png) is one more "video": a frame sequence.
import fs from "node:fs";
import path from "node:path";
import { VideoError } from "./probe.js";
import { type FrameSequence, IMAGE_EXTENSIONS, imageFiles, sequenceOf } from "./sequence.js";

/** File extensions (lower-case, with the dot) taken as videos. */
export const VIDEO_EXTENSIONS: readonly string[] = [".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"];

export interface VideoEntry {
  /** Path to open (absolute). */
  path: string;
  /** Path relative to the folder (or as written in the list file), '/'-separated. */
  rel: string;
  /** A video id usable as a directory name: `rel` without extension, '/' and unsafe characters -> '_'. */
  id: string;
  /** Set when the entry is a folder of frames rather than a video file (`path` is the folder). */
  sequence?: FrameSequence;
}

export interface VideoList {
  /** The folder or list file given. */
  source: string;
  /** Videos in a stable order (sorted by rel). */
  videos: VideoEntry[];
  /** Files that are not videos by extension (relative paths), for the stats. */
  ignored: string[];
  /** Entries that could not be listed (unreadable folder, a list line naming a missing file). */
  errors: VideoError[];
}

export interface ListOptions {
  /** Default VIDEO_EXTENSIONS. */
  extensions?: readonly string[];
  /**
   * Take folders of two or more images as frame sequences (a listed folder too; the input folder
   * itself is one when it holds images, named by its base name). Default false: images are ignored.
   */
  sequences?: boolean;
}

/** Fewest images a folder needs to be a sequence (one frame makes no pair). */
export const MIN_SEQUENCE_FRAMES = 2;

/** `rel` without extension and with characters unsafe in a path component replaced by '_'. */
export function videoIdOf(rel: string): string {
  const noExt = rel.slice(0, rel.length - path.extname(rel).length);
  return noExt.replace(/[/\\:*?"<>|\s]+/g, "_").replace(/^\.+/, "_") || "_";
}

/**
 * List the videos under a folder (recursively, following symlinks once; hidden entries skipped), or
 * the videos named in a text file (one path per line, relative to the file; '#' starts a comment).
 * A directory named like a video (x.mp4/) is searched, not taken as a video. Throws VideoError only
 * when `source` itself is missing or unreadable.
 */
export function listVideos(source: string, opts: ListOptions = {}): VideoList {
  const exts = new Set((opts.extensions ?? VIDEO_EXTENSIONS).map((e) => e.toLowerCase()));
  const out: VideoList = { source, videos: [], ignored: [], errors: [] };
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new VideoError("missing", source, "no such folder or list file", "check the path");
  }
  const isVideo = (p: string) => exts.has(path.extname(p).toLowerCase());
  const isImage = (p: string) => Boolean(opts.sequences) && IMAGE_EXTENSIONS.includes(path.extname(p).toLowerCase());
  const add = (abs: string, rel: string) => out.videos.push({ path: abs, rel, id: videoIdOf(rel) });
  const addSequence = (abs: string, rel: string, sequence: FrameSequence) =>
    out.videos.push({
      path: abs,
      rel,
      id: rel.replace(/[/\\:*?"<>|\s]+/g, "_").replace(/^\.+/, "_") || "_",
      sequence,
    });

  if (st.isFile()) {
    if (isVideo(source))
      throw new VideoError("not-video", source, "is a video, not a folder or list file", "pass its folder, or decode it directly");
    const base = path.dirname(path.resolve(source));
    const lines = fs.readFileSync(source, "utf8").split(/\r?\n/);
    // A video listed again (the same line, ./x, a symlink to it) is mined once: twice would write
    // its pairs into one folder twice over and list them twice in the manifests.
    const firstLine = new Map<string, number>();
    lines.forEach((line, i) => {
      const entry = line.replace(/#.*/, "").trim();
      if (!entry) return;
      const abs = path.resolve(base, entry);
      let s: fs.Stats | null = null;
      try {
        s = fs.statSync(abs);
      } catch {}
      if (!s) {
        out.errors.push(new VideoError("missing", abs, `listed on line ${i + 1} of ${source} but does not exist`, "fix the list"));
        return;
      }
      const real = fs.realpathSync(abs);
      const first = firstLine.get(real);
      if (first !== undefined) {
        out.ignored.push(`${entry} (line ${i + 1}: the video of line ${first} again)`);
        return;
      }
      firstLine.set(real, i + 1);
      if (s.isDirectory() && opts.sequences) {
        const names = imageFiles(abs) ?? [];
        if (names.length >= MIN_SEQUENCE_FRAMES)
          addSequence(abs, entry.split(path.sep).join("/").replace(/\/+$/, ""), sequenceOf(abs, names));
        else
          out.errors.push(
            new VideoError(
              "directory",
              abs,
              `listed on line ${i + 1} of ${source} is a folder with ${names.length} image(s)`,
              "list video files or folders of 2+ frames",
            ),
          );
      } else if (s.isDirectory())
        out.errors.push(new VideoError("directory", abs, `listed on line ${i + 1} of ${source} is a directory`, "list video files"));
      else if (!isVideo(abs)) out.ignored.push(entry);
      else add(abs, entry.split(path.sep).join("/"));
    });
    out.videos.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    return out;
  }

  const root = path.resolve(source);
  const seen = new Set<string>();
  const walk = (dir: string, rel: string) => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return; // symlink loop
    seen.add(real);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch (e) {
      out.errors.push(new VideoError("unreadable", dir, `cannot list (${(e as NodeJS.ErrnoException).code})`, "check its permissions"));
      return;
    }
    const images: string[] = [];
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let s: fs.Stats;
      try {
        s = fs.statSync(abs);
      } catch {
        out.errors.push(new VideoError("missing", abs, "broken symlink", "remove it or fix its target"));
        continue;
      }
      if (s.isDirectory()) walk(abs, r);
      else if (s.isFile() && isVideo(name)) add(abs, r);
      else if (s.isFile() && isImage(name)) images.push(name);
      else out.ignored.push(r);
    }
    // A folder of 16-bit single-channel PNGs is depth (TUM, ScanNet, ARKitScenes export it beside
    // the colour frames), not a sequence to mine; listing it explicitly still mines it.
    const seq = images.length >= MIN_SEQUENCE_FRAMES ? sequenceOf(dir, images) : null;
    if (seq && !isDepthPng(path.join(dir, seq.files[0]))) addSequence(dir, rel || path.basename(root), seq);
    else for (const name of images) out.ignored.push(rel ? `${rel}/${name}` : name);
  };
  walk(root, "");
  out.videos.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

/** Whether `file` is a 16-bit grayscale PNG (a depth map), from its IHDR chunk. */
export function isDepthPng(file: string): boolean {
  const head = Buffer.alloc(26);
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, "r");
    if (fs.readSync(fd, head, 0, 26, 0) < 26) return false;
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  const png = head.readUInt32BE(0) === 0x89504e47 && head.toString("latin1", 12, 16) === "IHDR";
  return png && head[24] === 16 && head[25] === 0;
}

export interface PerVideoResult<T> {
  ok: Array<{ video: VideoEntry; value: T }>;
  failed: Array<{ video: VideoEntry; error: Error }>;
}

/**
 * Run `job` on every video, `concurrency` at a time (default 1), collecting failures per file instead
 * of stopping: one broken video never stops the others. Results keep the input order.
 */
export async function forEachVideo<T>(
  videos: VideoEntry[],
  job: (video: VideoEntry) => Promise<T>,
  opts: { concurrency?: number; onError?: (video: VideoEntry, error: Error) => void } = {},
): Promise<PerVideoResult<T>> {
  const slots: Array<{ value?: T; error?: Error; done: boolean }> = videos.map(() => ({ done: false }));
  let next = 0;
  const worker = async () => {
    while (next < videos.length) {
      const i = next++;
      try {
        slots[i].value = await job(videos[i]);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        slots[i].error = err;
        opts.onError?.(videos[i], err);
      }
      slots[i].done = true;
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 1, videos.length));
  await Promise.all(Array.from({ length: n }, worker));
  const res: PerVideoResult<T> = { ok: [], failed: [] };
  slots.forEach((s, i) => {
    if (s.error) res.failed.push({ video: videos[i], error: s.error });
    else res.ok.push({ video: videos[i], value: s.value as T });
  });
  return res;
}

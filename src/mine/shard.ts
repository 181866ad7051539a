// Stable identities for videos: an id usable as a folder name, and the shard a video belongs to.
// Both derive from the video's path relative to the input root, so every machine of a sharded run
// (a Slurm array, a Kubernetes Indexed Job) agrees without talking to the others.
import { createHash } from "node:crypto";

/** 64 bits of SHA-1 of the relative path, as a hex string. */
export function stableHash(relPath: string): string {
  return createHash("sha1").update(relPath.split("\\").join("/")).digest("hex").slice(0, 16);
}

/** Folder-safe id: the file stem with odd characters replaced, plus 8 hex of the path's hash. */
export function videoId(relPath: string): string {
  const base = relPath.split(/[\\/]/).pop() ?? relPath;
  const stem = base.replace(/\.[^.]+$/, "");
  const safe =
    stem
      .normalize("NFKD")
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .replace(/^[._]+/, "")
      .slice(0, 48) || "video";
  return `${safe}-${stableHash(relPath).slice(0, 8)}`;
}

export interface Shard {
  index: number; // 0-based
  count: number;
}

/** Parse 'i/N' (0 <= i < N). */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`--shard must look like i/N (e.g. 0/4), got '${s}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new Error(`--shard ${s}: need 0 <= i < N`);
  return { index, count };
}

/** Whether the video at relPath falls in the shard (hash mod N). */
export function inShard(relPath: string, shard: Shard | null): boolean {
  if (!shard || shard.count === 1) return true;
  const h = BigInt(`0x${stableHash(relPath)}`);
  return Number(h % BigInt(shard.count)) === shard.index;
}

/** Byte-order comparison (locale independent), for deterministic video order everywhere. */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// Progress of a mining run, inside the current video as well as across videos, for a caller's
// callback (the CLI draws its bar from it; library code never prints).
//
// Expected samples per video: a frame folder's are counted exactly (its sampled frames); a video's
// come from its probed duration (ffprobe in the background, one video at a time, ahead of the
// miner); videos not probed yet count as the mean of the probed ones. A finished video counts
// what it really gave. ETA = samples still expected / samples per second so far.
import type { VideoEntry } from "../video/folder.js";
import { probeVideo } from "../video/probe.js";
import { sampleSequence } from "../video/sequence.js";

/** One progress report (MineOptions.onProgress). */
export interface MineProgress {
  /** Videos (and frame folders) finished in this run, and to do in all. */
  videosDone: number;
  videos: number;
  /** The video being mined (relative path), or null before the first and after the last. */
  video: string | null;
  /** Within that video: samples decoded, samples expected (null: not probed yet), candidates verified, pairs kept. */
  videoSamples: number;
  videoSamplesExpected: number | null;
  videoCandidates: number;
  videoKept: number;
  /** The run: samples decoded, samples expected (estimate), candidates verified, pairs kept. */
  frames: number;
  framesExpected: number;
  candidates: number;
  kept: number;
  /** Candidate pairs verified per second, and kept pairs per second, since the run started. */
  candidatesPerSec: number;
  keptPerSec: number;
  /** Seconds left at the run's sample rate so far (null until a sample is decoded). */
  etaSec: number | null;
}

/**
 * Samples an interval sampling takes from `durationSec` of video: one per target 0, s, 2s, ...
 * before the end (the last frame starts one frame before it). An estimate: a video may start late.
 */
export function expectedSamples(durationSec: number, everySec: number): number {
  return Math.max(1, Math.ceil(durationSec / everySec - 1e-6));
}

/** Tracks a run's counts and estimates; `emit` is called with each report. */
export class RunProgress {
  private readonly expected: Array<number | null>;
  private readonly actual: Array<number | null>;
  private readonly t0 = performance.now();
  private done = 0;
  private current = -1;
  private base = { frames: 0, candidates: 0, kept: 0 };
  private inVideo = { samples: 0, candidates: 0, kept: 0 };
  private stopped = false;

  constructor(
    private readonly todo: VideoEntry[],
    everySec: number,
    /** A frame folder's frame times (sequenceTimes), by relative path. */
    times: Map<string, number[]>,
    private readonly emit: ((p: MineProgress) => void) | undefined,
  ) {
    this.expected = todo.map((v) => {
      const t = times.get(v.rel);
      return t ? sampleSequence(t, { kind: "interval", seconds: everySec }).length : null;
    });
    this.actual = todo.map(() => null);
    if (emit) void this.probe(everySec);
  }

  /** Probe the videos' durations in order, one at a time; a failing probe leaves the estimate. */
  private async probe(everySec: number): Promise<void> {
    for (const [i, v] of this.todo.entries()) {
      if (this.stopped) return;
      if (this.expected[i] !== null || v.sequence) continue;
      try {
        const info = await probeVideo(v.path);
        if (info.durationSec !== null) this.expected[i] = expectedSamples(info.durationSec, everySec);
      } catch {
        // the miner reports the broken video
      }
    }
  }

  start(i: number): void {
    this.current = i;
    this.inVideo = { samples: 0, candidates: 0, kept: 0 };
    this.report();
  }

  /** Counts so far within the current video. */
  batch(samples: number, candidates: number, kept: number): void {
    this.inVideo = { samples, candidates, kept };
    this.report();
  }

  /** The current video finished (or failed) with these counts. */
  finish(frames: number, candidates: number, kept: number): void {
    this.actual[this.current] = frames;
    this.base = { frames: this.base.frames + frames, candidates: this.base.candidates + candidates, kept: this.base.kept + kept };
    this.inVideo = { samples: 0, candidates: 0, kept: 0 };
    this.done++;
    this.current = -1;
    this.report();
  }

  stop(): void {
    this.stopped = true;
  }

  /** The current report (also what `emit` receives). */
  snapshot(): MineProgress {
    const secs = Math.max((performance.now() - this.t0) / 1e3, 1e-9);
    const known = this.expected.filter((e): e is number => e !== null);
    const mean = known.length ? known.reduce((a, b) => a + b, 0) / known.length : 0;
    let framesExpected = 0;
    for (let i = 0; i < this.todo.length; i++) {
      const a = this.actual[i];
      if (a !== null) framesExpected += a;
      else if (i === this.current) framesExpected += Math.max(this.expected[i] ?? mean, this.inVideo.samples);
      else framesExpected += this.expected[i] ?? mean;
    }
    framesExpected = Math.round(framesExpected);
    const frames = this.base.frames + this.inVideo.samples;
    const candidates = this.base.candidates + this.inVideo.candidates;
    const kept = this.base.kept + this.inVideo.kept;
    const rate = frames / secs;
    return {
      videosDone: this.done,
      videos: this.todo.length,
      video: this.current >= 0 ? this.todo[this.current].rel : null,
      videoSamples: this.inVideo.samples,
      videoSamplesExpected: this.current >= 0 ? this.expected[this.current] : null,
      videoCandidates: this.inVideo.candidates,
      videoKept: this.inVideo.kept,
      frames,
      framesExpected: Math.max(framesExpected, frames),
      candidates,
      kept,
      candidatesPerSec: candidates / secs,
      keptPerSec: kept / secs,
      etaSec: frames > 0 ? Math.max(0, framesExpected - frames) / rate : null,
    };
  }

  private report(): void {
    this.emit?.(this.snapshot());
  }
}

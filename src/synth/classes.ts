// The fixed semantic label set of the synthetic scenes. Ids are 1-based; 0 means unlabelled (no
// surface: a pixel where nothing was drawn). labels/*.png store these ids as 8-bit values, as
// ADE20K does; classes.json in a synth dataset lists them with a display colour.

export interface SynthClass {
  /** 1-based class id stored in labels/*.png (0 = unlabelled). */
  id: number;
  name: string;
  /** Display colour for visualisations (RGB, 0..255). */
  color: [number, number, number];
}

export const SYNTH_CLASSES: readonly SynthClass[] = [
  { id: 1, name: "wall", color: [174, 199, 232] },
  { id: 2, name: "floor", color: [152, 223, 138] },
  { id: 3, name: "ceiling", color: [255, 187, 120] },
  { id: 4, name: "door", color: [140, 86, 75] },
  { id: 5, name: "picture", color: [214, 39, 40] },
  { id: 6, name: "table", color: [255, 127, 14] },
  { id: 7, name: "chair", color: [44, 160, 44] },
  { id: 8, name: "shelf", color: [148, 103, 189] },
  { id: 9, name: "cabinet", color: [31, 119, 180] },
  { id: 10, name: "sofa", color: [227, 119, 194] },
  { id: 11, name: "lamp", color: [188, 189, 34] },
  { id: 12, name: "plant", color: [23, 190, 207] },
  { id: 13, name: "clutter", color: [127, 127, 127] },
] as const;

/** Class ids by name (e.g. CLASS.table === 6). */
export const CLASS = Object.fromEntries(SYNTH_CLASSES.map((c) => [c.name, c.id])) as Record<
  "wall" | "floor" | "ceiling" | "door" | "picture" | "table" | "chair" | "shelf" | "cabinet" | "sofa" | "lamp" | "plant" | "clutter",
  number
>;

/** The classes.json written next to a synth dataset. */
export function classesJson(): { unlabelled: number; classes: readonly SynthClass[] } {
  return { unlabelled: 0, classes: SYNTH_CLASSES };
}

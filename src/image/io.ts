// Image files through sharp: read any JPEG/PNG (or anything sharp reads) to RGB bytes, write
// JPEG and 8/16-bit PNG.
import sharp from "sharp";

export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array; // (H, W, 3)
}

/** Decode an image file (EXIF orientation applied, alpha dropped) to 8-bit RGB. */
export async function readRgb(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new Error(`cannot read image ${file}: ${(e as Error).message}. Is it a valid JPEG/PNG?`);
  }
}

/** Decode a single-channel PNG (8- or 16-bit) to its raw values, e.g. depth in mm or label ids. */
export async function readGray(file: string): Promise<{ width: number; height: number; data: Uint8Array | Uint16Array }> {
  try {
    const img = sharp(file);
    const meta = await img.metadata();
    const sixteen = meta.depth === "ushort";
    const { data, info } = await img
      .extractChannel(0)
      .toColourspace(sixteen ? "grey16" : "b-w")
      .raw({ depth: sixteen ? "ushort" : "uchar" })
      .toBuffer({ resolveWithObject: true });
    const values = sixteen
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { width: info.width, height: info.height, data: values };
  } catch (e) {
    throw new Error(`cannot read single-channel image ${file}: ${(e as Error).message}`);
  }
}

/** Encode RGB bytes as JPEG (quality 1..100). */
export async function encodeJpeg(img: RgbImage, quality = 95): Promise<Buffer> {
  return sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: "4:4:4" })
    .toBuffer();
}

export async function writeJpeg(file: string, img: RgbImage, quality = 95): Promise<void> {
  await sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: "4:4:4" })
    .toFile(file)
    .catch(writeFailed(file));
}

/** sharp's write errors do not name the file ("wbuffer_write: write failed"): say which, and why it may be. */
const writeFailed = (file: string) => (e: Error) => {
  throw new Error(`cannot write ${file}: ${e.message}. Fix: check that its folder exists and is writable, and that the disk has room`);
};

/** Write RGB (3 channels) or one channel (8-bit Uint8Array, 16-bit Uint16Array) as PNG. */
export async function writePng(
  file: string,
  width: number,
  height: number,
  data: Uint8Array | Uint16Array,
  channels: 1 | 3 = 3,
): Promise<void> {
  if (data.length !== width * height * channels)
    throw new Error(`writePng ${file}: ${data.length} values for ${width}x${height}x${channels}`);
  if (data instanceof Uint16Array) {
    // sharp takes the pixel depth of raw input from the typed array (Uint16Array -> ushort).
    await sharp(data, { raw: { width, height, channels } })
      .toColourspace(channels === 1 ? "grey16" : "rgb16")
      .png({ compressionLevel: 6 })
      .toFile(file)
      .catch(writeFailed(file));
  } else {
    const img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
    // Without 'b-w', sharp writes one raw channel as an RGB PNG.
    await (channels === 1 ? img.toColourspace("b-w") : img).png({ compressionLevel: 6 }).toFile(file).catch(writeFailed(file));
  }
}

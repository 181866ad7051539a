// WebGPU renderer for synthetic scenes (shaders/render/scene.wgsl).
//
// Per frame two render passes over the scene's triangles:
//   1. colour: rgba8unorm, MSAA 4x with a depth32float MSAA depth buffer, resolved into a
//      single-sample texture;
//   2. truth: r32float camera-space depth (metres) and r8uint class id, single sample, own depth
//      buffer (so depth and labels are exact per pixel centre, never blended).
// The three results are copied into one mappable buffer per batch (rows padded to 256 bytes) and
// read back together; `render(cams)` processes `batch` frames per submit.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { Gpu } from "../gpu/device.js";
import { shaderSource } from "../gpu/kernel.js";
import { clipFromCamera, type Intrinsics, invertRigid, mul4 } from "./camera.js";
import { type Light, type SceneMesh, VERTEX_BYTES } from "./scene.js";

export interface CameraView {
  K: Intrinsics;
  /** World-from-camera, row-major 4x4, OpenCV axes. */
  worldFromCam: ArrayLike<number>;
}

export interface RenderedFrame {
  width: number;
  height: number;
  rgb: Uint8Array; // (H, W, 3)
  depth: Float32Array; // (H, W) metres along the camera z axis; 0 where nothing was drawn
  labels: Uint8Array; // (H, W) class ids, 0 = nothing drawn
}

export interface RenderOptions {
  /** Frames rendered per submit / readback (default 8). */
  batch?: number;
  /** MSAA sample count for RGB: 1 or 4 (default 4). */
  samples?: 1 | 4;
  /** Lights (world positions, intensities) and ambient term of the scene. */
  lights?: Light[];
  ambient?: number;
  exposure?: number;
  /** Images for TEXTURE.image materials (loadImageLayers); default one white texel. */
  images?: ImageLayers;
}

/** Equal-size RGBA images stacked as the layers of a texture array. */
export interface ImageLayers {
  width: number;
  height: number;
  layers: number;
  rgba: Uint8Array; // (layers, H, W, 4)
}

const FRAME_UNIFORM_BYTES = 256; // one slot per frame (dynamic offsets need 256-byte alignment)
const align256 = (n: number) => Math.ceil(n / 256) * 256;

export class SceneRenderer {
  readonly width: number;
  readonly height: number;
  readonly batch: number;
  private gpu: Gpu;
  private vertexBuffer: GPUBuffer;
  private vertexCount: number;
  private uniforms: GPUBuffer;
  private bindGroup: GPUBindGroup;
  private imageTex: GPUTexture;
  private colorPipe: GPURenderPipeline;
  private truthPipe: GPURenderPipeline;
  private msaa: GPUTexture | null;
  private msaaDepth: GPUTexture;
  private color: GPUTexture;
  private depthTex: GPUTexture;
  private labelTex: GPUTexture;
  private truthDepth: GPUTexture;
  private readbackBuf: GPUBuffer;
  private rowRgba: number;
  private rowDepth: number;
  private rowLabel: number;
  private frameBytes: number;
  private lights: Light[];
  private ambient: number;
  private exposure: number;
  private samples: number;

  constructor(gpu: Gpu, mesh: SceneMesh, width: number, height: number, opts: RenderOptions = {}) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new Error(`SceneRenderer: bad size ${width}x${height}`);
    if (mesh.vertexCount === 0) throw new Error("SceneRenderer: the scene mesh has no triangles");
    this.gpu = gpu;
    this.width = width;
    this.height = height;
    this.batch = Math.max(1, opts.batch ?? 8);
    this.samples = opts.samples ?? 4;
    this.lights = opts.lights ?? [];
    this.ambient = opts.ambient ?? 0.3;
    this.exposure = opts.exposure ?? 0.9;
    const { device } = gpu;

    this.vertexCount = mesh.vertexCount;
    this.vertexBuffer = device.createBuffer({
      label: "synth vertices (V, 18 words)",
      size: Math.ceil(mesh.data.byteLength / 4) * 4,
      usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(this.vertexBuffer, 0, mesh.data);

    this.uniforms = device.createBuffer({
      label: "synth frame uniforms (batch, 256 B)",
      size: FRAME_UNIFORM_BYTES * this.batch,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const bgl = device.createBindGroupLayout({
      label: "synth frame layout",
      entries: [
        {
          binding: 0,
          visibility: GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT,
          buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: 208 },
        },
        { binding: 1, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: "float", viewDimension: "2d-array" } },
        { binding: 2, visibility: GPUShaderStage.FRAGMENT, sampler: { type: "filtering" } },
      ],
    });
    const img = opts.images ?? { width: 1, height: 1, layers: 1, rgba: new Uint8Array([255, 255, 255, 255]) };
    if (img.rgba.length !== img.width * img.height * img.layers * 4)
      throw new Error(`SceneRenderer: images hold ${img.rgba.length} bytes, expected ${img.width}x${img.height}x${img.layers}x4`);
    this.imageTex = device.createTexture({
      label: `synth images (${img.layers} layers)`,
      size: { width: img.width, height: img.height, depthOrArrayLayers: img.layers },
      format: "rgba8unorm",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture(
      { texture: this.imageTex },
      img.rgba,
      { bytesPerRow: img.width * 4, rowsPerImage: img.height },
      { width: img.width, height: img.height, depthOrArrayLayers: img.layers },
    );
    const sampler = device.createSampler({
      label: "synth image sampler",
      addressModeU: "repeat",
      addressModeV: "repeat",
      magFilter: "linear",
      minFilter: "linear",
    });
    this.bindGroup = device.createBindGroup({
      label: "synth frame",
      layout: bgl,
      entries: [
        { binding: 0, resource: { buffer: this.uniforms, offset: 0, size: 208 } },
        { binding: 1, resource: this.imageTex.createView({ dimension: "2d-array" }) },
        { binding: 2, resource: sampler },
      ],
    });
    const layout = device.createPipelineLayout({ label: "synth render", bindGroupLayouts: [bgl] });
    const module = device.createShaderModule({ label: "render/scene.wgsl", code: shaderSource("render/scene.wgsl") });
    const vertex: GPUVertexState = {
      module,
      entryPoint: "vs_main",
      buffers: [
        {
          arrayStride: VERTEX_BYTES,
          attributes: [
            { shaderLocation: 0, offset: 0, format: "float32x3" },
            { shaderLocation: 1, offset: 12, format: "float32x3" },
            { shaderLocation: 2, offset: 24, format: "float32x2" },
            { shaderLocation: 3, offset: 32, format: "float32x3" },
            { shaderLocation: 4, offset: 44, format: "float32x3" },
            { shaderLocation: 5, offset: 56, format: "uint32x4" },
          ],
        },
      ],
    };
    const primitive: GPUPrimitiveState = { topology: "triangle-list", cullMode: "none" };
    const depthStencil: GPUDepthStencilState = { format: "depth32float", depthWriteEnabled: true, depthCompare: "less" };
    this.colorPipe = device.createRenderPipeline({
      label: "synth colour (MSAA)",
      layout,
      vertex,
      fragment: { module, entryPoint: "fs_color", targets: [{ format: "rgba8unorm" }] },
      primitive,
      depthStencil,
      multisample: { count: this.samples },
    });
    this.truthPipe = device.createRenderPipeline({
      label: "synth truth (depth, labels)",
      layout,
      vertex,
      fragment: { module, entryPoint: "fs_truth", targets: [{ format: "r32float" }, { format: "r8uint" }] },
      primitive,
      depthStencil,
    });

    const size = { width, height };
    const tex = (label: string, format: GPUTextureFormat, usage: number, sampleCount = 1) =>
      device.createTexture({ label, size, format, usage, sampleCount });
    const RA = GPUTextureUsage.RENDER_ATTACHMENT;
    this.msaa = this.samples > 1 ? tex("synth colour MSAA", "rgba8unorm", RA, this.samples) : null;
    this.msaaDepth = tex("synth colour depth buffer", "depth32float", RA, this.samples);
    this.color = tex("synth colour (resolved)", "rgba8unorm", RA | GPUTextureUsage.COPY_SRC);
    this.depthTex = tex("synth metric depth", "r32float", RA | GPUTextureUsage.COPY_SRC);
    this.labelTex = tex("synth class ids", "r8uint", RA | GPUTextureUsage.COPY_SRC);
    this.truthDepth = tex("synth truth depth buffer", "depth32float", RA);

    this.rowRgba = align256(width * 4);
    this.rowDepth = align256(width * 4);
    this.rowLabel = align256(width);
    this.frameBytes = (this.rowRgba + this.rowDepth + this.rowLabel) * height;
    this.readbackBuf = device.createBuffer({
      label: "synth readback (batch frames)",
      size: this.frameBytes * this.batch,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** The 208 bytes of one frame's uniform slot. */
  private frameUniform(view: CameraView): ArrayBuffer {
    const camFromWorld = invertRigid(view.worldFromCam);
    const clipFromWorld = mul4(clipFromCamera(view.K), camFromWorld);
    const f = new Float32Array(52);
    // column-major for WGSL
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < 4; c++) {
        f[c * 4 + r] = clipFromWorld[r * 4 + c];
        f[16 + c * 4 + r] = camFromWorld[r * 4 + c];
      }
    const T = view.worldFromCam;
    f.set([T[3], T[7], T[11], 1], 32);
    for (let i = 0; i < 3; i++) {
      const l = this.lights[i];
      if (l) f.set([l.position[0], l.position[1], l.position[2], l.intensity], 36 + i * 4);
    }
    f.set([this.ambient, this.exposure, 0, 0], 48);
    return f.buffer;
  }

  /** Render the views (any number; processed `batch` at a time). */
  async render(views: readonly CameraView[]): Promise<RenderedFrame[]> {
    const out: RenderedFrame[] = [];
    for (let i = 0; i < views.length; i += this.batch) out.push(...(await this.renderBatch(views.slice(i, i + this.batch))));
    return out;
  }

  private async renderBatch(views: readonly CameraView[]): Promise<RenderedFrame[]> {
    const { device } = this.gpu;
    for (const v of views)
      if (v.K.width !== this.width || v.K.height !== this.height)
        throw new Error(`SceneRenderer: camera intrinsics are for ${v.K.width}x${v.K.height}, renderer is ${this.width}x${this.height}`);
    const uni = new Uint8Array(FRAME_UNIFORM_BYTES * views.length);
    views.forEach((v, i) => {
      uni.set(new Uint8Array(this.frameUniform(v)), i * FRAME_UNIFORM_BYTES);
    });
    device.queue.writeBuffer(this.uniforms, 0, uni);
    const enc = device.createCommandEncoder({ label: "synth render batch" });
    const size = { width: this.width, height: this.height };
    views.forEach((_v, i) => {
      const offs = [i * FRAME_UNIFORM_BYTES];
      const colorAttachment: GPURenderPassColorAttachment = this.msaa
        ? {
            view: this.msaa.createView(),
            resolveTarget: this.color.createView(),
            clearValue: { r: 0, g: 0, b: 0, a: 1 },
            loadOp: "clear",
            storeOp: "discard",
          }
        : { view: this.color.createView(), clearValue: { r: 0, g: 0, b: 0, a: 1 }, loadOp: "clear", storeOp: "store" };
      const p1 = enc.beginRenderPass({
        label: "synth colour pass",
        colorAttachments: [colorAttachment],
        depthStencilAttachment: { view: this.msaaDepth.createView(), depthClearValue: 1, depthLoadOp: "clear", depthStoreOp: "discard" },
      });
      p1.setPipeline(this.colorPipe);
      p1.setBindGroup(0, this.bindGroup, offs);
      p1.setVertexBuffer(0, this.vertexBuffer);
      p1.draw(this.vertexCount);
      p1.end();
      const p2 = enc.beginRenderPass({
        label: "synth truth pass",
        colorAttachments: [
          { view: this.depthTex.createView(), clearValue: { r: 0, g: 0, b: 0, a: 0 }, loadOp: "clear", storeOp: "store" },
          { view: this.labelTex.createView(), clearValue: { r: 0, g: 0, b: 0, a: 0 }, loadOp: "clear", storeOp: "store" },
        ],
        depthStencilAttachment: { view: this.truthDepth.createView(), depthClearValue: 1, depthLoadOp: "clear", depthStoreOp: "discard" },
      });
      p2.setPipeline(this.truthPipe);
      p2.setBindGroup(0, this.bindGroup, offs);
      p2.setVertexBuffer(0, this.vertexBuffer);
      p2.draw(this.vertexCount);
      p2.end();
      const base = i * this.frameBytes;
      const H = this.height;
      enc.copyTextureToBuffer(
        { texture: this.color },
        { buffer: this.readbackBuf, offset: base, bytesPerRow: this.rowRgba, rowsPerImage: H },
        size,
      );
      enc.copyTextureToBuffer(
        { texture: this.depthTex },
        { buffer: this.readbackBuf, offset: base + this.rowRgba * H, bytesPerRow: this.rowDepth, rowsPerImage: H },
        size,
      );
      enc.copyTextureToBuffer(
        { texture: this.labelTex },
        { buffer: this.readbackBuf, offset: base + (this.rowRgba + this.rowDepth) * H, bytesPerRow: this.rowLabel, rowsPerImage: H },
        size,
      );
    });
    device.queue.submit([enc.finish()]);
    await this.readbackBuf.mapAsync(GPUMapMode.READ, 0, this.frameBytes * views.length);
    const all = new Uint8Array(this.readbackBuf.getMappedRange(0, this.frameBytes * views.length).slice(0));
    this.readbackBuf.unmap();
    this.gpu.check("rendering synthetic frames (render/scene.wgsl)");

    const W = this.width;
    const H = this.height;
    return views.map((_v, i) => {
      const base = i * this.frameBytes;
      const rgb = new Uint8Array(W * H * 3);
      const depth = new Float32Array(W * H);
      const labels = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) {
        const ro = base + y * this.rowRgba;
        for (let x = 0; x < W; x++) {
          const s = ro + x * 4;
          const d = (y * W + x) * 3;
          rgb[d] = all[s];
          rgb[d + 1] = all[s + 1];
          rgb[d + 2] = all[s + 2];
        }
        const dro = base + this.rowRgba * H + y * this.rowDepth;
        depth.set(new Float32Array(all.buffer, dro, W), y * W);
        const lro = base + (this.rowRgba + this.rowDepth) * H + y * this.rowLabel;
        labels.set(all.subarray(lro, lro + W), y * W);
      }
      return { width: W, height: H, rgb, depth, labels };
    });
  }

  /** Release the GPU objects. */
  destroy(): void {
    for (const t of [this.msaa, this.msaaDepth, this.color, this.depthTex, this.labelTex, this.truthDepth, this.imageTex]) t?.destroy();
    this.vertexBuffer.destroy();
    this.uniforms.destroy();
    this.readbackBuf.destroy();
  }
}

/**
 * Load image files (JPEG/PNG, sorted by name, at most `max`) as `size` x `size` RGBA layers for
 * TEXTURE.image materials. Files that do not decode are skipped and listed in `skipped`.
 */
export async function loadImageLayers(
  dir: string,
  size = 256,
  max = 64,
): Promise<{ images: ImageLayers; files: string[]; skipped: string[] }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--textures ${dir} is not a folder of images`);
  const names = fs
    .readdirSync(dir)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort();
  const files: string[] = [];
  const skipped: string[] = [];
  const layers: Buffer[] = [];
  for (const f of names) {
    if (layers.length >= max) break;
    try {
      const buf = await sharp(path.join(dir, f))
        .rotate()
        .resize(size, size, { fit: "cover" })
        .removeAlpha()
        .ensureAlpha(1)
        .raw()
        .toBuffer();
      layers.push(buf);
      files.push(f);
    } catch {
      skipped.push(f);
    }
  }
  if (layers.length === 0) throw new Error(`--textures ${dir}: no readable JPEG/PNG/WebP images`);
  const rgba = new Uint8Array(Buffer.concat(layers));
  return { images: { width: size, height: size, layers: layers.length, rgba }, files, skipped };
}

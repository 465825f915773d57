import { deflateSync } from 'node:zlib';
import { InvalidValueError, writeFileAtomic } from '@boltzmann/tensor';
import { crc32 } from './crc32.js';

/** An 8-bit image in memory: `channels` bytes per pixel (1 gray, 3 RGB), rows top to bottom. */
export interface RasterImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** width * height * channels bytes, row-major, channels interleaved. */
  pixels: Uint8Array;
}

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** PNG colour types for the two layouts we write. */
const COLOR_TYPE = { 1: 0, 3: 2 } as const;
/** The largest width or height PNG allows (2^31 - 1). */
const MAX_SIDE = 0x7fffffff;

/**
 * Encodes an 8-bit grayscale or RGB PNG: signature, IHDR, one zlib-compressed IDAT (every
 * scanline with filter type 0), IEND; each chunk carries its CRC-32.
 */
export function encodePng(image: RasterImage): Uint8Array {
  const { width, height, channels, pixels } = image;
  for (const [what, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw new InvalidValueError(`encodePng: ${what} must be an integer in [1, 2^31), got ${v}`);
  }
  if (channels !== 1 && channels !== 3) throw new InvalidValueError(`encodePng: channels must be 1 (gray) or 3 (RGB), got ${String(channels)}`);
  const stride = width * channels;
  if (!(pixels instanceof Uint8Array) || pixels.length !== stride * height) {
    throw new InvalidValueError(`encodePng: a ${width}x${height} image with ${channels} channel(s) needs ${stride * height} bytes, got ${pixels?.length}`);
  }

  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width, false);
  hv.setUint32(4, height, false);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE[channels];
  // compression 0, filter method 0, no interlace: bytes 10..12 stay 0.

  const scanlines = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) scanlines.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);

  const chunks = [chunk('IHDR', header), chunk('IDAT', deflateSync(scanlines)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(PNG_SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(PNG_SIGNATURE);
  let at = PNG_SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length, false);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)), false);
  return out;
}

/** Encodes `image` as PNG and writes it atomically (a reader never sees half a file). */
export function writePng(path: string, image: RasterImage): void {
  writeFileAtomic(path, encodePng(image));
}

// Checking an uploaded image: its type read from its content (never from the name or the header the
// client sent), its size and dimensions bounded, and re-encoded so no EXIF (camera, place, time) survives.
import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';

export interface ImageLimits {
  maxBytes: number;
  /** The longer side is scaled down to this many pixels. */
  maxSide: number;
  types: readonly string[];
}

export const PHOTO_LIMITS: ImageLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxSide: 2048,
  types: ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif'],
};

export type ImageProblem = 'empty' | 'too_large' | 'type' | 'unreadable';

export interface CleanImage {
  bytes: Buffer;
  contentType: 'image/jpeg';
  extension: 'jpg';
  width: number;
  height: number;
}

/** The image re-encoded as JPEG without metadata, or why it was refused. */
export async function cleanImage(
  input: Buffer,
  limits: ImageLimits = PHOTO_LIMITS,
): Promise<{ ok: true; image: CleanImage } | { ok: false; problem: ImageProblem; detail: string }> {
  if (input.length === 0) return { ok: false, problem: 'empty', detail: 'the file is empty' };
  if (input.length > limits.maxBytes)
    return { ok: false, problem: 'too_large', detail: `the file is over ${limits.maxBytes} bytes` };
  const type = await fileTypeFromBuffer(input);
  if (!type || !limits.types.includes(type.mime))
    return {
      ok: false,
      problem: 'type',
      detail: `the content is ${type?.mime ?? 'not a known type'}; send ${limits.types.join(', ')}`,
    };
  try {
    // rotate() applies the EXIF orientation before the metadata is dropped (sharp keeps none unless asked).
    const { data, info } = await sharp(input, { limitInputPixels: 60_000_000 })
      .rotate()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 82 })
      .toBuffer({ resolveWithObject: true });
    return {
      ok: true,
      image: { bytes: data, contentType: 'image/jpeg', extension: 'jpg', width: info.width, height: info.height },
    };
  } catch (err) {
    return { ok: false, problem: 'unreadable', detail: err instanceof Error ? err.message : String(err) };
  }
}

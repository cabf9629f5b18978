// Evidence files of a complaint: photos (re-encoded by the shared image cleaner, so no EXIF place or
// camera survives) and documents (PDF, Word, Excel) kept as sent. The type is read from the content,
// never from the name or the header; the bytes go to the shared storage interface (src/server/storage).
import { fileTypeFromBuffer } from 'file-type';
import { PHOTO_LIMITS, cleanImage } from '../../storage/images.js';

export const ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

const DOCUMENTS: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

export const ATTACHMENT_TYPES = [...PHOTO_LIMITS.types, ...Object.keys(DOCUMENTS)];

export type AttachmentProblem = 'empty' | 'too_large' | 'type' | 'unreadable';

export interface CheckedFile {
  bytes: Buffer;
  contentType: string;
  extension: string;
}

export async function checkAttachment(
  input: Buffer,
): Promise<{ ok: true; file: CheckedFile } | { ok: false; problem: AttachmentProblem; detail: string }> {
  if (input.length === 0) return { ok: false, problem: 'empty', detail: 'the file is empty' };
  if (input.length > ATTACHMENT_MAX_BYTES)
    return { ok: false, problem: 'too_large', detail: `a file may be at most ${ATTACHMENT_MAX_BYTES} bytes` };
  const type = await fileTypeFromBuffer(input);
  if (type && PHOTO_LIMITS.types.includes(type.mime)) {
    const img = await cleanImage(input, { ...PHOTO_LIMITS, maxBytes: ATTACHMENT_MAX_BYTES });
    if (!img.ok) return { ok: false, problem: img.problem, detail: img.detail };
    return { ok: true, file: { bytes: img.image.bytes, contentType: img.image.contentType, extension: 'jpg' } };
  }
  const ext = type ? DOCUMENTS[type.mime] : undefined;
  if (!type || !ext)
    return {
      ok: false,
      problem: 'type',
      detail: `the content is ${type?.mime ?? 'not a known type'}; send a photo (JPEG, PNG, WebP, HEIC) or a PDF, Word or Excel document`,
    };
  return { ok: true, file: { bytes: input, contentType: type.mime, extension: ext } };
}

// What an uploaded file may make the reader do. A spreadsheet is small on the wire and can be huge
// once read (a 1 MB XLSX can hold a gigabyte of shared strings, or a million rows that all point at
// one long string), so every amount of work or memory the reader spends on a file is bounded by a
// setting (config.ts), checked before the work is done, and a file past one is refused by name.
import { AppError } from '../../../errors.js';

export interface ImportLimits {
  /** Uncompressed size of the XLSX parts read, each shared-string reference counted at its string's length. */
  xlsxMb: number;
  /** Size of the shared-strings part (and of each other part read whole: workbook, relationships, styles). */
  sharedStringsMb: number;
  /** Characters in one cell (Excel's own limit is 32,767). */
  cellChars: number;
  /** Columns of one row. */
  columns: number;
  /** Rows below the header. */
  rows: number;
}

export type ImportLimitName = keyof ImportLimits | 'memoryMb';

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  xlsxMb: 1024,
  sharedStringsMb: 64,
  cellChars: 32_767,
  columns: 512,
  rows: 5_000_000,
};

/** The environment variable of each limit, as the README lists them. */
export const LIMIT_SETTINGS: Record<keyof ImportLimits, string> = {
  xlsxMb: 'IMPORT_MAX_XLSX_MB',
  sharedStringsMb: 'IMPORT_MAX_SHARED_STRINGS_MB',
  cellChars: 'IMPORT_MAX_CELL_CHARS',
  columns: 'IMPORT_MAX_COLUMNS',
  rows: 'IMPORT_MAX_ROWS',
};

const WHAT: Record<ImportLimitName, (v: number) => string> = {
  xlsxMb: (v) => `the workbook is larger than ${v} MB uncompressed`,
  sharedStringsMb: (v) => `the shared strings are larger than ${v} MB`,
  cellChars: (v) => `a cell is longer than ${v} characters`,
  columns: (v) => `a row has more than ${v} columns`,
  rows: (v) => `the file has more than ${v} rows`,
  memoryMb: (v) => `reading the file needs more than ${v} MB of memory`,
};

export interface LimitDetails {
  limit: ImportLimitName;
  value: number;
  /** The environment variable that sets it. */
  setting?: string;
  /** 1-based row of the file where the limit was reached, when there is one. */
  row?: number;
  /** The part of the workbook that was too large, when it is not the one the limit names. */
  part?: string;
}

/** A file past one of the limits. Plain data, so it crosses from the parse worker intact. */
export class ImportLimitError extends Error {
  constructor(readonly details: LimitDetails) {
    const at = details.row ? ` (row ${details.row})` : '';
    super(`the file exceeds an import limit: ${WHAT[details.limit](details.value)}${at}`);
    this.name = 'ImportLimitError';
  }
}

export function limitError(
  limits: ImportLimits,
  limit: keyof ImportLimits,
  extra: { row?: number; part?: string } = {},
): ImportLimitError {
  return new ImportLimitError({ limit, value: limits[limit], setting: LIMIT_SETTINGS[limit], ...extra });
}

/** A file that cannot be read as what it claims to be (a broken zip, malformed XML, no such sheet). */
export class FileFormatError extends Error {
  constructor(
    message: string,
    readonly field = 'body',
  ) {
    super(message);
    this.name = 'FileFormatError';
  }
}

export type SerialisedParseError =
  | { kind: 'limit'; details: LimitDetails }
  | { kind: 'format'; message: string; field: string }
  | { kind: 'other'; message: string };

export function serialiseParseError(err: unknown): SerialisedParseError {
  if (err instanceof ImportLimitError) return { kind: 'limit', details: err.details };
  if (err instanceof FileFormatError) return { kind: 'format', message: err.message, field: err.field };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

/** The error again on this side of the worker boundary. */
export function rehydrateParseError(s: SerialisedParseError): Error {
  if (s.kind === 'limit') return new ImportLimitError(s.details);
  if (s.kind === 'format') return new FileFormatError(s.message, s.field);
  return new Error(s.message);
}

/**
 * A reader's failure as the API reports it: a limit by name and value, an unreadable file as bad
 * input; anything else (a bug, a full disk) stays what it was.
 */
export function asAppError(err: unknown): unknown {
  if (err instanceof ImportLimitError) return new AppError('IMPORT_LIMIT_EXCEEDED', err.message, 'body', err.details);
  if (err instanceof FileFormatError) return new AppError('VALIDATION_FAILED', err.message, err.field);
  return err;
}

/**
 * Files and images shared in messages (issue 19, docs/protocol.md "Files"): upload one file
 * with `POST /api/v1/uploads` (XMLHttpRequest, for its progress events and `abort()`), then
 * send its id in `send_message {files}`; read it back at `/api/v1/files/<id>[/<variant>]`.
 * No UI. React Native's XMLHttpRequest takes a FormData part `{uri, name, type}` as a file.
 */

import { ApiError } from './accounts.js';
import { ERRORS, PATTERNS } from './generated/protocol.js';

/** How many files one message may share (the server's FILES_PER_MESSAGE). */
export const FILES_PER_MESSAGE = 10;

/** A stored upload, as `/api/v1/uploads` answers it and messages carry it in `files`. */
export interface FileEntry {
  /** 32 hex characters. */
  id: string;
  name: string;
  /** Bytes (of the stored file: images are re-encoded). */
  size: number;
  /** The MIME type the server found in the bytes. */
  type: string;
  kind: 'image' | 'file';
  /** Images only: the stored original's size in pixels. */
  width?: number;
  height?: number;
  /** Images only: the smaller copies there are (`display`: ≤ 1600 px, `thumb`: ≤ 320 px). */
  variants?: string[];
}

export type FileVariant = 'display' | 'thumb';

/** A file of React Native (an image picker's or document picker's result). */
export interface NativeFile {
  uri: string;
  name: string;
  type: string;
}

export interface UploadOptions {
  /** The server (`https://chat.example.org`); `''` for the page's own origin. */
  baseUrl: string;
  /** The room (or `dm:…` conversation) the file will be shared in. */
  room: string;
  file: Blob | NativeFile;
  /** The file name to send (default: the File's or NativeFile's own, else "file"). */
  name?: string;
  /** A signed-in person's access token (AccountClient.accessToken()). */
  token?: string | null;
  /** A guest: exactly the name and client_key it joined the room with. */
  guest?: { username: string; clientKey: string };
  /** Bytes sent so far, of `total`. */
  onProgress?: (sent: number, total: number) => void;
  /** Aborting it cancels the upload (the promise rejects with code `aborted`). */
  signal?: AbortSignal;
  /** Makes the request object (tests; default `new XMLHttpRequest()`). */
  xhr?: () => XMLHttpRequest;
}

type Json = Record<string, any>;

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** The URL of a file (the full file), or of one of an image's variants. */
export function fileUrl(baseUrl: string, id: string, variant?: FileVariant): string {
  const base = `${trimBase(baseUrl)}/api/v1/files/${encodeURIComponent(id)}`;
  return variant ? `${base}/${variant}` : base;
}

/** True for an image the server decoded (it has a thumbnail and a display copy). */
export function isImage(entry: Pick<FileEntry, 'kind'> | null | undefined): boolean {
  return !!entry && entry.kind === 'image';
}

/** The variant to show for an image: `variant` when the server has it, else the original. */
export function variantOf(entry: FileEntry, variant: FileVariant): FileVariant | undefined {
  return entry.variants?.includes(variant) ? variant : undefined;
}

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB'] as const;

/**
 * A size for people: `512 B`, `1.5 KB`, `12 MB` (units of 1024; one decimal below 10).
 * `units` and `decimal` translate it (French: `['o', 'Ko', 'Mo', 'Go']`, `','`).
 */
export function formatSize(bytes: number, options: { units?: readonly string[]; decimal?: string } = {}): string {
  const units = options.units && options.units.length >= 4 ? options.units : SIZE_UNITS;
  let value = Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  let text: string;
  if (unit === 0) text = String(Math.round(value));
  // One decimal below 10 (9.96 rounds to "10"), none above.
  else if (value < 10) text = (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, '');
  else text = String(Math.round(value));
  if (options.decimal) text = text.replace('.', options.decimal);
  return `${text} ${units[unit]}`;
}

/** A file entry as the server sent it, or null when it is not one. */
export function parseFileEntry(raw: unknown): FileEntry | null {
  if (!raw || typeof raw !== 'object') return null;
  const json = raw as Json;
  if (typeof json.id !== 'string' || !PATTERNS.fileId.test(json.id)) return null;
  const entry: FileEntry = {
    id: json.id,
    name: typeof json.name === 'string' ? json.name : 'file',
    size: Number.isFinite(Number(json.size)) ? Number(json.size) : 0,
    type: typeof json.type === 'string' ? json.type : 'application/octet-stream',
    kind: json.kind === 'image' ? 'image' : 'file',
  };
  if (Number.isFinite(json.width) && Number(json.width) > 0) entry.width = Number(json.width);
  if (Number.isFinite(json.height) && Number(json.height) > 0) entry.height = Number(json.height);
  if (Array.isArray(json.variants)) entry.variants = json.variants.filter((v: unknown): v is string => typeof v === 'string');
  return entry;
}

/** A message's `files` list: the well-formed entries only. */
export function filesOf(raw: unknown): FileEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(parseFileEntry).filter((entry): entry is FileEntry => entry !== null);
}

/** The files part of `send_message`: null when fine, else the server's error text. */
export function filesError(files: readonly { id: string }[]): string | null {
  const ok = files.length >= 1 && files.length <= FILES_PER_MESSAGE && files.every((f) => f && typeof f.id === 'string' && PATTERNS.fileId.test(f.id));
  return ok ? null : ERRORS.files.replace('{max}', String(FILES_PER_MESSAGE));
}

function isNativeFile(file: unknown): file is NativeFile {
  return !!file && typeof file === 'object' && typeof (file as NativeFile).uri === 'string';
}

function fileSize(file: Blob | NativeFile): number {
  return isNativeFile(file) ? 0 : (file as Blob).size;
}

function errorOf(status: number, body: unknown, retryAfterHeader: string | null): ApiError {
  let json: Json = {};
  if (typeof body === 'string' && body) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object') json = parsed as Json;
    } catch {
      json = {};
    }
  } else if (body && typeof body === 'object') json = body as Json;
  const retryAfter =
    retryAfterHeader != null && retryAfterHeader !== '' && Number.isFinite(Number(retryAfterHeader)) ? Number(retryAfterHeader) : undefined;
  const fallbackCode = status === 413 ? 'too_large' : status === 415 ? 'unsupported_type' : status === 429 ? 'rate_limited' : status >= 500 ? 'unavailable' : 'http_error';
  const message = typeof json.error === 'string' ? json.error : `The server answered ${status}`;
  const code = typeof json.code === 'string' ? json.code : fallbackCode;
  return new ApiError(status, code, message, retryAfter, Array.isArray(json.details) ? json.details : undefined);
}

/** True for the rejection of an upload that was cancelled (its signal aborted). */
export function isAbortError(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'aborted';
}

/**
 * Upload one file to be shared in `room`; resolves with its entry (send its id in a
 * message within 24 h). Rejects with an ApiError: the server's refusal (413 too_large,
 * 415 unsupported_type, 429 rate_limited with retryAfter, …; `message` is its text to
 * show), status 0 `network_error`, or status 0 `aborted` when `signal` aborted.
 */
export function uploadFile(options: UploadOptions): Promise<FileEntry> {
  return new Promise<FileEntry>((resolve, reject) => {
    const { signal } = options;
    const aborted = () => new ApiError(0, 'aborted', 'The upload was cancelled');
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const make = options.xhr ?? (() => new XMLHttpRequest());
    const xhr = make();
    const form = new FormData();
    form.append('room', options.room);
    if (options.guest) {
      form.append('username', options.guest.username);
      form.append('client_key', options.guest.clientKey);
    }
    const file = options.file;
    if (isNativeFile(file)) {
      // React Native's FormData sends this part as the file at `uri`.
      form.append('file', { uri: file.uri, name: options.name ?? file.name, type: file.type } as unknown as Blob);
    } else {
      const own = (file as Blob & { name?: unknown }).name;
      form.append('file', file, options.name ?? (typeof own === 'string' && own ? own : 'file'));
    }
    let settled = false;
    const onAbort = () => xhr.abort();
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      action();
    };
    xhr.open('POST', `${trimBase(options.baseUrl)}/api/v1/uploads`);
    xhr.setRequestHeader('Accept', 'application/json');
    if (options.token) xhr.setRequestHeader('Authorization', `Bearer ${options.token}`);
    const total = fileSize(file);
    if (options.onProgress && xhr.upload) {
      const onProgress = options.onProgress;
      xhr.upload.onprogress = (event: ProgressEvent) => {
        onProgress(event.loaded, event.lengthComputable && event.total > 0 ? event.total : total);
      };
    }
    xhr.onload = () => {
      const body: unknown = xhr.responseType === 'json' ? xhr.response : xhr.responseText;
      if (xhr.status >= 200 && xhr.status < 300) {
        let parsed: unknown = body;
        if (typeof body === 'string') {
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = null;
          }
        }
        const entry = parseFileEntry(parsed);
        finish(() => (entry ? resolve(entry) : reject(new ApiError(502, 'unavailable', 'The server sent no file'))));
        return;
      }
      finish(() => reject(errorOf(xhr.status, body, xhr.getResponseHeader('Retry-After'))));
    };
    xhr.onerror = () => finish(() => reject(new ApiError(0, 'network_error', 'Could not reach the server')));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => finish(() => reject(aborted()));
    signal?.addEventListener('abort', onAbort);
    xhr.send(form);
  });
}

/**
 * A file's bytes, with the access token (a private conversation's files need it): the web
 * UI shows them as `blob:` URLs. Rejects with an ApiError (404 not_found, 401, network).
 */
export async function fetchFile(options: {
  baseUrl: string;
  id: string;
  variant?: FileVariant;
  token?: string | null;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<Blob> {
  const fetcher = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch?.bind(globalThis);
  if (!fetcher) throw new Error('fetchFile needs fetch (pass the `fetch` option)');
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const init: RequestInit = { headers };
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetcher(fileUrl(options.baseUrl, options.id, options.variant), init);
  } catch {
    if (options.signal?.aborted) throw new ApiError(0, 'aborted', 'The download was cancelled');
    throw new ApiError(0, 'network_error', 'Could not reach the server');
  }
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw errorOf(response.status, body, response.headers?.get?.('Retry-After') ?? null);
  }
  return response.blob();
}

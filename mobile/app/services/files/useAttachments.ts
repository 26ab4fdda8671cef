/**
 * The pictures waiting in the composer: each is uploaded as soon as it is picked (with its
 * progress, and a cancel that aborts the request), and the message shares the uploaded ones.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbortError, type FileEntry } from '@talkrooms/client';

import type { PickedFile } from './pickers';
import { uploadErrorText } from './errors';

export interface PendingAttachment {
  key: string;
  file: PickedFile;
  status: 'uploading' | 'ready' | 'failed';
  /** 0..1 while uploading. */
  progress: number;
  /** Once uploaded: what the server stored (its id goes in the message). */
  entry?: FileEntry;
  /** The server's refusal (or "cannot reach the server"), in words to show. */
  error?: string;
}

/** Uploads one file; rejects with the core's ApiError (code `aborted` once `signal` aborted). */
export type Uploader = (file: PickedFile, onProgress: (fraction: number) => void, signal: AbortSignal) => Promise<FileEntry>;

let counter = 0;

export function useAttachments(upload: Uploader) {
  const [attachments, setAttachments] = useState<PendingAttachment[]>([]);
  const controllers = useRef(new Map<string, AbortController>());

  const update = useCallback((key: string, patch: Partial<PendingAttachment>) => {
    setAttachments((list) => list.map((a) => (a.key === key ? { ...a, ...patch } : a)));
  }, []);

  const add = useCallback(
    (files: PickedFile[]) => {
      for (const file of files) {
        counter += 1;
        const key = `att-${counter}`;
        const controller = new AbortController();
        controllers.current.set(key, controller);
        setAttachments((list) => [...list, { key, file, status: 'uploading', progress: 0 }]);
        upload(file, (fraction) => update(key, { progress: Math.max(0, Math.min(1, fraction)) }), controller.signal).then(
          (entry) => {
            controllers.current.delete(key);
            update(key, { status: 'ready', progress: 1, entry });
          },
          (error: unknown) => {
            controllers.current.delete(key);
            // Cancelled: it left the tray already.
            if (isAbortError(error) || controller.signal.aborted) return;
            update(key, { status: 'failed', error: uploadErrorText(error) });
          },
        );
      }
    },
    [upload, update],
  );

  /** Cancel an upload under way, or take a picture out of the message. */
  const remove = useCallback((key: string) => {
    controllers.current.get(key)?.abort();
    controllers.current.delete(key);
    setAttachments((list) => list.filter((a) => a.key !== key));
  }, []);

  /** Empty the tray, cancelling what is still uploading (another room shown, the chat closed). */
  const clear = useCallback(() => {
    for (const controller of controllers.current.values()) controller.abort();
    controllers.current.clear();
    setAttachments([]);
  }, []);

  // Uploads do not outlive the screen.
  useEffect(() => {
    const map = controllers.current;
    return () => {
      for (const controller of map.values()) controller.abort();
      map.clear();
    };
  }, []);

  const ready = attachments.filter((a) => a.status === 'ready' && a.entry).map((a) => a.entry as FileEntry);
  const uploading = attachments.some((a) => a.status === 'uploading');
  return { attachments, add, remove, clear, ready, uploading };
}

/**
 * Where a shared file is read from. A public room's files need nothing; a private
 * conversation's need the access token: the native Image sends it as a header, but the web
 * export's <img> cannot, so there the bytes are fetched with it and shown as a blob: URL.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Platform, type ImageURISource } from 'react-native';
import { fetchFile, fileUrl, variantOf, type FileEntry, type FileVariant } from '@talkrooms/client';

/** How many times a picture that failed to load is asked for again, and the first delay. */
const RETRIES = 4;
const RETRY_BASE_MS = 500;

/**
 * A picture that failed to load is asked for again a few times (backing off): the file of a
 * message just sent can be answered 404 for a moment. `attempt` goes in the Image's `key`,
 * which mounts it again (the web's Image never retries a source by itself).
 */
export function useLoadRetry(): { attempt: number; onError: () => void } {
  const [attempt, setAttempt] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const onError = useCallback(() => {
    if (attempt >= RETRIES || timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      setAttempt((n) => n + 1);
    }, RETRY_BASE_MS * 2 ** attempt);
  }, [attempt]);
  return { attempt, onError };
}

export interface FileAccess {
  baseUrl: string;
  /** A private conversation: the access token its files need; null otherwise. */
  token: string | null;
}

/** The Image source of an image's `variant` (the original when the server has no such copy). */
export function imageSource(access: FileAccess, entry: FileEntry, variant: FileVariant): ImageURISource {
  const uri = fileUrl(access.baseUrl, entry.id, variantOf(entry, variant));
  return access.token ? { uri, headers: { Authorization: `Bearer ${access.token}` } } : { uri };
}

/**
 * `imageSource`, except on the web with a token, where it is a blob: URL once fetched
 * (null until then, or when the file could not be read).
 */
export function useImageSource(access: FileAccess, entry: FileEntry, variant: FileVariant): ImageURISource | null {
  const needsFetch = Platform.OS === 'web' && !!access.token;
  const [blobUri, setBlobUri] = useState<string | null>(null);
  const { baseUrl, token } = access;
  const { id } = entry;
  const chosen = variantOf(entry, variant);

  useEffect(() => {
    if (!needsFetch) return undefined;
    let url: string | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const controller = new AbortController();
    const load = (tries: number) => {
      fetchFile({ baseUrl, id, variant: chosen, token, signal: controller.signal }).then(
        (blob) => {
          url = URL.createObjectURL(blob);
          setBlobUri(url);
        },
        () => {
          if (controller.signal.aborted || tries >= RETRIES) return;
          timer = setTimeout(() => load(tries + 1), RETRY_BASE_MS * 2 ** tries);
        },
      );
    };
    load(0);
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
      if (url) URL.revokeObjectURL(url);
    };
  }, [needsFetch, baseUrl, id, chosen, token]);

  if (!needsFetch) return imageSource(access, entry, variant);
  return blobUri ? { uri: blobUri } : null;
}

import { ApiError } from '@talkrooms/client';

import { thumbnailSize, sizeText } from '../../components/MessageFiles';
import { setLanguage } from '../../i18n';
import { uploadErrorText } from './errors';
import { imageSource } from './fileSource';
import { toPickedFile } from './pickers';

afterEach(() => setLanguage('en'));

describe('picked pictures', () => {
  it('keeps the name, type and size the picker gave', () => {
    expect(
      toPickedFile({ uri: 'file:///a.png', width: 10, height: 20, fileName: 'a.png', mimeType: 'image/png', fileSize: 99 }),
    ).toEqual({ uri: 'file:///a.png', name: 'a.png', type: 'image/png', size: 99, width: 10, height: 20 });
  });

  it('names a camera shot and guesses a missing type from the name', () => {
    expect(toPickedFile({ uri: 'file:///x', width: 1, height: 1 }).name).toMatch(/^photo-\d+\.jpg$/);
    expect(toPickedFile({ uri: 'file:///x', width: 1, height: 1, fileName: 'b.webp' }).type).toBe('image/webp');
    expect(toPickedFile({ uri: 'file:///x', width: 1, height: 1, fileName: 'c.JPEG' }).type).toBe('image/jpeg');
  });

  it('keeps the browser’s File on the web (FormData cannot read a blob: URL)', () => {
    const file = new Blob(['x'], { type: 'image/gif' }) as File;
    expect(toPickedFile({ uri: 'blob:http://x/1', width: 1, height: 1, fileName: 'd.gif', mimeType: 'image/gif', file }).blob).toBe(file);
  });
});

describe('refused uploads', () => {
  it('shows the server’s text in English, a translation of its code in French', () => {
    const refusal = new ApiError(429, 'rate_limited', 'Too many uploads: at most 20 a minute');
    expect(uploadErrorText(refusal)).toBe('Too many uploads: at most 20 a minute');
    setLanguage('fr');
    expect(uploadErrorText(refusal)).toBe("Trop d'envois : réessayez dans un instant.");
    expect(uploadErrorText(new ApiError(413, 'room_quota', 'This room is full'))).toBe("Cette room n'a plus de place pour les fichiers.");
    expect(uploadErrorText(new ApiError(418, 'teapot', 'I am a teapot'))).toBe('I am a teapot');
  });

  it('says when the server could not be reached', () => {
    expect(uploadErrorText(new ApiError(0, 'network_error', 'Could not reach the server'))).toBe(
      'Cannot reach the server. Check your connection.',
    );
    expect(uploadErrorText(new Error('boom'))).toBe('Cannot reach the server. Check your connection.');
  });
});

describe('shared files on screen', () => {
  const photo = { id: 'a'.repeat(32), name: 'p.jpg', size: 1, type: 'image/jpeg', kind: 'image' as const, width: 400, height: 1600, variants: ['thumb'] };

  it('sizes a thumbnail by the picture’s shape, never enlarged', () => {
    expect(thumbnailSize({ width: 400, height: 1600 })).toEqual({ width: 55, height: 220 });
    expect(thumbnailSize({ width: 100, height: 80 })).toEqual({ width: 100, height: 80 });
    expect(thumbnailSize({})).toEqual({ width: 220, height: 165 });
  });

  it('reads a variant the server has, else the original; with the token in a private conversation', () => {
    const access = { baseUrl: 'https://chat.test/', token: null };
    expect(imageSource(access, photo, 'thumb')).toEqual({ uri: `https://chat.test/api/v1/files/${photo.id}/thumb` });
    expect(imageSource(access, photo, 'display')).toEqual({ uri: `https://chat.test/api/v1/files/${photo.id}` });
    expect(imageSource({ ...access, token: 'tok' }, photo, 'thumb')).toEqual({
      uri: `https://chat.test/api/v1/files/${photo.id}/thumb`,
      headers: { Authorization: 'Bearer tok' },
    });
  });

  it('writes sizes in the person’s language', () => {
    expect(sizeText(1536)).toBe('1.5 KB');
    setLanguage('fr');
    expect(sizeText(1536)).toBe('1,5 Ko');
  });
});

/**
 * The photo library and the camera (expo-image-picker) as the composer uses them: each
 * picked picture becomes a file the upload can send (on the web export, the browser's File
 * itself: FormData cannot read a blob: URL there).
 */
import * as ImagePicker from 'expo-image-picker';

import { Config } from '../../config';

/** A picture ready to upload, as the client core's uploadFile takes it (plus what the tray shows). */
export interface PickedFile {
  uri: string;
  name: string;
  type: string;
  size?: number;
  width?: number;
  height?: number;
  /** The web export: the File the browser picked. */
  blob?: Blob;
}

export type PickSource = 'library' | 'camera';

export type PickOutcome = { kind: 'picked'; files: PickedFile[] } | { kind: 'canceled' } | { kind: 'denied' };

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
};

function guessType(name: string | null | undefined): string {
  const extension = (name ?? '').toLowerCase().split('.').pop();
  const found = Object.entries(EXTENSIONS).find(([, ext]) => ext === extension || (ext === 'jpg' && extension === 'jpeg'));
  return found ? found[0] : 'image/jpeg';
}

/** One picked asset as an upload: a name and a type even when the platform gave none (camera shots). */
export function toPickedFile(asset: ImagePicker.ImagePickerAsset, index = 0): PickedFile {
  const type = asset.mimeType || guessType(asset.fileName);
  const name = asset.fileName || `photo-${Date.now()}${index ? `-${index}` : ''}.${EXTENSIONS[type] ?? 'jpg'}`;
  const file: PickedFile = { uri: asset.uri, name, type };
  if (asset.fileSize) file.size = asset.fileSize;
  if (asset.width && asset.height) {
    file.width = asset.width;
    file.height = asset.height;
  }
  if (asset.file) file.blob = asset.file;
  return file;
}

/**
 * Pictures from the library (several at once, up to what a message may carry) or one photo
 * from the camera, which asks for its permission first. The server re-encodes every image,
 * so the picker's own quality only keeps camera shots well under the size limit.
 */
export async function pickPictures(source: PickSource, limit: number = Config.filesPerMessage): Promise<PickOutcome> {
  const options: ImagePicker.ImagePickerOptions = { mediaTypes: ['images'], quality: 0.85 };
  let result: ImagePicker.ImagePickerResult;
  if (source === 'camera') {
    const permission = await ImagePicker.requestCameraPermissionsAsync();
    if (!permission.granted) return { kind: 'denied' };
    result = await ImagePicker.launchCameraAsync(options);
  } else {
    result = await ImagePicker.launchImageLibraryAsync({
      ...options,
      allowsMultipleSelection: limit > 1,
      selectionLimit: Math.max(1, limit),
    });
  }
  if (result.canceled || !result.assets?.length) return { kind: 'canceled' };
  return { kind: 'picked', files: result.assets.slice(0, Math.max(1, limit)).map(toPickedFile) };
}

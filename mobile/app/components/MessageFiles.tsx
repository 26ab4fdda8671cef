import { Image, Linking, Platform, Pressable, StyleSheet, Text, View } from 'react-native';
import { fetchFile, formatSize, isImage, fileUrl, type FileEntry } from '@talkrooms/client';

import { Config } from '../config';
import { format, getLanguage, strings } from '../i18n';
import { useImageSource, useLoadRetry, type FileAccess } from '../services/files/fileSource';
import { radius, spacing, type ThemeColors } from '../theme';

/** How the timeline reads and opens shared files. */
export interface FilesHandlers {
  access: FileAccess;
  /** A tap on a picture: the full-screen viewer. */
  onOpenImage: (entry: FileEntry) => void;
  /** Opening a file failed (no app for it, say). */
  onOpenFailed?: () => void;
}

/** A size in the person's language ("1,5 Mo" in French). */
export function sizeText(bytes: number): string {
  return getLanguage() === 'fr' ? formatSize(bytes, { units: ['o', 'Ko', 'Mo', 'Go'], decimal: ',' }) : formatSize(bytes);
}

/** A thumbnail's size on screen: the picture's shape within a square of `max` px, never enlarged. */
export function thumbnailSize(entry: Pick<FileEntry, 'width' | 'height'>, max: number = Config.thumbnailMax) {
  const { width, height } = entry;
  if (!width || !height) return { width: max, height: Math.round(max * 0.75) };
  const scale = Math.min(1, max / width, max / height);
  return { width: Math.max(48, Math.round(width * scale)), height: Math.max(48, Math.round(height * scale)) };
}

interface MessageFilesProps {
  files: FileEntry[];
  own: boolean;
  /** A message not stored yet: its files cannot be read before it is (placeholders). */
  pending?: boolean;
  colors: ThemeColors;
  handlers: FilesHandlers;
}

/** The files a message shares: pictures as thumbnails (a tap opens them), others as cards. */
export function MessageFiles({ files, own, pending, colors, handlers }: MessageFilesProps) {
  return (
    <View style={[styles.list, own ? styles.own : styles.other]}>
      {files.map((entry) =>
        isImage(entry) ? (
          pending ? (
            <Placeholder key={entry.id} entry={entry} colors={colors} />
          ) : (
            <Thumbnail key={entry.id} entry={entry} colors={colors} handlers={handlers} />
          )
        ) : (
          <FileCard key={entry.id} entry={entry} own={own} colors={colors} handlers={handlers} />
        ),
      )}
    </View>
  );
}

/** A picture of a message on its way: its size and name until the server keeps it. */
function Placeholder({ entry, colors }: { entry: FileEntry; colors: ThemeColors }) {
  return (
    <View
      testID={`file-image-${entry.id}`}
      accessible
      accessibilityLabel={format(strings().files.image, { name: entry.name })}
      style={[styles.thumb, styles.placeholder, thumbnailSize(entry), { backgroundColor: colors.border }]}
    >
      <Text numberOfLines={2} style={[styles.placeholderText, { color: colors.textMuted }]}>
        {entry.name}
      </Text>
    </View>
  );
}

function Thumbnail({ entry, colors, handlers }: { entry: FileEntry; colors: ThemeColors; handlers: FilesHandlers }) {
  const t = strings().files;
  const source = useImageSource(handlers.access, entry, 'thumb');
  const { attempt, onError } = useLoadRetry();
  const size = thumbnailSize(entry);
  return (
    <Pressable
      testID={`file-image-${entry.id}`}
      accessibilityRole="imagebutton"
      accessibilityLabel={format(t.image, { name: entry.name })}
      accessibilityHint={t.imageHint}
      onPress={() => handlers.onOpenImage(entry)}
      style={[styles.thumb, size, { backgroundColor: colors.border }]}
    >
      {source ? (
        <Image key={attempt} testID={`file-thumb-${entry.id}`} source={source} style={size} resizeMode="cover" onError={onError} />
      ) : null}
    </Pressable>
  );
}

/** A file's extension as its card's badge ("PDF"); "FILE" when it has none. */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1) : '';
  return extension && extension.length <= 4 ? extension.toUpperCase() : 'FILE';
}

function FileCard({ entry, own, colors, handlers }: { entry: FileEntry; own: boolean; colors: ThemeColors; handlers: FilesHandlers }) {
  const t = strings().files;
  const size = sizeText(entry.size);
  const { baseUrl, token } = handlers.access;
  const open = () => {
    if (token && Platform.OS === 'web') {
      // A private conversation's file needs the token, which a link cannot carry: the web
      // export downloads it with the token and saves it under its name.
      fetchFile({ baseUrl, id: entry.id, token }).then((blob) => {
        const url = URL.createObjectURL(blob);
        const link = document.createElement('a');
        link.href = url;
        link.download = entry.name;
        link.click();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      }, () => handlers.onOpenFailed?.());
      return;
    }
    Linking.openURL(fileUrl(baseUrl, entry.id)).catch(() => handlers.onOpenFailed?.());
  };
  return (
    <Pressable
      testID={`file-card-${entry.id}`}
      accessibilityRole="link"
      accessibilityLabel={format(t.file, { name: entry.name, size })}
      accessibilityHint={t.fileHint}
      onPress={open}
      style={[
        styles.card,
        { backgroundColor: own ? colors.ownBubble : colors.otherBubble, borderColor: colors.border },
      ]}
    >
      <View style={[styles.cardIcon, { backgroundColor: colors.header }]}>
        <Text numberOfLines={1} style={[styles.cardIconText, { color: colors.headerText }]}>
          {extensionOf(entry.name)}
        </Text>
      </View>
      <View style={styles.cardText}>
        <Text numberOfLines={1} style={[styles.cardName, { color: own ? colors.ownText : colors.otherText }]}>
          {entry.name}
        </Text>
        <Text style={[styles.cardSize, { color: own ? colors.ownText : colors.textMuted }]}>{size}</Text>
      </View>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  list: { marginTop: spacing.xs, gap: spacing.xs },
  own: { alignItems: 'flex-end' },
  other: { alignItems: 'flex-start' },
  thumb: { borderRadius: radius.md, overflow: 'hidden' },
  placeholder: { alignItems: 'center', justifyContent: 'center', padding: spacing.sm },
  placeholderText: { fontSize: 12, textAlign: 'center' },
  card: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.sm,
    borderRadius: radius.md,
    borderWidth: StyleSheet.hairlineWidth,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    maxWidth: 260,
  },
  cardIcon: { width: 36, height: 36, borderRadius: radius.sm, alignItems: 'center', justifyContent: 'center' },
  cardIconText: { fontSize: 10, fontWeight: '700' },
  cardText: { flexShrink: 1 },
  cardName: { fontSize: 14, fontWeight: '600' },
  cardSize: { fontSize: 12, opacity: 0.8 },
});

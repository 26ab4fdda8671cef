import { Image, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import type { PickSource } from '../services/files/pickers';
import type { PendingAttachment } from '../services/files/useAttachments';
import { radius, spacing, type ThemeColors } from '../theme';
import { Sheet } from './Sheet';

const TILE = 64;

interface AttachmentTrayProps {
  attachments: PendingAttachment[];
  colors: ThemeColors;
  /** Cancel an upload under way, or take a picture out of the message. */
  onRemove: (key: string) => void;
}

/**
 * The pictures the next message shares, above the input: each with its upload's progress,
 * and × to cancel it (while uploading) or remove it; a refused one says why.
 */
export function AttachmentTray({ attachments, colors, onRemove }: AttachmentTrayProps) {
  const t = strings().files;
  const failed = attachments.filter((a) => a.status === 'failed');
  return (
    <View testID="chat-attachments" style={[styles.tray, { backgroundColor: colors.surface, borderTopColor: colors.border }]}>
      <ScrollView horizontal contentContainerStyle={styles.row} keyboardShouldPersistTaps="handled">
        {attachments.map((a, index) => {
          const percent = Math.round(a.progress * 100);
          let label = format(t.uploaded, { name: a.file.name });
          if (a.status === 'uploading') label = format(t.uploading, { name: a.file.name, percent });
          if (a.status === 'failed') label = format(t.failedItem, { name: a.file.name, error: a.error ?? '' });
          return (
            <View
              key={a.key}
              testID={`attachment-${index}`}
              accessible
              accessibilityLabel={label}
              style={[styles.tile, { borderColor: a.status === 'failed' ? colors.error : colors.border }]}
            >
              <Image source={{ uri: a.file.uri }} style={styles.image} resizeMode="cover" />
              {a.status === 'uploading' ? (
                <View style={styles.veil}>
                  <Text testID={`attachment-progress-${index}`} style={styles.percent}>
                    {percent}%
                  </Text>
                  <View style={styles.track}>
                    <View style={[styles.bar, { width: `${percent}%`, backgroundColor: colors.accent }]} />
                  </View>
                </View>
              ) : null}
              {a.status === 'failed' ? (
                <View style={styles.veil}>
                  <Text style={[styles.percent, { color: colors.error }]}>!</Text>
                </View>
              ) : null}
              <Pressable
                testID={`attachment-remove-${index}`}
                accessibilityRole="button"
                accessibilityLabel={format(a.status === 'uploading' ? t.cancelUpload : t.remove, { name: a.file.name })}
                onPress={() => onRemove(a.key)}
                hitSlop={8}
                style={styles.remove}
              >
                <Text style={styles.removeText}>×</Text>
              </Pressable>
            </View>
          );
        })}
      </ScrollView>
      {failed.map((a) => (
        <Text
          key={a.key}
          testID={`attachment-error-${attachments.indexOf(a)}`}
          accessibilityRole="alert"
          style={[styles.error, { color: colors.error }]}
        >
          {a.file.name}: {a.error}
        </Text>
      ))}
    </View>
  );
}

interface AttachMenuProps {
  colors: ThemeColors;
  onPick: (source: PickSource) => void;
  onClose: () => void;
}

/** What the attach button offers: the photo library or the camera. */
export function AttachMenu({ colors, onPick, onClose }: AttachMenuProps) {
  const t = strings().files;
  const items: { testID: string; label: string; onPress: () => void; color: string }[] = [
    { testID: 'attach-library', label: t.library, onPress: () => onPick('library'), color: colors.text },
    { testID: 'attach-camera', label: t.camera, onPress: () => onPick('camera'), color: colors.text },
    { testID: 'attach-cancel', label: t.cancel, onPress: onClose, color: colors.textMuted },
  ];
  return (
    <Sheet testID="attach-menu" label={t.attach} colors={colors} onClose={onClose}>
      {items.map((item) => (
        <Pressable
          key={item.testID}
          testID={item.testID}
          accessibilityRole="button"
          accessibilityLabel={item.label}
          onPress={item.onPress}
          style={styles.item}
        >
          <Text style={[styles.itemText, { color: item.color }]}>{item.label}</Text>
        </Pressable>
      ))}
    </Sheet>
  );
}

const styles = StyleSheet.create({
  tray: { borderTopWidth: StyleSheet.hairlineWidth, paddingVertical: spacing.xs },
  row: { paddingHorizontal: spacing.md, gap: spacing.sm },
  tile: { width: TILE, height: TILE, borderRadius: radius.sm, borderWidth: 1, overflow: 'hidden' },
  image: { width: '100%', height: '100%' },
  veil: {
    position: 'absolute',
    top: 0,
    left: 0,
    right: 0,
    bottom: 0,
    backgroundColor: 'rgba(0,0,0,0.45)',
    alignItems: 'center',
    justifyContent: 'center',
    paddingHorizontal: spacing.xs,
  },
  percent: { color: '#FFFFFF', fontSize: 12, fontWeight: '700' },
  track: { alignSelf: 'stretch', height: 3, marginTop: 4, backgroundColor: 'rgba(255,255,255,0.35)' },
  bar: { height: 3 },
  remove: {
    position: 'absolute',
    top: 2,
    right: 2,
    width: 20,
    height: 20,
    borderRadius: 10,
    backgroundColor: 'rgba(0,0,0,0.6)',
    alignItems: 'center',
    justifyContent: 'center',
  },
  removeText: { color: '#FFFFFF', fontSize: 14, lineHeight: 16 },
  error: { fontSize: 12, paddingHorizontal: spacing.md, paddingTop: spacing.xs },
  item: { paddingVertical: spacing.md },
  itemText: { fontSize: 16 },
});
